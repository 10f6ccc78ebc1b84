"""The engine's value types: what flows along the data path and into the journal.

Everything here is a plain frozen dataclass or a string enum with no behaviour beyond
conversions, so any layer (feed adapters, bar builder, indicators, journal) can share
them without importing each other. Market data: ``Tick`` (one trade print) and ``Bar``
(OHLCV over a ``Timeframe`` bucket), timestamps in UTC nanoseconds; data events such as
``GapDetected`` or ``BarRejected`` with ``DataIssue`` reason codes.
"""

from __future__ import annotations

from engine.model.enums import DataIssue, InstrumentKind, Timeframe
from engine.model.events import (
    BarDiscarded,
    BarFlagged,
    BarRejected,
    DataEvent,
    FeedResumed,
    GapDetected,
    GapOpened,
    TickRejected,
)
from engine.model.market import (
    IST_OFFSET_NS,
    NANOS,
    Bar,
    Tick,
    ist_date_of,
    make_bar,
    ns_to_datetime,
    to_ns,
)

__all__ = [
    "IST_OFFSET_NS",
    "NANOS",
    "Bar",
    "BarDiscarded",
    "BarFlagged",
    "BarRejected",
    "DataEvent",
    "DataIssue",
    "FeedResumed",
    "GapDetected",
    "GapOpened",
    "InstrumentKind",
    "Tick",
    "TickRejected",
    "Timeframe",
    "ist_date_of",
    "make_bar",
    "ns_to_datetime",
    "to_ns",
]
