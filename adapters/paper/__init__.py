"""The paper broker: orders filled against the prices the core sees, by one documented table.

``PaperBroker`` implements ``engine.ports.Broker``; ``FillModel`` is the fill table, the
same in backtests, paper replays and the SmartAPI simulator, so a trade fills the same
way in each (see docs/backtesting.md).
"""

from adapters.paper.broker import PaperBroker
from adapters.paper.fills import FillModel

__all__ = ["FillModel", "PaperBroker"]
