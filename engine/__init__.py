"""A declarative rule and state-machine engine for NSE options trading.

The core (this package) knows nothing of brokers or networks: strategies are YAML
rules, safety logic is YAML state machines, and adapters implement ``engine.ports``.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

# Library manners: the engine logs through ``engine.logs``, which leaves the engine
# disabled in loguru until the command line (or the user) enables it.
