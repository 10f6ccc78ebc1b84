"""Fixtures for the order tests: a real NIFTY contract and intents for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from orders_testkit import DECISION_NS

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.trading import Instrument, OptionKind, OrderIntent, OrderPurpose, OrderSide
from engine.orders.intents import make_intent


@pytest.fixture(scope="session")
def contract() -> Instrument:
    source = CalendarInstruments(Calendar.default())
    return source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, date(2024, 3, 6))


@pytest.fixture
def intent_for(contract: Instrument) -> Callable[..., OrderIntent]:
    """``intent_for(reason="x", qty=50, ...)``: an intent for the contract, by decision."""

    def build(**kw: Any) -> OrderIntent:
        args: dict[str, Any] = {
            "rule": "adx_trend",
            "underlying": "NIFTY",
            "instrument": contract,
            "side": OrderSide.BUY,
            "purpose": OrderPurpose.ENTRY,
            "qty": 2 * contract.lot_size,
            "last": Decimal("150.00"),
            "ts_decision": DECISION_NS,
            "reason": "adx_cross",
        }
        args.update(kw)
        return make_intent(**args)

    return build
