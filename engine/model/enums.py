"""Enumerations of the market-data model whose values double as file and journal strings.

Values are stable lowercase strings: they appear in JSONL file names (``1m.jsonl``), in
validation reports and in the journal, so renaming one is a data migration.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DataIssue", "InstrumentKind", "Timeframe"]


class Timeframe(StrEnum):
    """A bar length. Intraday bars are anchored at the session (segment) open."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        """Nominal length in seconds (a day for ``1d``; a session is shorter)."""
        return _SECONDS[self]

    @property
    def nanos(self) -> int:
        return _SECONDS[self] * 1_000_000_000

    @property
    def is_intraday(self) -> bool:
        return self is not Timeframe.D1

    @property
    def context_name(self) -> str:
        """The namespace rules use for bars of this length: ``m1``, ``h1``, ``daily``."""
        return _CONTEXT[self]

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """``"1m"``, ``"5min"``, ``"60m"``, ``"1h"``, ``"daily"``...; ValueError otherwise."""
        key = text.strip().lower()
        found = _ALIASES.get(key)
        if found is None:
            valid = ", ".join(t.value for t in cls)
            raise ValueError(f"'{text}' is not a timeframe; expected one of {valid} (or 'daily')")
        return found


_SECONDS = {
    Timeframe.M1: 60,
    Timeframe.M5: 300,
    Timeframe.M15: 900,
    Timeframe.H1: 3600,
    Timeframe.D1: 86400,
}
_CONTEXT = {
    Timeframe.M1: "m1",
    Timeframe.M5: "m5",
    Timeframe.M15: "m15",
    Timeframe.H1: "h1",
    Timeframe.D1: "daily",
}
_ALIASES: dict[str, Timeframe] = {}
for _tf, _names in {
    Timeframe.M1: ("1m", "1min", "m1", "minute", "1minute"),
    Timeframe.M5: ("5m", "5min", "m5", "5minute"),
    Timeframe.M15: ("15m", "15min", "m15", "15minute"),
    Timeframe.H1: ("1h", "60m", "60min", "h1", "hour", "60minute"),
    Timeframe.D1: ("1d", "d", "d1", "day", "daily"),
}.items():
    for _name in _names:
        _ALIASES[_name] = _tf


class InstrumentKind(StrEnum):
    """What a price series is; option premiums are never interpolated."""

    INDEX = "index"
    FUTURE = "future"
    OPTION = "option"
    EQUITY = "equity"


class DataIssue(StrEnum):
    """Why a tick or bar was rejected, flagged or discarded (the validation reason codes)."""

    BAD_ROW = "bad_row"  # a file row that could not be parsed
    OHLC_INVALID = "ohlc_invalid"  # high < max(open, close), low > min(open, close) or high < low
    OHLC_OFF_BY_TICK = "ohlc_off_by_tick"  # the same, but within the configured tolerance
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_VOLUME = "negative_volume"
    DUPLICATE = "duplicate"  # same start time as the previous accepted bar
    OUT_OF_ORDER = "out_of_order"  # earlier than the previous accepted bar
    OUTSIDE_SESSION = "outside_session"  # not inside a trading part of the day's session
    MISALIGNED = "misaligned"  # an intraday bar whose start is not on the session grid
    OUTLIER = "outlier"  # beyond the rolling sigma band
    LATE_TICK = "late_tick"  # a tick for a minute whose bar was already closed
    INTERNAL_GAP = "internal_gap"  # an aggregated bar with a hole over the limit in its data
    INCOMPLETE = "incomplete"  # an aggregated bar whose end the data never reached
