"""``engine.ports.InstrumentSource`` over the instrument master, checked against the calendar.

Expiries, strike steps and weekly availability come from the calendar's dated facts, so
strike selection is the same as in a backtest; an expiry the master does not list is
dropped (it cannot be traded today) and logged. The contract itself comes from the
master: its trading symbol, token, lot size and tick size are what the exchange says
today. At start every lot size, tick size and strike step in the master is compared with
the calendar (``InstrumentMaster.cross_check``); each disagreement is logged and kept in
``mismatches``. A contract missing from the master is returned without a token (and
logged): the broker then refuses to send it rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from adapters.smartapi.instruments import FactMismatch, InstrumentMaster
from adapters.smartapi.redact import adapter_logger
from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.trading import Instrument, OptionKind
from engine.ports import ExpiryInfo

__all__ = ["MasterInstruments"]

log = adapter_logger("instruments")


class MasterInstruments:
    """See the module docstring."""

    def __init__(self, master: InstrumentMaster, calendar: Calendar, on: date) -> None:
        self.master = master
        self.calendar = calendar
        self._base = CalendarInstruments(calendar)
        self.mismatches: list[FactMismatch] = master.cross_check(calendar, on)
        self._missing: set[tuple[str, date]] = set()

    def expiries(self, underlying: str, on: date) -> Sequence[ExpiryInfo]:
        listed = set(self.master.expiries(underlying))
        out = []
        for e in self._base.expiries(underlying, on):
            if e.date in listed:
                out.append(e)
            elif (underlying, e.date) not in self._missing:
                self._missing.add((underlying, e.date))
                log.warning("calendar expiry {} of {} is not in the instrument master; skipped",
                            e.date, underlying)  # fmt: skip
        return out

    def strike_step(self, underlying: str, on: date) -> int:
        return self._base.strike_step(underlying, on)

    def weekly_available(self, underlying: str, on: date) -> bool:
        return self._base.weekly_available(underlying, on)

    def option(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind, on: date
    ) -> Instrument:
        facts = self._base.option(underlying, expiry, strike, kind, on)
        row = self.master.option(underlying, expiry, strike, kind.value)
        if row is None:
            log.warning("{} is not in the instrument master: it cannot be ordered", facts.symbol)
            return facts
        return Instrument(
            symbol=row.symbol,
            underlying=underlying,
            expiry=expiry,
            strike=strike,
            kind=kind,
            lot_size=row.lot_size,
            tick_size=row.tick_size,
            freeze_qty=facts.freeze_qty,
            token=row.token,
            exchange=row.exchange or "NFO",
        )
