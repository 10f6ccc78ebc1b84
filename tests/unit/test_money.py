"""Money in paise and prices on the tick grid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.money import PAISE_PER_RUPEE, from_paise, is_on_tick, round_to_tick, to_paise


def test_to_paise_when_decimal_or_str_then_exact_paise() -> None:
    assert PAISE_PER_RUPEE == 100
    assert to_paise(Decimal("123.45")) == 12345
    assert to_paise("0.05") == 5
    assert to_paise(" -7.10 ") == -710
    assert to_paise(20) == 2000


def test_to_paise_when_float_then_read_through_repr() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in binary; repr keeps that, and it rounds to 30 paise.
    assert to_paise(0.1 + 0.2) == 30
    # 123.45 is 123.4499999999999957... in binary; repr gives "123.45", so 12345, not 12344.
    assert to_paise(123.45) == 12345
    assert to_paise(1e-3) == 0


def test_to_paise_when_half_a_paisa_then_half_even() -> None:
    assert to_paise("1.005") == 100  # 100.5 paise -> the even neighbour 100
    assert to_paise("1.015") == 102  # 101.5 paise -> 102
    assert to_paise("-1.005") == -100


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "NaN", "-Infinity", "abc", ""])
def test_to_paise_when_not_a_finite_number_then_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        to_paise(bad)  # type: ignore[arg-type]


def test_to_paise_when_bool_or_other_type_then_type_error() -> None:
    with pytest.raises(TypeError):
        to_paise(True)
    with pytest.raises(TypeError):
        to_paise([1])  # type: ignore[arg-type]


def test_from_paise_when_int_then_two_decimal_places() -> None:
    assert str(from_paise(150)) == "1.50"
    assert str(from_paise(-5)) == "-0.05"
    assert str(from_paise(0)) == "0.00"
    with pytest.raises(TypeError):
        from_paise(1.5)  # type: ignore[arg-type]


def test_round_to_tick_when_nearest_then_half_up_with_tick_exponent() -> None:
    assert round_to_tick(Decimal("1.02")) == Decimal("1.00")
    assert str(round_to_tick(Decimal("1.025"))) == "1.05"  # exactly half a tick: up
    assert str(round_to_tick(Decimal("1.0249"))) == "1.00"
    assert str(round_to_tick(Decimal("7"))) == "7.00"
    assert str(round_to_tick(123.44999999)) == "123.45"


def test_round_to_tick_when_up_or_down_then_ceiling_or_floor() -> None:
    assert str(round_to_tick(Decimal("1.01"), mode="up")) == "1.05"
    assert str(round_to_tick(Decimal("1.05"), mode="up")) == "1.05"
    assert str(round_to_tick(Decimal("1.09"), mode="down")) == "1.05"
    assert str(round_to_tick(Decimal("0.04"), mode="down")) == "0.00"


def test_round_to_tick_when_other_tick_then_its_grid() -> None:
    assert str(round_to_tick(Decimal("101.3"), Decimal("0.5"))) == "101.5"
    assert str(round_to_tick(Decimal("18612.4"), Decimal("50"))) == "18600"
    assert str(round_to_tick(Decimal("18625"), Decimal("50"))) == "18650"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("-0.05"), -1.0])
def test_round_to_tick_when_non_finite_or_negative_then_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        round_to_tick(bad)  # type: ignore[arg-type]


def test_round_to_tick_when_bad_mode_or_tick_then_value_error() -> None:
    with pytest.raises(ValueError, match="mode"):
        round_to_tick(Decimal("1"), mode="half")
    with pytest.raises(ValueError, match="tick"):
        round_to_tick(Decimal("1"), Decimal("0"))


def test_is_on_tick_when_multiple_then_true_else_false() -> None:
    assert is_on_tick(Decimal("123.45"), Decimal("0.05"))
    assert is_on_tick(123.45, Decimal("0.05"))
    assert not is_on_tick(Decimal("123.46"), Decimal("0.05"))
    assert not is_on_tick(float("nan"), Decimal("0.05"))
    assert is_on_tick("18650", Decimal("50"))
