"""Properties of paise conversion and tick rounding (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.money import from_paise, is_on_tick, round_to_tick, to_paise

PRICES = st.decimals(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False, places=6)
TICKS = st.sampled_from([Decimal(t) for t in ("0.05", "0.01", "0.5", "5", "50")])
FLOATS = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_paise_when_round_trip_then_identity(p: int) -> None:
    assert to_paise(from_paise(p)) == p
    assert from_paise(p).as_tuple().exponent == -2


@given(PRICES)
def test_to_paise_when_any_decimal_then_within_half_a_paisa(x: Decimal) -> None:
    assert abs(from_paise(to_paise(x)) - x) <= Decimal("0.005")


@given(PRICES, TICKS)
def test_round_to_tick_when_any_mode_then_on_tick_and_ordered(x: Decimal, tick: Decimal) -> None:
    down, near, up = (round_to_tick(x, tick, m) for m in ("down", "nearest", "up"))
    for r in (down, near, up):
        assert is_on_tick(r, tick)
        assert r.as_tuple().exponent == tick.as_tuple().exponent
    assert down <= x <= up
    assert up - down in (0, tick)
    assert down <= near <= up
    assert abs(near - x) <= tick / 2


@given(PRICES, TICKS)
def test_round_to_tick_when_already_on_tick_then_unchanged(x: Decimal, tick: Decimal) -> None:
    on = round_to_tick(x, tick, "down")
    for mode in ("down", "nearest", "up"):
        assert round_to_tick(on, tick, mode) == on


@given(FLOATS)
def test_round_to_tick_when_float_then_same_as_its_repr(x: float) -> None:
    assert round_to_tick(x) == round_to_tick(Decimal(repr(x)))


@given(PRICES, PRICES, TICKS)
def test_round_to_tick_when_prices_ordered_then_rounding_monotone(
    a: Decimal, b: Decimal, tick: Decimal
) -> None:
    lo, hi = min(a, b), max(a, b)
    for mode in ("down", "nearest", "up"):
        assert round_to_tick(lo, tick, mode) <= round_to_tick(hi, tick, mode)
