"""Order intents: the idempotency key and the protected limit price."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.trading import OptionKind, OrderPurpose, OrderSide
from engine.orders.intents import DEFAULT_LIMIT_BAND_PCT, intent_key, limit_price, make_intent

D = Decimal
TICK = D("0.05")
TS = 1_709_710_200_000_000_000  # 2024-03-06 13:00 IST

BASE = {
    "rule": "adx_trend",
    "underlying": "NIFTY",
    "symbol": "NIFTY07MAR2422000CE",
    "side": "buy",
    "purpose": "entry",
    "qty": 50,
    "ts_decision": TS,
    "reason": "adx_cross",
}


@pytest.fixture(scope="module")
def contract():  # type: ignore[no-untyped-def]
    source = CalendarInstruments(Calendar.default())
    return source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, date(2024, 3, 6))


def test_intent_key_when_same_decision_then_same_key_every_time() -> None:
    assert intent_key(**BASE) == intent_key(**dict(BASE))


def test_intent_key_when_computed_then_16_lowercase_base32_characters() -> None:
    key = intent_key(**BASE)
    assert len(key) == 16
    assert set(key) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_intent_key_when_computed_then_first_16_of_base32_sha256_of_the_fields() -> None:
    """The key is stable across processes and versions: a restart replaying the journal
    must find the same keys, so its definition is pinned here."""
    text = "adx_trend|NIFTY|NIFTY07MAR2422000CE|buy|entry|50|1709710200000000000|adx_cross"
    expected = base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16].lower()
    assert intent_key(**BASE) == expected


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("rule", "adx_trend_2"),
        ("underlying", "BANKNIFTY"),
        ("symbol", "NIFTY07MAR2422000PE"),
        ("side", "sell"),
        ("purpose", "exit"),
        ("qty", 75),
        ("ts_decision", TS + 60_000_000_000),
        ("reason", "stop_loss"),
    ],
)
def test_intent_key_when_one_field_differs_then_key_differs(field: str, other: object) -> None:
    assert intent_key(**{**BASE, field: other}) != intent_key(**BASE)


def test_intent_key_when_fields_shift_across_the_separator_then_keys_still_differ() -> None:
    a = intent_key(**{**BASE, "rule": "a", "underlying": "bNIFTY"})
    b = intent_key(**{**BASE, "rule": "ab", "underlying": "NIFTY"})
    assert a != b


@pytest.mark.parametrize(
    ("last", "side", "expected"),
    [
        (D("100"), OrderSide.BUY, D("100.50")),  # exactly on the tick: kept
        (D("100"), OrderSide.SELL, D("99.50")),
        (D("100.03"), OrderSide.BUY, D("100.55")),  # 100.53015 rounded up
        (D("100.03"), OrderSide.SELL, D("99.50")),  # 99.52985 rounded down
        (D("187.35"), OrderSide.BUY, D("188.30")),  # 188.28675 rounded up
        (D("187.35"), OrderSide.SELL, D("186.40")),  # 186.41325 rounded down
        (D("0.05"), OrderSide.BUY, D("0.10")),  # 0.05025 rounded up
        (D("0.05"), OrderSide.SELL, D("0.05")),  # 0.04975 would be 0.00: one tick
        (D("0.10"), OrderSide.SELL, D("0.05")),  # 0.0995 rounded down
    ],
)
def test_limit_price_when_last_given_then_band_rounded_away_from_the_touch(
    last: Decimal, side: OrderSide, expected: Decimal
) -> None:
    assert limit_price(last, side, TICK) == expected


def test_limit_price_when_band_given_then_it_is_used() -> None:
    assert limit_price(D("200"), OrderSide.BUY, TICK, D("2")) == D("204.00")
    assert limit_price(D("200"), OrderSide.SELL, TICK, D("2")) == D("196.00")
    assert limit_price(D("200"), OrderSide.BUY, TICK, D("0")) == D("200.00")


def test_limit_price_when_default_band_then_half_a_percent() -> None:
    assert D("0.5") == DEFAULT_LIMIT_BAND_PCT


prices = st.decimals(min_value=D("0.01"), max_value=D("20000"), places=2)


@given(prices)
def test_limit_price_when_buying_at_any_price_then_first_tick_at_or_above_the_band(
    last: Decimal,
) -> None:
    target = last * D("1.005")
    got = limit_price(last, OrderSide.BUY, TICK)
    assert got % TICK == 0
    assert got >= target and got >= TICK
    assert got - TICK < target  # the nearest tick, not one further


@given(prices)
def test_limit_price_when_selling_at_any_price_then_last_tick_at_or_below_the_band(
    last: Decimal,
) -> None:
    target = last * D("0.995")
    got = limit_price(last, OrderSide.SELL, TICK)
    assert got % TICK == 0
    assert got >= TICK
    if target >= TICK:
        assert got <= target < got + TICK
    else:
        assert got == TICK  # never below one tick


@given(prices)
def test_limit_price_when_any_price_then_buy_never_below_sell(last: Decimal) -> None:
    assert limit_price(last, OrderSide.BUY, TICK) >= limit_price(last, OrderSide.SELL, TICK)


def test_make_intent_when_built_then_key_and_limit_from_its_fields(contract) -> None:  # type: ignore[no-untyped-def]
    intent = make_intent(
        rule="adx_trend",
        underlying="NIFTY",
        instrument=contract,
        side=OrderSide.BUY,
        purpose=OrderPurpose.ENTRY,
        qty=50,
        last=D("187.35"),
        ts_decision=TS,
        reason="adx_cross",
    )
    assert contract.symbol == "NIFTY07MAR2422000CE" and contract.tick_size == TICK
    assert intent.key == intent_key(**BASE)
    assert intent.limit_price == D("188.30")
    assert intent.lots == 50 // contract.lot_size
    record = intent.to_dict()
    assert record["key"] == intent.key and record["limit_price"] == "188.30"
    assert record["side"] == "buy" and record["purpose"] == "entry"


def test_make_intent_when_retried_with_the_same_decision_then_same_key(contract) -> None:  # type: ignore[no-untyped-def]
    kw = dict(
        rule="adx_trend",
        underlying="NIFTY",
        instrument=contract,
        side=OrderSide.SELL,
        purpose=OrderPurpose.EXIT,
        qty=50,
        ts_decision=TS,
        reason="stop_loss",
    )
    first = make_intent(last=D("120.00"), **kw)  # type: ignore[arg-type]
    # a retry a moment later sees another price: the decision, and so the key, is the same
    retry = make_intent(last=D("118.40"), **kw)  # type: ignore[arg-type]
    assert retry.key == first.key
    assert retry.limit_price != first.limit_price


def test_make_intent_when_contract_tick_differs_then_limit_on_that_tick(contract) -> None:  # type: ignore[no-untyped-def]
    coarse = replace(contract, tick_size=D("0.10"))
    intent = make_intent(
        rule="r",
        underlying="NIFTY",
        instrument=coarse,
        side=OrderSide.BUY,
        purpose=OrderPurpose.ENTRY,
        qty=50,
        last=D("100.03"),
        ts_decision=TS,
        reason="t",
    )
    assert intent.limit_price == D("100.60")
