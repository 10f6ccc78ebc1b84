"""Black-Scholes prices and Greeks against textbook values, limits and refusals."""

from __future__ import annotations

import math

import pytest

from engine.pricing.black_scholes import Greeks, bs_greeks, bs_price, implied_vol


def test_bs_price_when_hull_example_then_textbook_call_and_put() -> None:
    # Hull, Options, Futures and Other Derivatives, the Black-Scholes worked example:
    # S=42, K=40, r=10 %, sigma=20 %, T=0.5: c = 4.76, p = 0.81.
    assert bs_price(42, 40, 0.5, 0.2, 0.1, "CE") == pytest.approx(4.7594, abs=1e-4)
    assert bs_price(42, 40, 0.5, 0.2, 0.1, "PE") == pytest.approx(0.8086, abs=1e-4)


def test_bs_price_when_haug_examples_then_textbook_values() -> None:
    # Haug, The Complete Guide to Option Pricing Formulas: Black-Scholes call S=60, K=65,
    # T=0.25, r=8 %, sigma=30 %: 2.1334; Merton (1973) put with a dividend yield S=100,
    # K=95, T=0.5, r=10 %, q=5 %, sigma=20 %: 2.4648.
    assert bs_price(60, 65, 0.25, 0.3, 0.08, "CE") == pytest.approx(2.1334, abs=1e-4)
    assert bs_price(100, 95, 0.5, 0.2, 0.1, "PE", dividend_yield=0.05) == pytest.approx(
        2.4648, abs=1e-4
    )


def test_bs_greeks_when_hull_example_then_delta_is_n_of_d1() -> None:
    # Hull's example: d1 = 0.7693, N(d1) = 0.7791; a put's delta is N(d1) - 1 = -0.2209.
    call = bs_greeks(42, 40, 0.5, 0.2, 0.1, "CE")
    put = bs_greeks(42, 40, 0.5, 0.2, 0.1, "PE")
    assert call.delta == pytest.approx(0.7791, abs=1e-4)
    assert put.delta == pytest.approx(-0.2209, abs=1e-4)
    assert call.gamma == pytest.approx(put.gamma) and call.vega == pytest.approx(put.vega)


def test_bs_greeks_when_compared_with_finite_differences_then_they_agree() -> None:
    s, k, t, v, r = 18600.0, 18700.0, 0.06, 0.12, 0.065
    for kind in ("CE", "PE"):
        g = bs_greeks(s, k, t, v, r, kind, dividend_yield=0.01)

        def p(s=s, t=t, v=v, r=r, kind=kind):  # type: ignore[no-untyped-def]
            return bs_price(s, 18700.0, t, v, r, kind, dividend_yield=0.01)

        h = 0.5
        assert g.delta == pytest.approx((p(s=s + h) - p(s=s - h)) / (2 * h), rel=1e-5)
        assert g.gamma == pytest.approx((p(s=s + h) - 2 * p() + p(s=s - h)) / h**2, rel=1e-3)
        assert g.vega == pytest.approx((p(v=v + 1e-5) - p(v=v - 1e-5)) / 2e-5, rel=1e-5)
        assert g.theta == pytest.approx(-(p(t=t + 1e-6) - p(t=t - 1e-6)) / 2e-6, rel=1e-4)
        assert g.rho == pytest.approx((p(r=r + 1e-6) - p(r=r - 1e-6)) / 2e-6, rel=1e-4)


def test_bs_price_when_expired_then_intrinsic_value() -> None:
    assert bs_price(18650, 18600, 0.0, 0.15, 0.065, "CE") == 50.0
    assert bs_price(18650, 18600, -1.0, 0.15, 0.065, "PE") == 0.0
    assert bs_price(18550, 18600, 0.0, 0.15, 0.065, "PE") == 50.0
    assert bs_greeks(18650, 18600, 0.0, 0.15, 0.065, "CE") == Greeks(1.0, 0.0, 0.0, 0.0, 0.0)
    assert bs_greeks(18650, 18600, 0.0, 0.15, 0.065, "PE").delta == 0.0


def test_bs_price_when_zero_vol_then_discounted_forward_intrinsic() -> None:
    # S=100, K=100, r=5 %, T=1: K e^-rT = 95.1229; call = 100 - 95.1229 = 4.8771; put 0.
    assert bs_price(100, 100, 1.0, 0.0, 0.05, "CE") == pytest.approx(4.877058, abs=1e-6)
    assert bs_price(100, 100, 1.0, -0.3, 0.05, "PE") == 0.0
    assert bs_greeks(100, 100, 1.0, 0.0, 0.05, "CE").delta == 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1.0, 100, 1, 0.2, 0.05, "CE"), "spot must be positive"),
        ((0.0, 100, 1, 0.2, 0.05, "CE"), "spot must be positive"),
        ((100, 0, 1, 0.2, 0.05, "PE"), "strike must be positive"),
        ((100, 100, math.nan, 0.2, 0.05, "CE"), "t_years must be a finite number"),
        ((100, 100, 1, math.inf, 0.05, "CE"), "vol must be a finite number"),
        ((100, 100, 1, 0.2, 0.05, "CALL"), "CE or PE"),
        ((100, 100, 1e6, 0.2, -5.0, "CE"), "out of range"),
    ],
)
def test_bs_price_when_invalid_inputs_then_value_error(args: tuple, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=match):
        bs_price(*args)


def test_bs_price_when_extreme_but_valid_then_finite_and_within_bounds() -> None:
    assert bs_price(100, 100, 1e10, 1e300, 0.0, "CE") == 100.0  # infinite spread: worth S
    assert bs_price(1e-300, 1e300, 1.0, 0.2, 0.0, "PE") == pytest.approx(1e300)
    assert bs_price(100, 100, 1.0, 1e-320, 0.05, "CE") == pytest.approx(4.877058, abs=1e-6)
    assert bs_price(18600, 100, 1e-9, 0.15, 0.065, "PE") == 0.0
    assert bs_price(100, 18600, 1e-9, 0.15, 0.065, "CE") == 0.0


def test_implied_vol_when_priced_at_a_vol_then_recovers_it() -> None:
    price = bs_price(18600, 18700, 0.06, 0.1234, 0.065, "CE")
    assert implied_vol(price, 18600, 18700, 0.06, 0.065, "CE") == pytest.approx(0.1234, abs=1e-6)
    assert implied_vol(0.0001, 18600, 17000, 0.06, 0.065, "CE") is None  # below intrinsic
    assert implied_vol(10.0, 18600, 18700, 0.0, 0.065, "CE") is None
