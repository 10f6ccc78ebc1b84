"""What the simulator's market looks like: real bars as ticks, an instrument master built
from the calendar, and option premiums from a stated model.

Ticks from bars. Each real 1-minute bar becomes four ticks, 15 seconds apart, with the
bar's own exchange timestamps: open, then the extreme on the far side of the close, then
the other extreme, then close. On an up bar (close >= open) that is open, low, high,
close; on a down bar open, high, low, close: the bar is taken to end moving towards its
close. Index values are real; nothing is interpolated between them.

Option premiums are a model, not market data: Black-Scholes with no rates or dividends,
the volatility taken from the day's real India VIX opening value (20% when no VIX file is
given), time to expiry to 15:30 IST on the expiry day, rounded to the calendar's tick
(at least one tick). The SNAP_QUOTE depth around any price is one tick either side.

The instrument master holds the index rows (NIFTY 50, Nifty Bank, India VIX, under both
the 99926xxx tokens and the short 26xxx ones, §9 ⚠) and CE/PE options of the replayed
underlying for the next two expiries of every replayed date, ``strikes_each_side``
strikes either side of the first price, with lot size, strike step and tick size from the
calendar's facts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from engine.data.calendar import Calendar
from engine.data.csv_import import read_bars, symbol_from_name
from engine.model.market import Bar
from engine.timeutil import IST

__all__ = [
    "INDEX_TOKENS",
    "MarketTick",
    "OptionContract",
    "bar_ticks",
    "build_master",
    "load_bars",
    "load_vix",
    "model_premium_paise",
]

#: name -> (long token, short token, symbol); both tokens stream the same index
INDEX_TOKENS = {
    "NIFTY": ("99926000", "26000", "Nifty 50"),
    "BANKNIFTY": ("99926009", "26009", "Nifty Bank"),
    "INDIA VIX": ("99926017", "26017", "India VIX"),
}
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_YEAR_S = 365.0 * 86400


@dataclass(frozen=True, slots=True)
class MarketTick:
    ts_ms: int
    price_paise: int
    bar_index: int


def bar_ticks(bar: Bar, index: int) -> list[MarketTick]:
    """The four ticks of one bar, in the order the module docstring states."""
    if bar.close >= bar.open:
        path = (bar.open, bar.low, bar.high, bar.close)
    else:
        path = (bar.open, bar.high, bar.low, bar.close)
    start_ms = bar.ts_event // 1_000_000
    return [
        MarketTick(start_ms + 15_000 * i, round(price * 100), index) for i, price in enumerate(path)
    ]


def load_bars(path: Path, start: date | None = None, sessions: int | None = None) -> list[Bar]:
    """The file's 1-minute bars from ``start`` (its first date) for ``sessions`` dates."""
    bars = read_bars(path).all_bars
    bars.sort(key=lambda b: b.ts_event)
    if start is not None:
        bars = [b for b in bars if b.trading_date >= start]
    if sessions is not None:
        days = sorted({b.trading_date for b in bars})[:sessions]
        bars = [b for b in bars if b.trading_date in set(days)]
    return bars


def underlying_of(path: Path) -> str:
    name = symbol_from_name(path).upper()
    return "BANKNIFTY" if name.startswith("BANK") else name


def load_vix(path: Path | None) -> dict[date, float]:
    """Date -> the day's India VIX opening value, from a daily file (empty without one)."""
    if path is None or not path.exists():
        return {}
    return {b.trading_date: b.open for b in read_bars(path).all_bars if b.open > 0}


@dataclass(frozen=True)
class OptionContract:
    token: str
    symbol: str
    underlying: str
    expiry: date
    strike: int
    right: str
    lot_size: int
    tick_paise: int


def _symbol(u: str, expiry: date, strike: int, right: str) -> str:
    return f"{u}{expiry.day:02d}{_MONTHS[expiry.month - 1]}{expiry.year % 100:02d}{strike}{right}"


def build_master(
    calendar: Calendar,
    underlying: str,
    day: date,
    spot: float,
    strikes_each_side: int = 10,
    last_day: date | None = None,
) -> tuple[list[dict[str, str]], list[OptionContract]]:
    """Master rows (all strings, §9 layout) and the option contracts among them: the next
    two expiries of every replayed date from ``day`` to ``last_day``."""
    rows = []
    for name, (long_token, short_token, symbol) in INDEX_TOKENS.items():
        for token in (long_token, short_token):
            rows.append(_row(token, symbol, name, "", "0.000000", "1", "AMXIDX", "NSE", 0))
    step = calendar.strike_interval(underlying, day)
    tick_paise = int(calendar.tick_size(underlying, day) * 100)
    atm = int(round(spot / step) * step)
    contracts = []
    token = 40000
    expiries = {e.date: e for e in calendar.expiries(underlying, day, count=2)}
    for d in calendar.sessions(day, last_day or day):
        for e in calendar.expiries(underlying, d.date, count=2):
            expiries.setdefault(e.date, e)
    for expiry in sorted(expiries.values(), key=lambda e: e.date):
        lot = calendar.lot_size(underlying, expiry.date)
        for k in range(-strikes_each_side, strikes_each_side + 1):
            strike = atm + k * step
            for right in ("CE", "PE"):
                token += 1
                symbol = _symbol(underlying, expiry.date, strike, right)
                c = OptionContract(
                    str(token), symbol, underlying, expiry.date, strike, right, lot, tick_paise
                )
                contracts.append(c)
                rows.append(
                    _row(
                        c.token,
                        c.symbol,
                        underlying,
                        expiry.date.strftime("%d%b%Y").upper(),
                        f"{strike * 100:.6f}",
                        str(lot),
                        "OPTIDX",
                        "NFO",
                        tick_paise,
                    )  # fmt: skip
                )
    return rows, contracts


def _row(token: str, symbol: str, name: str, expiry: str, strike: str, lot: str, itype: str,
         exch: str, tick_paise: int) -> dict[str, str]:  # fmt: skip
    return {"token": token, "symbol": symbol, "name": name, "expiry": expiry, "strike": strike,
            "lotsize": lot, "instrumenttype": itype, "exch_seg": exch,
            "tick_size": f"{tick_paise:.6f}"}  # fmt: skip


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def model_premium_paise(c: OptionContract, spot_paise: int, ts_ms: int, vol: float) -> int:
    """Black-Scholes premium (r = 0) rounded to the contract's tick; a model, not data."""
    spot = spot_paise / 100
    expires = datetime.combine(c.expiry, time(15, 30), tzinfo=IST)
    now = datetime.fromtimestamp(ts_ms / 1000, IST)
    years = max((expires - now).total_seconds(), 60.0) / _YEAR_S
    sd = max(vol, 0.01) * math.sqrt(years)
    d1 = (math.log(spot / c.strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if c.right == "CE":
        value = spot * _norm_cdf(d1) - c.strike * _norm_cdf(d2)
    else:
        value = c.strike * _norm_cdf(-d2) - spot * _norm_cdf(-d1)
    ticks = max(1, round(value * 100 / c.tick_paise))
    return ticks * c.tick_paise


def replay(bars: list[Bar], loop: bool) -> Iterator[MarketTick]:
    """Ticks of every bar in order, again from the start when ``loop``."""
    while True:
        for i, bar in enumerate(bars):
            yield from bar_ticks(bar, i)
        if not loop or not bars:
            return


def day_of(ts_ms: int) -> date:
    return (datetime.fromtimestamp(ts_ms / 1000, IST)).date()


def paise(value: Decimal | float | str) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())
