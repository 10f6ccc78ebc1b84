"""Entry sizing: whole lots by the rule's mode, capped, scaled by the machines' size factor.

Premium 150.00 on a lot of 50 costs Rs 7,500 a lot; capital is Rs 1,00,000.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.strategy.sizing import size_entry

D = Decimal


def size(sizing: dict[str, Any], *, premium: str = "150.00", factor: float = 1.0, lot: int = 50):  # type: ignore[no-untyped-def]
    return size_entry(
        sizing, premium=D(premium), lot_size=lot, capital=D("100000"), size_factor=factor
    )


def test_size_when_no_mode_then_one_fixed_lot() -> None:
    s = size({})
    assert s.lots == 1
    assert s.values == {
        "mode": "fixed_lots",
        "lot_size": 50,
        "premium": "150.00",
        "base_lots": 1,
        "lots": 1,
    }


def test_size_when_fixed_lots_then_that_many_whatever_the_premium() -> None:
    assert size({"mode": "fixed_lots", "lots": 3}).lots == 3
    assert size({"mode": "fixed_lots", "lots": 3}, premium="900.00").lots == 3


@pytest.mark.parametrize(
    ("pct", "lots", "budget"),
    [
        (10, 1, "10000.00"),  # 10,000 / 7,500 = 1.33
        (50, 6, "50000.00"),  # 50,000 / 7,500 = 6.67: rounded down
        (7.5, 1, "7500.00"),  # exactly one lot
        (5, 0, "5000.00"),  # less than one lot: none
    ],
)
def test_size_when_capital_pct_then_budget_over_cost_per_lot_rounded_down(
    pct: float, lots: int, budget: str
) -> None:
    s = size({"mode": "capital_pct", "capital_pct": pct})
    assert s.lots == lots
    assert s.values["budget"] == budget and s.values["pct"] == str(pct)
    assert s.values["base_lots"] == lots


def test_size_when_risk_pct_then_whole_premium_at_risk_sized_like_capital_pct() -> None:
    s = size({"mode": "risk_pct", "risk_pct": 20})
    assert s.lots == 2  # 20,000 / 7,500 = 2.67
    assert s.values["mode"] == "risk_pct" and s.values["budget"] == "20000.00"


def test_size_when_premium_zero_then_no_lots_and_no_division_error() -> None:
    assert size({"mode": "capital_pct", "capital_pct": 10}, premium="0").lots == 0


def test_size_when_above_max_lots_then_capped_and_recorded() -> None:
    s = size({"mode": "capital_pct", "capital_pct": 50, "max_lots": 4})
    assert s.lots == 4
    assert s.values["base_lots"] == 6 and s.values["capped_at"] == 4  # 6.67 before the cap
    assert "capped_at" not in size({"mode": "fixed_lots", "lots": 4, "max_lots": 4}).values


@pytest.mark.parametrize(
    ("base", "factor", "lots"),
    [
        (4, 0.5, 2),
        (3, 0.75, 2),  # 2.25 rounded down
        (4, 0.25, 1),
        (1, 0.25, 1),  # 0.25 of one lot: never below one lot
        (3, 0.1, 1),
        (4, 0.0, 0),  # a factor of zero stops entries
        (4, 1.0, 4),
    ],
)
def test_size_when_size_factor_below_one_then_scaled_down_never_below_one_lot(
    base: int, factor: float, lots: int
) -> None:
    s = size({"mode": "fixed_lots", "lots": base}, factor=factor)
    assert s.lots == lots
    if factor < 1.0:
        assert s.values["size_factor"] == factor
    else:
        assert "size_factor" not in s.values


def test_size_when_capped_and_scaled_then_cap_applies_first() -> None:
    s = size({"mode": "fixed_lots", "lots": 10, "max_lots": 4}, factor=0.5)
    assert s.lots == 2
    assert s.values["capped_at"] == 4 and s.values["lots"] == 2


def test_size_when_budget_too_small_and_factor_below_one_then_still_no_lots() -> None:
    """The one-lot floor keeps a scaled entry alive; it does not create one from nothing."""
    assert size({"mode": "capital_pct", "capital_pct": 5}, factor=0.5).lots == 0
