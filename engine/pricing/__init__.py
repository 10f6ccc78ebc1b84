"""Option prices for backtests: Black-Scholes with India VIX, and real option bars.

Import the module you need: ``from engine.pricing.premiums import BlackScholesPremiums``.
"""

__all__: list[str] = []
