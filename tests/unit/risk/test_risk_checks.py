"""Pre-order risk checks: each one passing and refusing, with the values it compared.

The intent buys 2 lots (100 units) of the real NIFTY 22000 CE of 2024-03-07 (lot 50, tick
0.05, freeze quantity 1800) at a limit of 150.75 (last 150.00 plus 0.5 %). The base state
passes every check; each test changes one thing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.market import to_ns
from engine.model.trading import OptionKind, OrderIntent, OrderPurpose, OrderSide
from engine.orders.intents import make_intent
from engine.risk.checks import CHECKS, CheckResult, RiskState, run_checks
from engine.timeutil import IST

D = Decimal

CODES = [
    "ENTRIES_ALLOWED",
    "MAX_OPEN_POSITIONS",
    "OPPOSITE_SIDE_HELD",
    "POSITIONS_PER_UNDERLYING",
    "MAX_TRADES_PER_DAY",
    "MAX_LOSS_PER_DAY",
    "LOT_MULTIPLE",
    "TICK_SIZE",
    "FREEZE_QUANTITY",
    "PRICE_BAND",
    "MAX_PREMIUM_PER_ORDER",
]


@pytest.fixture(scope="module")
def intent() -> OrderIntent:
    source = CalendarInstruments(Calendar.default())
    contract = source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, date(2024, 3, 6))
    return make_intent(
        rule="adx_trend",
        underlying="NIFTY",
        instrument=contract,
        side=OrderSide.BUY,
        purpose=OrderPurpose.ENTRY,
        qty=100,
        last=D("150.00"),
        ts_decision=to_ns(datetime(2024, 3, 6, 11, 0, tzinfo=IST)),
        reason="adx_cross",
    )


STATE = RiskState(
    open_positions=1,
    max_open_positions=2,
    side_held_on_underlying="none",
    trades_today=2,
    max_trades_per_day=3,
    day_pnl=D("-1500.00"),
    capital=D("100000"),
    max_loss_per_day_pct=3.0,
    max_premium_per_order=D("20000"),
    last_price=D("150.00"),
    price_band_pct=1.0,
    entries_allowed=True,
    blocked_by="",
)


def result(intent: OrderIntent, code: str, **changes: Any) -> CheckResult:
    found = [r for r in run_checks(intent, replace(STATE, **changes)) if r.code == code]
    assert len(found) == 1
    return found[0]


def test_run_checks_when_all_hold_then_every_check_passes_in_order(intent: OrderIntent) -> None:
    assert intent.limit_price == D("150.75") and intent.instrument.freeze_qty == 1800
    results = run_checks(intent, STATE)
    assert [r.code for r in results] == CODES
    assert all(r.passed for r in results)
    assert len(CHECKS) == len(CODES)


def test_run_checks_when_several_fail_then_all_are_reported(intent: OrderIntent) -> None:
    """The first failure does not hide the others."""
    results = run_checks(
        replace(intent, qty=75, limit_price=D("150.73")),
        replace(STATE, entries_allowed=False, blocked_by="killswitch", trades_today=3),
    )
    failed = [r.code for r in results if not r.passed]
    assert failed == ["ENTRIES_ALLOWED", "MAX_TRADES_PER_DAY", "LOT_MULTIPLE", "TICK_SIZE"]
    assert len(results) == len(CODES)


def test_entries_allowed_when_a_machine_blocks_then_refused_naming_it(intent: OrderIntent) -> None:
    r = result(intent, "ENTRIES_ALLOWED", entries_allowed=False, blocked_by="breakers.tripped")
    assert not r.passed and r.values == {"blocked_by": "breakers.tripped"}
    ok = result(intent, "ENTRIES_ALLOWED")
    assert ok.passed and ok.values == {"blocked_by": None}


@pytest.mark.parametrize(
    ("open_", "limit", "passed"), [(1, 2, True), (2, 2, False), (5, 2, False), (9, None, True)]
)
def test_max_open_positions_when_open_reaches_limit_then_refused(
    intent: OrderIntent, open_: int, limit: int | None, passed: bool
) -> None:
    r = result(intent, "MAX_OPEN_POSITIONS", open_positions=open_, max_open_positions=limit)
    assert r.passed is passed
    assert r.values == {"open": open_, "limit": limit}


@pytest.mark.parametrize(("held", "passed"), [("none", True), ("CE", True), ("PE", False)])
def test_opposite_side_when_pe_held_and_ce_wanted_then_refused(
    intent: OrderIntent, held: str, passed: bool
) -> None:
    r = result(intent, "OPPOSITE_SIDE_HELD", side_held_on_underlying=held)
    assert r.passed is passed
    assert r.values == {"underlying": "NIFTY", "held": held, "wanted": "CE"}


@pytest.mark.parametrize(
    ("held", "limit", "passed"), [(0, 1, True), (1, 1, False), (1, 2, True), (5, None, True)]
)
def test_positions_per_underlying_when_another_rule_holds_it_then_refused(
    intent: OrderIntent, held: int, limit: int | None, passed: bool
) -> None:
    r = result(
        intent,
        "POSITIONS_PER_UNDERLYING",
        positions_on_underlying=held,
        max_positions_per_underlying=limit,
    )
    assert r.passed is passed
    assert r.values == {"underlying": "NIFTY", "held": held, "limit": limit}


def test_opposite_side_when_ce_held_and_pe_wanted_then_refused(intent: OrderIntent) -> None:
    put = replace(intent, instrument=replace(intent.instrument, kind=OptionKind.PE))
    r = [x for x in run_checks(put, replace(STATE, side_held_on_underlying="CE"))][2]
    assert r.code == "OPPOSITE_SIDE_HELD" and not r.passed
    assert r.values["wanted"] == "PE"


@pytest.mark.parametrize(
    ("today", "limit", "passed"), [(2, 3, True), (3, 3, False), (0, 0, False), (50, None, True)]
)
def test_trades_per_day_when_limit_reached_then_refused(
    intent: OrderIntent, today: int, limit: int | None, passed: bool
) -> None:
    r = result(intent, "MAX_TRADES_PER_DAY", trades_today=today, max_trades_per_day=limit)
    assert r.passed is passed
    assert r.values == {"trades_today": today, "limit": limit}


@pytest.mark.parametrize(
    ("pnl", "limit", "passed", "pct"),
    [
        ("-1500.00", 3.0, True, -1.5),
        ("-2999.99", 3.0, True, -3.0),  # -2.99999 % rounds to -3.0 in the record; passes
        ("-3000.00", 3.0, False, -3.0),  # exactly the limit: refused
        ("-4500.00", 3.0, False, -4.5),
        ("2500.00", 3.0, True, 2.5),
        ("-90000.00", None, True, -90.0),
    ],
)
def test_daily_loss_when_loss_reaches_limit_then_refused(
    intent: OrderIntent, pnl: str, limit: float | None, passed: bool, pct: float
) -> None:
    r = result(intent, "MAX_LOSS_PER_DAY", day_pnl=D(pnl), max_loss_per_day_pct=limit)
    assert r.passed is passed
    assert r.values == {"day_pnl": pnl, "day_pnl_pct": pct, "limit_pct": limit}


def test_daily_loss_when_no_capital_then_percent_zero(intent: OrderIntent) -> None:
    r = result(intent, "MAX_LOSS_PER_DAY", capital=D(0), day_pnl=D("-500"))
    assert r.passed and r.values["day_pnl_pct"] == 0.0


@pytest.mark.parametrize(("qty", "passed"), [(50, True), (100, True), (75, False), (0, False)])
def test_lot_multiple_when_not_whole_lots_then_refused(
    intent: OrderIntent, qty: int, passed: bool
) -> None:
    r = [x for x in run_checks(replace(intent, qty=qty), STATE) if x.code == "LOT_MULTIPLE"][0]
    assert r.passed is passed
    assert r.values == {"qty": qty, "lot_size": 50}


@pytest.mark.parametrize(
    ("price", "passed"), [("150.75", True), ("0.05", True), ("150.73", False), ("0", False)]
)
def test_tick_size_when_price_off_the_tick_then_refused(
    intent: OrderIntent, price: str, passed: bool
) -> None:
    checked = replace(intent, limit_price=D(price))
    r = [x for x in run_checks(checked, STATE) if x.code == "TICK_SIZE"][0]
    assert r.passed is passed
    assert r.values == {"price": price, "tick": "0.05"}


@pytest.mark.parametrize(
    ("qty", "freeze", "passed"), [(1800, 1800, True), (1850, 1800, False), (5000, None, True)]
)
def test_freeze_quantity_when_order_larger_than_freeze_then_refused(
    intent: OrderIntent, qty: int, freeze: int | None, passed: bool
) -> None:
    checked = replace(intent, qty=qty, instrument=replace(intent.instrument, freeze_qty=freeze))
    r = [x for x in run_checks(checked, STATE) if x.code == "FREEZE_QUANTITY"][0]
    assert r.passed is passed
    assert r.values == {"qty": qty, "freeze_qty": freeze}


@pytest.mark.parametrize(
    ("price", "last", "passed", "off"),
    [
        ("150.75", "150.00", True, 0.5),
        ("151.50", "150.00", True, 1.0),  # exactly the band
        ("153.00", "150.00", False, 2.0),
        ("147.00", "150.00", False, 2.0),  # off either way
        ("150.75", "0", False, 0.0),  # no last price: nothing to compare with
    ],
)
def test_price_band_when_limit_too_far_from_last_then_refused(
    intent: OrderIntent, price: str, last: str, passed: bool, off: float
) -> None:
    checked = replace(intent, limit_price=D(price))
    r = [
        x for x in run_checks(checked, replace(STATE, last_price=D(last))) if x.code == "PRICE_BAND"
    ]
    assert r[0].passed is passed
    assert r[0].values == {"price": price, "last": last, "off_pct": off, "band_pct": 1.0}


@pytest.mark.parametrize(
    ("cap", "passed"), [("20000", True), ("15075.00", True), ("15000", False), (None, True)]
)
def test_premium_cap_when_outlay_above_cap_then_refused(
    intent: OrderIntent, cap: str | None, passed: bool
) -> None:
    r = result(
        intent, "MAX_PREMIUM_PER_ORDER", max_premium_per_order=None if cap is None else D(cap)
    )
    assert r.passed is passed
    assert r.values == {"outlay": "15075.00", "limit": cap}  # 100 * 150.75


def test_to_record_when_serialised_then_code_passed_and_values() -> None:
    r = CheckResult("MAX_OPEN_POSITIONS", False, {"open": 2, "limit": 2})
    assert r.to_record() == {
        "code": "MAX_OPEN_POSITIONS",
        "passed": False,
        "values": {"open": 2, "limit": 2},
    }
