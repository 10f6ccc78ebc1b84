"""Option contracts from the calendar's dated contract facts: the backtest's instrument source.

When no broker instrument master is at hand (backtests, offline paper replays), a
contract is what NSE's dated facts say it was on that date: expiries from the expiry
rules, the strike step, the lot size of the contract's expiry (lot sizes follow the
contract, not the trade date), the option tick size and the freeze quantity. Symbols
follow the broker's pattern ``<NAME><DD><MMM><YY><STRIKE><CE|PE>``
(``NIFTY28NOV2423500CE``), so journals from backtests and live runs name contracts alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache

from engine.data.calendar import Calendar
from engine.errors import CalendarError
from engine.model.trading import Instrument, OptionKind
from engine.ports import ExpiryInfo

__all__ = ["CalendarInstruments", "option_symbol"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def option_symbol(underlying: str, expiry: date, strike: int, kind: OptionKind | str) -> str:
    """``NIFTY28NOV2423500CE``: the broker's trading symbol of an index option."""
    month = _MONTHS[expiry.month - 1]
    return f"{underlying}{expiry.day:02d}{month}{expiry.year % 100:02d}{strike}{kind}"


class CalendarInstruments:
    """``engine.ports.InstrumentSource`` over the calendar's contract facts."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar

    def expiries(self, underlying: str, on: date) -> Sequence[ExpiryInfo]:
        return self._expiries(underlying, on)

    @lru_cache(maxsize=512)  # noqa: B019 - one calendar per source, kept for the run
    def _expiries(self, underlying: str, on: date) -> tuple[ExpiryInfo, ...]:
        found = self.calendar.expiries(underlying, on, count=None)
        return tuple(ExpiryInfo(e.date, e.kind) for e in found[:6])

    def strike_step(self, underlying: str, on: date) -> int:
        return self.calendar.strike_interval(underlying, on)

    def weekly_available(self, underlying: str, on: date) -> bool:
        fact = self.calendar.fact(underlying, "weekly_expiry_available", on)
        if fact is not None:
            return fact.value == "true"
        try:
            found = self.calendar.expiries(underlying, on, kind="weekly", count=1)
        except CalendarError:
            return False
        return bool(found)

    def option(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind, on: date
    ) -> Instrument:
        calendar = self.calendar
        try:
            freeze: int | None = calendar.freeze_qty(underlying, on)
        except CalendarError:
            freeze = None
        return Instrument(
            symbol=option_symbol(underlying, expiry, strike, kind),
            underlying=underlying,
            expiry=expiry,
            strike=strike,
            kind=kind,
            lot_size=calendar.lot_size(underlying, expiry),
            tick_size=Decimal(calendar.tick_size(underlying, on)),
            freeze_qty=freeze,
        )
