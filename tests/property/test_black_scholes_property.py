"""Properties of Black-Scholes prices and modelled premiums for every input (hypothesis)."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.model.market import to_ns
from engine.money import is_on_tick
from engine.pricing.black_scholes import bs_greeks, bs_price
from engine.pricing.premiums import BlackScholesPremiums, DailyVixSource
from engine.timeutil import IST

SPOT = st.floats(min_value=1.0, max_value=100_000.0)
TIME = st.floats(min_value=1e-4, max_value=3.0)
VOL = st.floats(min_value=0.01, max_value=2.0)
RATE = st.floats(min_value=0.0, max_value=0.15)
DIV = st.floats(min_value=0.0, max_value=0.05)
KIND = st.sampled_from(["CE", "PE"])
ANY = st.floats(allow_nan=True, allow_infinity=True)


def _scale(s: float, k: float) -> float:
    return max(s, k)


@given(SPOT, SPOT, TIME, VOL, RATE, DIV)
def test_bs_price_when_any_inputs_then_put_call_parity(
    s: float, k: float, t: float, v: float, r: float, q: float
) -> None:
    call = bs_price(s, k, t, v, r, "CE", q)
    put = bs_price(s, k, t, v, r, "PE", q)
    forward_gap = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert math.isclose(call - put, forward_gap, abs_tol=1e-9 * _scale(s, k))


@given(SPOT, SPOT, TIME, VOL, RATE, DIV, KIND)
def test_bs_price_when_any_inputs_then_inside_no_arbitrage_bounds(
    s: float, k: float, t: float, v: float, r: float, q: float, kind: str
) -> None:
    p = bs_price(s, k, t, v, r, kind, q)
    s_disc, k_disc = s * math.exp(-q * t), k * math.exp(-r * t)
    lower = max(s_disc - k_disc, 0.0) if kind == "CE" else max(k_disc - s_disc, 0.0)
    upper = s_disc if kind == "CE" else k_disc
    tol = 1e-9 * _scale(s, k)
    assert lower - tol <= p <= upper + tol


@given(SPOT, SPOT, SPOT, TIME, VOL, RATE)
def test_bs_price_when_spot_rises_then_call_up_and_put_down(
    s1: float, s2: float, k: float, t: float, v: float, r: float
) -> None:
    lo, hi = min(s1, s2), max(s1, s2)
    tol = 1e-9 * _scale(hi, k)
    assert bs_price(lo, k, t, v, r, "CE") <= bs_price(hi, k, t, v, r, "CE") + tol
    assert bs_price(lo, k, t, v, r, "PE") + tol >= bs_price(hi, k, t, v, r, "PE")


@given(SPOT, SPOT, SPOT, TIME, VOL, RATE)
def test_bs_price_when_strike_rises_then_call_down_and_put_up(
    s: float, k1: float, k2: float, t: float, v: float, r: float
) -> None:
    lo, hi = min(k1, k2), max(k1, k2)
    tol = 1e-9 * _scale(s, hi)
    assert bs_price(s, lo, t, v, r, "CE") + tol >= bs_price(s, hi, t, v, r, "CE")
    assert bs_price(s, lo, t, v, r, "PE") <= bs_price(s, hi, t, v, r, "PE") + tol


@given(SPOT, SPOT, TIME, VOL, VOL, RATE, KIND)
def test_bs_price_when_vol_rises_then_price_does_not_fall(
    s: float, k: float, t: float, v1: float, v2: float, r: float, kind: str
) -> None:
    lo, hi = min(v1, v2), max(v1, v2)
    tol = 1e-9 * _scale(s, k)
    assert bs_price(s, k, t, lo, r, kind) <= bs_price(s, k, t, hi, r, kind) + tol


@given(SPOT, SPOT, TIME, TIME, VOL, RATE)
def test_bs_price_when_more_time_then_call_does_not_fall(
    s: float, k: float, t1: float, t2: float, v: float, r: float
) -> None:
    # Without dividends and with r >= 0 a European call is worth at least as much with more time.
    lo, hi = min(t1, t2), max(t1, t2)
    tol = 1e-9 * _scale(s, k)
    assert bs_price(s, k, lo, v, r, "CE") <= bs_price(s, k, hi, v, r, "CE") + tol


@given(SPOT, SPOT, TIME, VOL, RATE, DIV, KIND)
def test_bs_greeks_when_any_inputs_then_delta_and_gamma_in_range(
    s: float, k: float, t: float, v: float, r: float, q: float, kind: str
) -> None:
    g = bs_greeks(s, k, t, v, r, kind, q)
    if kind == "CE":
        assert 0.0 <= g.delta <= 1.0
    else:
        assert -1.0 <= g.delta <= 0.0
    assert g.gamma >= 0.0 and g.vega >= 0.0


@given(ANY, ANY, ANY, ANY, ANY, KIND)
def test_bs_price_when_arbitrary_floats_then_finite_price_or_value_error(
    s: float, k: float, t: float, v: float, r: float, kind: str
) -> None:
    try:
        p = bs_price(s, k, t, v, r, kind)
    except ValueError:
        return
    assert math.isfinite(p) and p >= 0.0


_EXPIRY = date(2024, 6, 27)
_TS = to_ns(datetime(2024, 6, 20, 10, 0, tzinfo=IST))


@given(
    st.floats(min_value=5.0, max_value=80.0),
    st.floats(min_value=1000.0, max_value=60000.0),
    st.floats(min_value=0.5, max_value=1.5),
    KIND,
)
def test_model_premium_when_any_market_then_on_tick_at_least_one_tick(
    vix: float, spot: float, moneyness: float, kind: str
) -> None:
    model = BlackScholesPremiums(DailyVixSource([(date(2024, 6, 19), vix)]))
    strike = round(spot * moneyness / 50) * 50.0
    quote = model.premium(_TS, "NIFTY", spot, strike, kind, _EXPIRY)
    assert quote is not None
    assert is_on_tick(quote.price) and quote.price >= Decimal("0.05")
    assert abs(float(quote.price) - max(float(quote.inputs["model_price"]), 0.05)) <= 0.025 + 1e-9


@given(st.floats(min_value=5.0, max_value=80.0), st.floats(min_value=1000.0, max_value=60000.0))
def test_model_premium_when_strike_rises_then_calls_do_not_rise_and_puts_do_not_fall(
    vix: float, spot: float
) -> None:
    model = BlackScholesPremiums(DailyVixSource([(date(2024, 6, 19), vix)]))
    strikes = [round(spot * m / 50) * 50.0 for m in (0.9, 0.97, 1.0, 1.03, 1.1)]
    calls = [model.premium(_TS, "NIFTY", spot, k, "CE", _EXPIRY).price for k in strikes]  # type: ignore[union-attr]
    puts = [model.premium(_TS, "NIFTY", spot, k, "PE", _EXPIRY).price for k in strikes]  # type: ignore[union-attr]
    assert calls == sorted(calls, reverse=True)
    assert puts == sorted(puts)
