"""Option premiums for backtests: real option bars when the data has them, a model otherwise.

Index data alone says nothing about what a NIFTY 18600 CE cost at 10:05, yet a strategy's
P&L is made of premiums. ``MarketPremiums`` reads real option bars; ``BlackScholesPremiums``
models the premium from the index level with India VIX as the implied volatility (the
market's own 30-day NIFTY volatility, free and known minute by minute); ``ChainedPremiums``
asks the market first and the model when the market has no bar. Every ``Quote`` says where
it came from (``source``) and what went into it (``inputs``), so the journal and the
report can say which premiums were modelled and with what values.

Time to expiry runs from the quote's instant to the close of the expiry day's session,
counted in calendar seconds and divided by a 365-day year: India VIX is annualised the
same way (CBOE's method counts minutes to expiry over a 365-day year), so the volatility
and the time it is applied over agree, and weekends and holidays count as they do in it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from engine.errors import CalendarError
from engine.model.market import NANOS, ist_date_of, ns_to_datetime, to_ns
from engine.money import TICK, round_to_tick, to_paise
from engine.pricing.black_scholes import KINDS, bs_price
from engine.pricing.option_bars import OptionBar
from engine.pricing.vix import DailyVixSource, FallbackVix, IntradayVixSource, VixSource
from engine.timeutil import IST, ist_datetime

if TYPE_CHECKING:
    from engine.data.calendar import Calendar

__all__ = [
    "DEFAULT_RATE",
    "YEAR_SECONDS",
    "BlackScholesPremiums",
    "ChainedPremiums",
    "DailyVixSource",
    "FallbackVix",
    "IntradayVixSource",
    "MarketPremiums",
    "PremiumModel",
    "Quote",
    "VixSource",
]

#: Risk-free rate for modelled premiums: the RBI policy repo rate, 6.50 % from 2023-02-08
#: to 2025-02-06 (cut to 6.25 % on 2025-02-07), the period of the bundled 2023-2024 data.
#: Override it for other periods; over a few weeks to expiry it moves a premium little.
DEFAULT_RATE = 0.065
YEAR_SECONDS = 365 * 86_400
_FALLBACK_CLOSE = time(15, 30)


@dataclass(frozen=True, slots=True)
class Quote:
    """A premium per unit, where it came from ("model" or "market") and what made it."""

    price: Decimal
    source: str
    inputs: Mapping[str, object] = field(default_factory=dict)


class PremiumModel(Protocol):
    """Anything that can quote an option's premium at an instant, or say it cannot (None)."""

    def premium(
        self, ts_ns: int, underlying: str, spot: float, strike: float, kind: str, expiry: date
    ) -> Quote | None: ...


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"option type must be CE or PE; it was {kind!r}")


class BlackScholesPremiums:
    """Black-Scholes premiums with India VIX / 100 as the volatility.

    The price is rounded to the nearest tick and is never below one tick (an option that
    trades is worth at least 0.05). ``calendar`` gives the expiry day's close; for a date it
    does not cover, or one it does not list as a session, 15:30 IST is assumed and the
    quote's inputs say so.
    """

    def __init__(
        self,
        vix: VixSource,
        rate: float = DEFAULT_RATE,
        calendar: Calendar | None = None,
        *,
        dividend_yield: float = 0.0,
        tick: Decimal = TICK,
    ) -> None:
        if not math.isfinite(rate) or not math.isfinite(dividend_yield):
            raise ValueError("rate and dividend_yield must be finite numbers")
        self.vix = vix
        self.rate = rate
        self.dividend_yield = dividend_yield
        self.tick = tick
        self._calendar = calendar
        self._closes: dict[date, tuple[int, str]] = {}

    def expiry_close(self, expiry: date) -> tuple[int, str]:
        """The expiry session's close (UTC ns) and where that time came from."""
        found = self._closes.get(expiry)
        if found is None:
            found = self._closes[expiry] = self._find_close(expiry)
        return found

    def _find_close(self, expiry: date) -> tuple[int, str]:
        try:
            if self._calendar is None:
                from engine.data.calendar import Calendar

                self._calendar = Calendar.default()
            session = self._calendar.session(expiry)
            if session is not None:
                return to_ns(session.close_at()), "calendar"
            why = f"{expiry.isoformat()} is not a session in the calendar"
        except CalendarError as e:
            why = str(e).split(";")[0]
        assumed = to_ns(ist_datetime(expiry, _FALLBACK_CLOSE))
        return assumed, f"15:30 IST assumed ({why})"

    def premium(
        self, ts_ns: int, underlying: str, spot: float, strike: float, kind: str, expiry: date
    ) -> Quote | None:
        _check_kind(kind)
        vix = self.vix.vix_at(ts_ns)
        if vix is None or not math.isfinite(vix) or vix <= 0:
            return None
        close_ns, close_source = self.expiry_close(expiry)
        t_years = max(0, close_ns - ts_ns) / NANOS / YEAR_SECONDS
        vol = vix / 100.0
        raw = bs_price(spot, strike, t_years, vol, self.rate, kind, self.dividend_yield)
        price = max(round_to_tick(raw, self.tick, "nearest"), self.tick)
        inputs = {
            "underlying": underlying,
            "spot": spot,
            "strike": strike,
            "kind": kind,
            "expiry": expiry.isoformat(),
            "expiry_close": ns_to_datetime(close_ns, IST).isoformat(),
            "expiry_close_source": close_source,
            "t_years": t_years,
            "vix": vix,
            "vol": vol,
            "rate": self.rate,
            "dividend_yield": self.dividend_yield,
            "model_price": raw,
        }
        return Quote(price, "model", inputs)


_Key = tuple[str, date, int, str]  # underlying, expiry, strike in paise, kind


class MarketPremiums:
    """Premiums from real option bars: the close of the last completed bar.

    A bar labelled 10:05 is complete at 10:06, so at 10:05:30 the premium is the 10:04
    bar's close. A close from an earlier trading day, or older than ``max_age_s``, is no
    quote (None): an illiquid strike should fall back to the model, not to a stale print.
    ``bar_at`` gives the bar covering an instant, whose open, high and low a fill model
    uses for an order placed at that instant.
    """

    def __init__(
        self, option_bars: Iterable[OptionBar], *, bar_seconds: int = 60, max_age_s: int = 900
    ) -> None:
        grouped: dict[_Key, dict[int, OptionBar]] = {}
        for bar in option_bars:
            key = (bar.underlying, bar.expiry, to_paise(bar.strike), bar.kind)
            grouped.setdefault(key, {})[bar.ts_ns] = bar  # a repeated minute: the last row wins
        self._bars = {k: [v[t] for t in sorted(v)] for k, v in grouped.items()}
        self._starts = {k: [b.ts_ns for b in bars] for k, bars in self._bars.items()}
        self.bar_ns = bar_seconds * NANOS
        self.max_age_ns = max_age_s * NANOS

    def __len__(self) -> int:
        return sum(len(b) for b in self._bars.values())

    def contracts(self) -> list[_Key]:
        """Every (underlying, expiry, strike in paise, kind) that has bars."""
        return sorted(self._bars)

    def premium(
        self, ts_ns: int, underlying: str, spot: float, strike: float, kind: str, expiry: date
    ) -> Quote | None:
        _check_kind(kind)
        key = (underlying.upper(), expiry, to_paise(strike), kind)
        starts = self._starts.get(key)
        if starts is None:
            return None
        i = bisect_right(starts, ts_ns - self.bar_ns) - 1  # start + length <= ts: complete
        if i < 0:
            return None
        bar = self._bars[key][i]
        end = bar.ts_ns + self.bar_ns
        if ist_date_of(bar.ts_ns) != ist_date_of(ts_ns) or ts_ns - end > self.max_age_ns:
            return None
        inputs = {
            "symbol": bar.symbol,
            "bar_start": ns_to_datetime(bar.ts_ns, IST).isoformat(),
            "age_s": (ts_ns - end) / NANOS,
            "volume": bar.volume,
            "spot": spot,
        }
        return Quote(bar.close, "market", inputs)

    def bar_at(
        self,
        ts_ns: int,
        strike: float,
        kind: str,
        expiry: date,
        *,
        underlying: str | None = None,
    ) -> OptionBar | None:
        """The bar whose minute contains ``ts_ns`` (start <= ts < start + length), or None."""
        _check_kind(kind)
        key = self._key_for(strike, kind, expiry, underlying)
        if key is None:
            return None
        i = bisect_right(self._starts[key], ts_ns) - 1
        if i < 0:
            return None
        bar = self._bars[key][i]
        return bar if ts_ns < bar.ts_ns + self.bar_ns else None

    def _key_for(
        self, strike: float, kind: str, expiry: date, underlying: str | None
    ) -> _Key | None:
        paise = to_paise(strike)
        if underlying is not None:
            key = (underlying.upper(), expiry, paise, kind)
            return key if key in self._bars else None
        found = [k for k in self._bars if k[1:] == (expiry, paise, kind)]
        if len(found) > 1:
            names = ", ".join(sorted(k[0] for k in found))
            raise ValueError(f"bars of several underlyings ({names}) match; name the underlying")
        return found[0] if found else None


class ChainedPremiums:
    """The first model's quote, else the second's: market bars first, the model behind."""

    def __init__(self, first: PremiumModel, second: PremiumModel) -> None:
        self.first = first
        self.second = second

    def premium(
        self, ts_ns: int, underlying: str, spot: float, strike: float, kind: str, expiry: date
    ) -> Quote | None:
        quote = self.first.premium(ts_ns, underlying, spot, strike, kind, expiry)
        if quote is not None:
            return quote
        return self.second.premium(ts_ns, underlying, spot, strike, kind, expiry)
