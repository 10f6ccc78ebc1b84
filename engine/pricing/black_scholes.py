"""Black-Scholes prices and Greeks of European index options (NSE index options are European).

Backtests over index data alone have no option prices, so premiums are modelled. This is
the plain Black-Scholes-Merton formula with a continuous dividend yield, written so that a
backtest never stops on a number: every finite valid input gives a finite, non-negative
price inside the no-arbitrage bounds, and only inputs that are no market at all (a
negative or zero spot or strike, NaN, infinity, an unknown option type) raise ValueError.

Conventions: ``t_years`` is the year fraction to expiry, ``vol`` the annualised
volatility (0.15 for 15 %), ``rate`` and ``dividend_yield`` continuously compounded annual
rates. At ``t_years <= 0`` the price is the intrinsic value. With ``vol <= 0`` and time left
it is the zero-volatility limit, the discounted intrinsic value of the forward,
``max(S e^-qT - K e^-rT, 0)`` for a call, which is the intrinsic value at expiry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["KINDS", "Greeks", "bs_greeks", "bs_price", "implied_vol"]

KINDS = ("CE", "PE")
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class Greeks:
    """Sensitivities: per unit of spot (delta, gamma), per 1.00 of vol (vega), per year of
    time passing (theta, the value's change as the clock runs) and per 1.00 of rate (rho)."""

    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


def _cdf(x: float) -> float:
    """Standard normal CDF through erfc: accurate far into both tails."""
    return 0.5 * math.erfc(-x / _SQRT_2)


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def _check(
    spot: float, strike: float, t_years: float, vol: float, rate: float, q: float, kind: str
) -> None:
    if kind not in KINDS:
        raise ValueError(f"option type must be CE or PE; it was {kind!r}")
    for name, value in (
        ("spot", spot),
        ("strike", strike),
        ("t_years", t_years),
        ("vol", vol),
        ("rate", rate),
        ("dividend_yield", q),
    ):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number; it was {value!r}")
    if spot <= 0:
        raise ValueError(f"spot must be positive; it was {spot!r}")
    if strike <= 0:
        raise ValueError(f"strike must be positive; it was {strike!r}")


def _discounts(spot: float, strike: float, t: float, rate: float, q: float) -> tuple[float, float]:
    """``S e^-qT`` and ``K e^-rT``; ValueError when they leave the floating-point range."""
    try:
        s_disc = spot * math.exp(-q * t)
        k_disc = strike * math.exp(-rate * t)
    except OverflowError:
        raise ValueError(
            f"rate {rate!r} or dividend_yield {q!r} over {t!r} years is out of range"
        ) from None
    if not (math.isfinite(s_disc) and math.isfinite(k_disc)):
        raise ValueError(f"rate {rate!r} or dividend_yield {q!r} over {t!r} years is out of range")
    return s_disc, k_disc


def _spread(vol: float, t: float) -> float:
    """``vol * sqrt(t)``: 0 when it underflows (the zero-vol limit applies), inf when huge."""
    return vol * math.sqrt(t) if vol > 0 else 0.0


def _d1_d2(s_disc: float, k_disc: float, v: float) -> tuple[float, float]:
    if s_disc == 0.0 or k_disc == 0.0:  # one leg discounted to nothing: the option is all or none
        big = math.inf if k_disc == 0.0 else -math.inf
        return big, big
    d1 = (math.log(s_disc) - math.log(k_disc)) / v + 0.5 * v
    return d1, d1 - v


def bs_price(
    spot: float,
    strike: float,
    t_years: float,
    vol: float,
    rate: float,
    kind: str,
    dividend_yield: float = 0.0,
) -> float:
    """The option's Black-Scholes value per unit of the underlying (same currency as spot)."""
    _check(spot, strike, t_years, vol, rate, dividend_yield, kind)
    if t_years <= 0:
        return max(spot - strike, 0.0) if kind == "CE" else max(strike - spot, 0.0)
    s_disc, k_disc = _discounts(spot, strike, t_years, rate, dividend_yield)
    v = _spread(vol, t_years)
    if v == 0.0:
        return max(s_disc - k_disc, 0.0) if kind == "CE" else max(k_disc - s_disc, 0.0)
    if math.isinf(v):  # infinite uncertainty: a call is worth the (discounted) underlying
        return s_disc if kind == "CE" else k_disc
    d1, d2 = _d1_d2(s_disc, k_disc, v)
    if kind == "CE":
        value = s_disc * _cdf(d1) - k_disc * _cdf(d2)
        upper = s_disc
    else:
        value = k_disc * _cdf(-d2) - s_disc * _cdf(-d1)
        upper = k_disc
    return min(max(value, 0.0), upper)  # rounding must not leave the no-arbitrage bounds


def bs_greeks(
    spot: float,
    strike: float,
    t_years: float,
    vol: float,
    rate: float,
    kind: str,
    dividend_yield: float = 0.0,
) -> Greeks:
    """Delta, gamma, vega, theta and rho; at expiry or zero vol, the limits (delta 0 or 1)."""
    _check(spot, strike, t_years, vol, rate, dividend_yield, kind)
    call = kind == "CE"
    if t_years <= 0:
        itm = spot > strike if call else spot < strike
        return Greeks((1.0 if call else -1.0) if itm else 0.0, 0.0, 0.0, 0.0, 0.0)
    q = dividend_yield
    s_disc, k_disc = _discounts(spot, strike, t_years, rate, q)
    v = _spread(vol, t_years)
    if v == 0.0 or math.isinf(v):
        return _limit_greeks(call, s_disc, k_disc, t_years, rate, q, zero_vol=v == 0.0)
    d1, d2 = _d1_d2(s_disc, k_disc, v)
    root_t = math.sqrt(t_years)
    density = _pdf(d1) if math.isfinite(d1) else 0.0
    gamma = math.exp(-q * t_years) * density / spot / v if density else 0.0
    vega = s_disc * density * root_t
    decay = -s_disc * density * v / (2.0 * t_years)
    if call:
        delta = math.exp(-q * t_years) * _cdf(d1)
        theta = decay + q * s_disc * _cdf(d1) - rate * k_disc * _cdf(d2)
        rho = t_years * k_disc * _cdf(d2)
    else:
        delta = -math.exp(-q * t_years) * _cdf(-d1)
        theta = decay - q * s_disc * _cdf(-d1) + rate * k_disc * _cdf(-d2)
        rho = -t_years * k_disc * _cdf(-d2)
    greeks = Greeks(delta, gamma, vega, theta, rho)
    if not all(math.isfinite(x) for x in (delta, gamma, vega, theta, rho)):
        raise ValueError(f"the Greeks overflow for these inputs: {greeks}")
    return greeks


def _limit_greeks(
    call: bool, s_disc: float, k_disc: float, t: float, rate: float, q: float, *, zero_vol: bool
) -> Greeks:
    """Greeks at zero vol (the forward's intrinsic value) or infinite vol (the bounds)."""
    sign = 1.0 if call else -1.0
    if not zero_vol:  # call = S e^-qT, put = K e^-rT
        if call:
            return Greeks(math.exp(-q * t), 0.0, 0.0, q * s_disc, 0.0)
        return Greeks(0.0, 0.0, 0.0, rate * k_disc, -t * k_disc)
    itm = s_disc > k_disc if call else s_disc < k_disc
    if not itm:
        return Greeks(0.0, 0.0, 0.0, 0.0, 0.0)
    delta = sign * math.exp(-q * t)
    theta = sign * (rate * k_disc - q * s_disc)
    return Greeks(delta, 0.0, 0.0, -theta, sign * t * k_disc)


def implied_vol(
    price: float,
    spot: float,
    strike: float,
    t_years: float,
    rate: float,
    kind: str,
    dividend_yield: float = 0.0,
    *,
    tolerance: float = 1e-7,
) -> float | None:
    """The vol at which ``bs_price`` equals ``price``, by bisection; None outside the bounds.

    Used to compare modelled and market premiums in volatility terms (a market price below
    the zero-vol value or above the no-arbitrage bound has no implied vol).
    """
    if t_years <= 0 or not math.isfinite(price):
        return None
    lo, hi = 0.0, 5.0
    floor = bs_price(spot, strike, t_years, 0.0, rate, kind, dividend_yield)
    if price < floor or price >= bs_price(spot, strike, t_years, hi, rate, kind, dividend_yield):
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if bs_price(spot, strike, t_years, mid, rate, kind, dividend_yield) < price:
            lo = mid
        else:
            hi = mid
        if hi - lo < tolerance:
            break
    return 0.5 * (lo + hi)
