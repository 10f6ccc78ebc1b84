"""Reading real option bars: one row per contract and minute, prices kept exact.

The general bar reader (``engine.data.csv_import``) reads such a file as bars per trading
symbol, but drops what a premium lookup needs: the contract's expiry, strike and type.
This reader keeps them. Layout (header names, any order, extra columns ignored)::

    ts,symbol,contract,strike,type,open,high,low,close,volume
    2023-06-05T09:15:00+05:30,NIFTY23JUN18600CE,2023-06 monthly,18600,CE,240.00,...

``contract`` is either the expiry date (``2023-06-28``) or a label such as ``2023-06
monthly``; a label is resolved through ``expiries`` (label -> date) or, for a monthly
label, the calendar's monthly expiry of that month. The underlying is the symbol's
leading letters (``NIFTY23JUN18600CE`` -> ``NIFTY``). A row that cannot be read raises
``DataError`` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import CalendarError, DataError
from engine.model.market import to_ns

if TYPE_CHECKING:
    from engine.data.calendar import Calendar

__all__ = ["OptionBar", "read_option_bars"]

_REQUIRED = ("ts", "symbol", "contract", "strike", "type", "open", "high", "low", "close")
_UNDERLYING = re.compile(r"[A-Z&-]+")
_MONTH_LABEL = re.compile(r"(\d{4})-(\d{2}) monthly")


@dataclass(frozen=True, slots=True)
class OptionBar:
    """One bar of one option contract; ``ts_ns`` is the bar's start (UTC ns)."""

    ts_ns: int
    underlying: str
    symbol: str
    expiry: date
    strike: Decimal
    kind: str  # "CE" | "PE"
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}")


def read_option_bars(
    path: str | Path,
    *,
    expiries: Mapping[str, date] | None = None,
    calendar: Calendar | None = None,
) -> list[OptionBar]:
    """Every bar of the file, in file order."""
    p = Path(path)
    try:
        handle = p.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    resolver = _Expiries(expiries or {}, calendar)
    out: list[OptionBar] = []
    with handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise DataError(
                f"header lacks {', '.join(missing)}; an option bar file needs "
                f"{','.join(_REQUIRED)}[,volume]",
                file=str(p),
                line=1,
            )
        col = {name: header.index(name) for name in header}
        for row in reader:
            if not row:
                continue
            try:
                out.append(_parse(row, col, resolver))
            except _RowError as e:
                raise DataError(str(e), file=str(p), line=reader.line_num) from None
    return out


def _parse(row: list[str], col: dict[str, int], resolver: _Expiries) -> OptionBar:
    if len(row) < len(col):
        first_missing = next(name for name, i in col.items() if i == len(row))
        raise _RowError(first_missing, f"the row has {len(row)} fields; the header has {len(col)}")

    def cell(name: str) -> str:
        return row[col[name]].strip()

    text = cell("ts")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError("ts", f"'{text}' is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        raise _RowError("ts", f"'{text}' has no UTC offset; it is never guessed")
    symbol = cell("symbol")
    found = _UNDERLYING.match(symbol.upper())
    if not found:
        raise _RowError("symbol", f"'{symbol}' does not start with the underlying's name")
    kind = cell("type").upper()
    if kind not in ("CE", "PE"):
        raise _RowError("type", f"'{cell('type')}' is not CE or PE")
    strike = _price(cell("strike"), "strike")
    if strike <= 0:
        raise _RowError("strike", f"'{cell('strike')}' is not a positive number")
    volume_text = cell("volume") if "volume" in col else "0"
    if not volume_text.isdigit():
        raise _RowError("volume", f"'{volume_text}' is not a whole number")
    underlying = found.group(0)
    return OptionBar(
        ts_ns=to_ns(stamp),
        underlying=underlying,
        symbol=symbol,
        expiry=resolver.expiry(cell("contract"), underlying),
        strike=strike,
        kind=kind,
        open=_price(cell("open"), "open"),
        high=_price(cell("high"), "high"),
        low=_price(cell("low"), "low"),
        close=_price(cell("close"), "close"),
        volume=int(volume_text),
    )


def _price(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _RowError(field, f"'{text}' is not a number") from None
    if not value.is_finite() or value < 0:
        raise _RowError(field, f"'{text}' is not a finite price of 0 or more")
    return value


class _Expiries:
    """Contract label -> expiry date, each label resolved once."""

    def __init__(self, given: Mapping[str, date], calendar: Calendar | None) -> None:
        self._known: dict[tuple[str, str], date] = {}
        self._given = dict(given)
        self._calendar = calendar

    def expiry(self, label: str, underlying: str) -> date:
        key = (label, underlying)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._resolve(label, underlying)
        return found

    def _resolve(self, label: str, underlying: str) -> date:
        if label in self._given:
            return self._given[label]
        try:
            return date.fromisoformat(label)
        except ValueError:
            pass
        month = _MONTH_LABEL.fullmatch(label)
        if month is None:
            raise _RowError(
                "contract", f"'{label}' is neither an expiry date nor 'YYYY-MM monthly'"
            )
        year, mon = int(month.group(1)), int(month.group(2))
        try:
            cal = self._calendar or _default_calendar()
            for e in cal.expiries(underlying, date(year, mon, 1), kind="monthly", count=1):
                if (e.date.year, e.date.month) == (year, mon):
                    return e.date
        except (CalendarError, ValueError) as e:
            why = str(e).split(";")[0]
        else:
            why = f"the calendar has no {underlying} monthly expiry in {year}-{mon:02d}"
        raise _RowError(
            "contract",
            f"cannot tell the expiry date of '{label}': {why}; name it "
            f"(expiries={{'{label}': date(...)}})",
        )


def _default_calendar() -> Calendar:
    from engine.data.calendar import Calendar

    return Calendar.default()
