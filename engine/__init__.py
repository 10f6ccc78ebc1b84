"""A declarative rule and state-machine engine for NSE options trading.

The core (this package) knows nothing of brokers or networks: strategies are YAML
rules, safety logic is YAML state machines, and adapters implement ``engine.ports``.
"""

from loguru import logger as _logger

__version__ = "0.1.0"
__all__ = ["__version__"]

# Library manners: the CLI adds sinks; importing the engine never prints.
_logger.disable("engine")
