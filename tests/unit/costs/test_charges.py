"""Charges of index option orders under the shipped dated table, worked by hand.

Most examples trade Rs 1,00,000 of premium (500 units at Rs 200.00) so each figure is easy
to check: x % of one lakh is x * 1000 rupees, and one lakh is 0.01 crore, so a charge of
Rs N per crore is N / 100 rupees. Brokerage is min(Rs 20, 0.25 % of 1,00,000 = Rs 250) =
Rs 20.00 throughout. Every date on which a rate changes is priced on the day before and
on the day itself.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest

from engine.costs.charges import DEFAULT_TABLE, ChargeBreakdown, ChargesError, ChargesTable
from engine.errors import UserInputError

D = Decimal
TABLE = ChargesTable.default()
LAKH_FILLS = [(D("200.00"), 500)]  # premium turnover 200.00 * 500 = 1,00,000


def charged(day: str, side: str) -> dict[str, str]:
    return TABLE.for_order(date.fromisoformat(day), side, LAKH_FILLS).to_dict()


def row(brokerage, stt, exchange, sebi, stamp, gst, ipft, total):  # type: ignore[no-untyped-def]
    return dict(
        brokerage=brokerage, stt=stt, exchange=exchange, sebi=sebi, stamp=stamp, gst=gst,
        ipft=ipft, total=total,
    )  # fmt: skip


# (day, side, expected); the arithmetic of each line is in its comment.
CASES = [
    # 2016-06-01, first day of the table. STT 0.05 % of 1 lakh = 50.00 (sell); exchange
    # 0.05 % = 50.00; IPFT Rs 0.01/crore * 0.01 crore = 0.0001 -> 0.00; SEBI Rs 15/crore
    # -> 0.15; stamp 0.002 % = 2.00 (buy); service tax 15 % on brokerage + exchange =
    # 15 % of 70.00 = 10.50. Sell: 20 + 50 + 50 + 0.15 + 10.50 = 130.65.
    (
        "2016-06-01",
        "sell",
        row("20.00", "50.00", "50.00", "0.15", "0.00", "10.50", "0.00", "130.65"),
    ),
    # Buy: 20 + 50 + 0.15 + 2.00 + 10.50 = 82.65.
    ("2016-06-01", "buy", row("20.00", "0.00", "50.00", "0.15", "2.00", "10.50", "0.00", "82.65")),
    (
        "2017-06-30",
        "sell",
        row("20.00", "50.00", "50.00", "0.15", "0.00", "10.50", "0.00", "130.65"),
    ),
    # 2017-07-01 GST 18 % on brokerage + exchange + IPFT + SEBI = 18 % of (20 + 50 + 0 +
    # 0.15 = 70.15) = 12.627 -> 12.63. Sell: 20 + 50 + 50 + 0.15 + 12.63 = 132.78.
    (
        "2017-07-01",
        "sell",
        row("20.00", "50.00", "50.00", "0.15", "0.00", "12.63", "0.00", "132.78"),
    ),
    ("2019-03-31", "buy", row("20.00", "0.00", "50.00", "0.15", "2.00", "12.63", "0.00", "84.78")),
    # 2019-04-01 SEBI Rs 10/crore -> 0.10; GST 18 % of 70.10 = 12.618 -> 12.62.
    # Buy: 20 + 50 + 0.10 + 2.00 + 12.62 = 84.72.
    ("2019-04-01", "buy", row("20.00", "0.00", "50.00", "0.10", "2.00", "12.62", "0.00", "84.72")),
    ("2020-05-31", "buy", row("20.00", "0.00", "50.00", "0.10", "2.00", "12.62", "0.00", "84.72")),
    # 2020-06-01 SEBI halved to Rs 5/crore -> 0.05; GST 18 % of 70.05 = 12.609 -> 12.61.
    # Buy: 20 + 50 + 0.05 + 2.00 + 12.61 = 84.66.
    ("2020-06-01", "buy", row("20.00", "0.00", "50.00", "0.05", "2.00", "12.61", "0.00", "84.66")),
    ("2020-06-30", "buy", row("20.00", "0.00", "50.00", "0.05", "2.00", "12.61", "0.00", "84.66")),
    # 2020-07-01 uniform stamp duty 0.003 % of 1 lakh = 3.00. Buy: 84.66 + 1.00 = 85.66.
    ("2020-07-01", "buy", row("20.00", "0.00", "50.00", "0.05", "3.00", "12.61", "0.00", "85.66")),
    (
        "2020-12-31",
        "sell",
        row("20.00", "50.00", "50.00", "0.05", "0.00", "12.61", "0.00", "132.66"),
    ),
    # 2021-01-01 exchange 0.053 % = 53.00; GST 18 % of (20 + 53 + 0.05 = 73.05) = 13.149
    # -> 13.15. Sell: 20 + 50 + 53 + 0.05 + 13.15 = 136.20.
    (
        "2021-01-01",
        "sell",
        row("20.00", "50.00", "53.00", "0.05", "0.00", "13.15", "0.00", "136.20"),
    ),
    (
        "2021-03-31",
        "sell",
        row("20.00", "50.00", "53.00", "0.05", "0.00", "13.15", "0.00", "136.20"),
    ),
    # 2021-04-01 SEBI back to Rs 10/crore -> 0.10; GST 18 % of 73.10 = 13.158 -> 13.16.
    # Sell: 20 + 50 + 53 + 0.10 + 13.16 = 136.26.
    (
        "2021-04-01",
        "sell",
        row("20.00", "50.00", "53.00", "0.10", "0.00", "13.16", "0.00", "136.26"),
    ),
    (
        "2023-03-31",
        "sell",
        row("20.00", "50.00", "53.00", "0.10", "0.00", "13.16", "0.00", "136.26"),
    ),
    # 2023-04-01 STT 0.0625 % = 62.50; exchange back to 0.05 % = 50.00; IPFT Rs 50/crore
    # -> 0.50; GST 18 % of (20 + 50 + 0.50 + 0.10 = 70.60) = 12.708 -> 12.71.
    # Sell: 20 + 62.50 + 50 + 0.10 + 12.71 + 0.50 = 145.81.
    (
        "2023-04-01",
        "sell",
        row("20.00", "62.50", "50.00", "0.10", "0.00", "12.71", "0.50", "145.81"),
    ),
    # Buy the same day: 20 + 50 + 0.10 + 3.00 + 12.71 + 0.50 = 86.31.
    ("2023-04-01", "buy", row("20.00", "0.00", "50.00", "0.10", "3.00", "12.71", "0.50", "86.31")),
    (
        "2024-09-30",
        "sell",
        row("20.00", "62.50", "50.00", "0.10", "0.00", "12.71", "0.50", "145.81"),
    ),
    # 2024-10-01 STT 0.1 % = 100.00; exchange 0.03503 % = 35.03; GST 18 % of (20 + 35.03 +
    # 0.50 + 0.10 = 55.63) = 10.0134 -> 10.01. Sell: 20 + 100 + 35.03 + 0.10 + 10.01 + 0.50
    # = 165.64.
    (
        "2024-10-01",
        "sell",
        row("20.00", "100.00", "35.03", "0.10", "0.00", "10.01", "0.50", "165.64"),
    ),
    # Buy: 20 + 35.03 + 0.10 + 3.00 + 10.01 + 0.50 = 68.64.
    ("2024-10-01", "buy", row("20.00", "0.00", "35.03", "0.10", "3.00", "10.01", "0.50", "68.64")),
    (
        "2026-03-31",
        "sell",
        row("20.00", "100.00", "35.03", "0.10", "0.00", "10.01", "0.50", "165.64"),
    ),
    # 2026-04-01 STT 0.15 % = 150.00. Sell: 165.64 + 50 = 215.64.
    (
        "2026-04-01",
        "sell",
        row("20.00", "150.00", "35.03", "0.10", "0.00", "10.01", "0.50", "215.64"),
    ),
]


@pytest.mark.parametrize(("day", "side", "expected"), CASES, ids=[f"{d}-{s}" for d, s, _ in CASES])
def test_for_order_when_one_lakh_of_premium_then_hand_computed_charges(
    day: str, side: str, expected: dict[str, str]
) -> None:
    assert charged(day, side) == expected


def test_for_fill_when_nifty_lot_then_each_component_rounded_to_paise() -> None:
    # 2024-06-14, buy 75 units (one NIFTY lot) at 120.50: turnover 75 * 120.50 = 9,037.50.
    # brokerage min(20, 0.25 % * 9,037.50 = 22.59) = 20.00; exchange 0.05 % = 4.51875 ->
    # 4.52; SEBI 9,037.50 * 10 / 1e7 = 0.0090375 -> 0.01; stamp 0.003 % = 0.271125 -> 0.27;
    # IPFT 9,037.50 * 50 / 1e7 = 0.0451875 -> 0.05; GST 18 % of (20 + 4.52 + 0.05 + 0.01 =
    # 24.58) = 4.4244 -> 4.42. Total 20 + 4.52 + 0.01 + 0.27 + 4.42 + 0.05 = 29.27.
    got = TABLE.for_fill(date(2024, 6, 14), "buy", D("120.50"), 75)
    assert got == ChargeBreakdown(
        brokerage=D("20.00"), stt=D("0.00"), exchange=D("4.52"), sebi=D("0.01"),
        stamp=D("0.27"), gst=D("4.42"), ipft=D("0.05"),
    )  # fmt: skip
    assert got.total == D("29.27")


def test_for_fill_when_small_premium_then_brokerage_is_the_quarter_percent_cap() -> None:
    # 2025-01-10, sell 75 at 10.00: turnover 750.00; brokerage min(20, 0.25 % * 750 =
    # 1.875) -> 1.88 (half up); STT 0.1 % = 0.75; exchange 0.03503 % = 0.262725 -> 0.26;
    # SEBI 0.00075 -> 0.00; IPFT 0.00375 -> 0.00; GST 18 % of (1.88 + 0.26) = 0.3852 ->
    # 0.39. Total 1.88 + 0.75 + 0.26 + 0.39 = 3.28.
    got = TABLE.for_fill(date(2025, 1, 10), "sell", D("10.00"), 75)
    assert got.to_dict() == row("1.88", "0.75", "0.26", "0.00", "0.00", "0.39", "0.00", "3.28")


def test_for_order_when_partial_fills_then_brokerage_once_on_the_whole_turnover() -> None:
    # 2024-10-01 sell in two fills: 75 at 100.00 + 25 at 100.40 = 7,500 + 2,510 = 10,010.
    # brokerage min(20, 25.025) = 20.00; STT 0.1 % = 10.01; exchange 0.03503 % = 3.506503
    # -> 3.51; SEBI 0.01001 -> 0.01; IPFT 0.05005 -> 0.05; GST 18 % of (20 + 3.51 + 0.05 +
    # 0.01 = 23.57) = 4.2426 -> 4.24. Total 20 + 10.01 + 3.51 + 0.01 + 4.24 + 0.05 = 37.82.
    fills = [(D("100.00"), 75), (D("100.40"), 25)]
    order = TABLE.for_order(date(2024, 10, 1), "sell", fills)
    assert order.to_dict() == row("20.00", "10.01", "3.51", "0.01", "0.00", "4.24", "0.05", "37.82")
    as_two_orders = sum(
        (TABLE.for_fill(date(2024, 10, 1), "sell", p, q) for p, q in fills), ChargeBreakdown.zero()
    )
    # As two orders: min(20, 0.25 % * 7,500 = 18.75) + min(20, 0.25 % * 2,510 = 6.275 ->
    # 6.28) = 25.03, more than the one order's 20.00.
    assert as_two_orders.brokerage == D("25.03")
    assert order.total < as_two_orders.total


def test_for_fill_when_half_paisa_then_rounded_half_up() -> None:
    # 2024-10-01 buy 1 unit at 100.00: stamp 0.003 % of 100 = 0.003 -> 0.00, exchange
    # 0.03503 % = 0.03503 -> 0.04; brokerage 0.25 % = 0.25. Buy 10 units at 50.00 (500):
    # stamp 0.015 -> 0.02 (half up, where half-even would give 0.02 too), exchange
    # 0.17515 -> 0.18. Buy 5 units at 10.00 (50): stamp 0.0015 -> 0.00; brokerage 0.125 ->
    # 0.13 (half up; half-even would give 0.12).
    assert TABLE.for_fill(date(2024, 10, 1), "buy", D("100.00"), 1).exchange == D("0.04")
    assert TABLE.for_fill(date(2024, 10, 1), "buy", D("50.00"), 10).stamp == D("0.02")
    assert TABLE.for_fill(date(2024, 10, 1), "buy", D("10.00"), 5).brokerage == D("0.13")


def test_for_fill_when_float_price_then_read_through_repr() -> None:
    exact = TABLE.for_fill(date(2024, 6, 14), "buy", D("120.5"), 75)
    assert TABLE.for_fill(date(2024, 6, 14), "buy", 120.5, 75) == exact  # type: ignore[arg-type]


def test_for_order_when_date_before_the_table_then_charges_error_naming_coverage() -> None:
    with pytest.raises(ChargesError, match=r"2016-05-31.*covers 2016-06-01 \.\. today") as e:
        TABLE.for_fill(date(2016, 5, 31), "buy", D("100"), 75)
    assert isinstance(e.value, UserInputError)
    assert e.value.exit_code == 2
    assert "charges.yaml" in str(e.value)


@pytest.mark.parametrize(
    ("side", "price", "qty"),
    [("short", D("1"), 1), ("buy", D("-1"), 1), ("buy", D("1"), 0), ("buy", D("1"), 1.5)],
)
def test_for_fill_when_bad_arguments_then_value_error(side: str, price: Decimal, qty: int) -> None:
    with pytest.raises(ValueError):
        TABLE.for_fill(date(2024, 6, 14), side, price, qty)


def test_for_order_when_no_fills_or_unknown_segment_then_refused() -> None:
    with pytest.raises(ValueError, match="at least one fill"):
        TABLE.for_order(date(2024, 6, 14), "buy", [])
    with pytest.raises(ChargesError, match="no segment 'stock_future'.*index_option"):
        TABLE.for_fill(date(2024, 6, 14), "buy", D("1"), 1, segment="stock_future")


def test_default_when_called_twice_then_loaded_once() -> None:
    assert ChargesTable.default() is ChargesTable.default()
    assert TABLE.segments == ("index_option",)
    assert TABLE.coverage() == (date(2016, 6, 1), None)


def test_charge_breakdown_when_added_then_componentwise_sum() -> None:
    a = TABLE.for_fill(date(2024, 10, 1), "buy", D("200.00"), 500)
    b = TABLE.for_fill(date(2024, 10, 1), "sell", D("200.00"), 500)
    both = a + b
    assert both.total == a.total + b.total == D("234.28")  # 68.64 + 165.64
    assert both.stt == D("100.00") and both.stamp == D("3.00")


def test_pyproject_when_built_then_the_table_ships_in_the_wheel() -> None:
    root = DEFAULT_TABLE.parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "charges.yaml" in config["tool"]["setuptools"]["package-data"]["engine.costs"]
