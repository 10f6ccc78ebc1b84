"""OrderManager: one intent, one order; journaled before the broker sees it; status from events."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from orders_testkit import DECISION_NS

from adapters.paper import FillModel, PaperBroker
from engine.clock import SimClock
from engine.errors import BrokerError, TemporaryBrokerError
from engine.journal import Journal
from engine.model.trading import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderPurpose,
    OrderRejected,
    OrderSide,
)
from engine.orders.manager import OrderManager
from engine.ports import Broker

MINUTE = 60_000_000_000
D = Decimal
Intents = Callable[..., OrderIntent]


class WatchingBroker:
    """A broker that remembers what the journal held when each order reached it."""

    def __init__(self, journal: Journal, *, fail_with: BrokerError | None = None) -> None:
        self.journal = journal
        self.fail_with = fail_with
        self.submitted: list[str] = []
        self.journal_at_submit: list[list[dict[str, Any]]] = []
        self.disk_at_submit: list[str] = []
        self.cancelled: list[str] = []
        self.cancel_fails = False

    @property
    def description(self) -> str:
        return "watching broker"

    def bind(self, sink: Any, clock: Any) -> None:
        pass

    def submit(self, intent: OrderIntent) -> None:
        self.submitted.append(intent.key)
        if self.journal.records is not None:
            self.journal_at_submit.append(list(self.journal.records))
        if self.journal.path is not None:
            self.disk_at_submit.append(self.journal.path.read_text(encoding="utf-8"))
        if self.fail_with is not None:
            raise self.fail_with

    def cancel(self, key: str) -> None:
        self.cancelled.append(key)
        if self.cancel_fails:
            raise BrokerError("AB2001: order not found")

    def market(self, symbol: str, ts: int, price: Decimal) -> None:
        pass


def _kinds(journal: Journal) -> list[str]:
    assert journal.records is not None
    return [r["kind"] for r in journal.records]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(DECISION_NS)


@pytest.fixture
def journal() -> Journal:
    return Journal(None)


def manager_with(
    broker: Any, journal: Journal, clock: SimClock, durable: bool = False
) -> OrderManager:
    return OrderManager(broker, journal, now=clock.now_ns, durable=durable)


def paper_manager(
    journal: Journal, clock: SimClock, fills: FillModel | None = None
) -> tuple[OrderManager, PaperBroker]:
    broker = PaperBroker(fills)
    manager = manager_with(broker, journal, clock)
    broker.bind(manager.on_event, clock)
    return manager, broker


def test_watching_broker_when_checked_then_it_is_a_broker(journal: Journal) -> None:
    assert isinstance(WatchingBroker(journal), Broker)


def test_submit_when_intent_new_then_journaled_before_the_broker_sees_it(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock)
    intent = intent_for()
    order = manager.submit(intent, why={"trigger": "adx_cross", "adx": 27.5})
    assert broker.submitted == [intent.key]
    seen = broker.journal_at_submit[0]
    assert seen[-1]["kind"] == "intent" and seen[-1]["key"] == intent.key
    assert seen[-1]["why"] == {"trigger": "adx_cross", "adx": 27.5}
    assert seen[-1]["limit_price"] == str(intent.limit_price)
    assert order.status == "submitted" and order.ts_submitted == DECISION_NS
    assert manager.pending == 1


def test_submit_when_durable_then_intent_is_on_disk_before_the_broker_sees_it(
    tmp_path: Path, clock: SimClock, intent_for: Intents
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock, durable=True)
    intent = intent_for()
    manager.submit(intent)
    lines = broker.disk_at_submit[0].splitlines()
    last = json.loads(lines[-1])
    assert last["kind"] == "intent" and last["key"] == intent.key
    journal.close()


def test_submit_when_not_durable_then_intent_may_wait_in_the_buffer(
    tmp_path: Path, clock: SimClock, intent_for: Intents
) -> None:
    """A backtest does not flush per order: only the header is on disk at submit."""
    journal = Journal(tmp_path / "journal.jsonl")
    broker = WatchingBroker(journal)
    manager_with(broker, journal, clock, durable=False).submit(intent_for())
    assert [json.loads(x)["kind"] for x in broker.disk_at_submit[0].splitlines()] == ["journal"]
    journal.close()
    kinds = [json.loads(x)["kind"] for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert kinds == ["journal", "intent"]


def test_submit_when_intent_repeated_then_no_second_order_and_journaled_as_repeated(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock)
    first = manager.submit(intent_for())
    clock.advance(5)
    again = manager.submit(intent_for())  # a retry of the same decision
    assert again is first
    assert broker.submitted == [first.intent.key]
    assert _kinds(journal) == ["journal", "intent", "intent_repeated"]
    assert journal.records is not None
    repeated = journal.records[-1]
    assert repeated["key"] == first.intent.key
    assert repeated["status"] == "submitted"
    assert repeated["ts"] == DECISION_NS + 5 * 1_000_000_000
    assert manager.pending == 1


def test_submit_when_repeated_after_fill_then_paper_broker_makes_no_second_order(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager, broker = paper_manager(journal, clock)
    intent = intent_for()
    manager.submit(intent)
    broker.market(intent.instrument.symbol, DECISION_NS + MINUTE, D("150.00"))
    assert manager.get(intent.key).status == "filled"  # type: ignore[union-attr]
    for _ in range(3):
        assert manager.submit(intent_for()).status == "filled"
    broker.market(intent.instrument.symbol, DECISION_NS + 2 * MINUTE, D("150.00"))
    assert broker.positions() == {intent.instrument.symbol: intent.qty}  # bought once
    assert _kinds(journal).count("intent") == 1
    assert _kinds(journal).count("intent_repeated") == 3


def test_submit_when_different_decisions_then_one_order_each(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock)
    a = manager.submit(intent_for())
    b = manager.submit(intent_for(ts_decision=DECISION_NS + MINUTE))
    assert a.intent.key != b.intent.key
    assert broker.submitted == [a.intent.key, b.intent.key]
    assert manager.pending == 2


@pytest.mark.parametrize(
    "error", [BrokerError("AB1004: something went wrong"), TemporaryBrokerError("timed out")]
)
def test_submit_when_broker_raises_then_order_rejected_and_journaled(
    journal: Journal, clock: SimClock, intent_for: Intents, error: BrokerError
) -> None:
    broker = WatchingBroker(journal, fail_with=error)
    manager = manager_with(broker, journal, clock)
    order = manager.submit(intent_for())
    assert order.status == "rejected" and order.done
    assert order.reason == f"broker error: {error}"
    assert manager.pending == 0
    assert _kinds(journal) == ["journal", "intent", "order_rejected"]
    assert journal.records is not None
    assert journal.records[-1]["reason"] == f"broker error: {error}"
    assert manager.reject_rate_pct(clock.now_ns()) == 100.0


def test_submit_when_rejected_intent_retried_then_not_sent_again(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal, fail_with=BrokerError("AB1004"))
    manager = manager_with(broker, journal, clock)
    manager.submit(intent_for())
    manager.submit(intent_for())
    assert len(broker.submitted) == 1
    assert journal.records is not None and journal.records[-1]["status"] == "rejected"


def test_on_event_when_paper_broker_accepts_then_status_accepted_with_order_id(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager, _ = paper_manager(journal, clock)
    order = manager.submit(intent_for())
    assert order.status == "accepted" and order.order_id == "P000001"
    assert not order.done and manager.pending == 1
    assert _kinds(journal) == ["journal", "intent", "order_accepted"]


def test_on_event_when_partial_then_full_fill_then_remaining_and_status_follow(
    journal: Journal, clock: SimClock, intent_for: Intents, contract: Any
) -> None:
    lot = contract.lot_size
    manager, broker = paper_manager(journal, clock, FillModel(max_fill_qty=lot))
    intent = intent_for(qty=3 * lot)
    order = manager.submit(intent)
    broker.market(intent.instrument.symbol, DECISION_NS + MINUTE, D("150.00"))
    assert (order.status, order.filled_qty, order.remaining) == ("accepted", lot, 2 * lot)
    assert manager.pending == 1
    broker.market(intent.instrument.symbol, DECISION_NS + 2 * MINUTE, D("150.50"))
    broker.market(intent.instrument.symbol, DECISION_NS + 3 * MINUTE, D("150.00"))
    assert (order.status, order.filled_qty, order.remaining) == ("filled", 3 * lot, 0)
    assert order.done and manager.pending == 0
    assert [q for _, q in order.fills] == [lot, lot, lot]
    assert journal.records is not None
    fills = [r for r in journal.records if r["kind"] == "order_filled"]
    assert [r["remaining"] for r in fills] == [2 * lot, lot, 0]
    assert fills[0]["price"] == str(order.fills[0][0])


def test_on_event_when_cancelled_after_partial_fill_then_cancelled_with_filled_qty(
    journal: Journal, clock: SimClock, intent_for: Intents, contract: Any
) -> None:
    lot = contract.lot_size
    manager, broker = paper_manager(journal, clock, FillModel(max_fill_qty=lot))
    intent = intent_for(qty=2 * lot)
    order = manager.submit(intent)
    broker.market(intent.instrument.symbol, DECISION_NS + MINUTE, D("150.00"))
    clock.set(DECISION_NS + 2 * MINUTE)
    assert manager.cancel([intent.key, "unknown-key"], "entry timeout") == [intent.key]
    assert order.status == "cancelled" and order.filled_qty == lot and order.done
    assert manager.pending == 0
    assert journal.records is not None
    requested = [r for r in journal.records if r["kind"] == "cancel_requested"]
    assert requested == [
        {"kind": "cancel_requested", "ts": clock.now_ns(), "key": intent.key,
         "reason": "entry timeout"}
    ]  # fmt: skip
    cancelled = journal.records[-1]
    assert cancelled["kind"] == "order_cancelled" and cancelled["filled_qty"] == lot


def test_cancel_when_order_done_then_not_asked(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal, fail_with=BrokerError("AB1004"))
    manager = manager_with(broker, journal, clock)
    intent = intent_for()
    manager.submit(intent)  # rejected
    assert manager.cancel([intent.key], "close") == []
    assert broker.cancelled == []


def test_cancel_when_broker_fails_then_still_reported_as_asked_and_order_working(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    broker.cancel_fails = True
    manager = manager_with(broker, journal, clock)
    intent = intent_for()
    manager.submit(intent)
    assert manager.cancel([intent.key], "close") == [intent.key]
    assert broker.cancelled == [intent.key]
    assert manager.pending == 1  # only the broker's answer ends an order


def test_on_event_when_accepted_arrives_after_fill_then_status_stays_filled(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock)
    intent = intent_for()
    manager.submit(intent)
    ts = DECISION_NS + MINUTE
    manager.on_event(OrderFilled(intent.key, "F1", intent.qty, D("150.50"), ts, 0, "B1"))
    order = manager.on_event(OrderAccepted(intent.key, "B1", ts))
    assert order is not None and order.status == "filled" and order.order_id == "B1"


def test_on_event_when_key_unknown_then_none_and_journaled_as_unknown(
    journal: Journal, clock: SimClock
) -> None:
    manager = manager_with(WatchingBroker(journal), journal, clock)
    assert manager.on_event(OrderAccepted("nosuchkey", "B9", DECISION_NS)) is None
    assert journal.records is not None
    assert journal.records[-1] == {
        "kind": "order_accepted", "ts": DECISION_NS, "key": "nosuchkey", "unknown": True
    }  # fmt: skip


def test_on_event_when_cancel_arrives_after_full_fill_then_order_stays_filled(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager = manager_with(WatchingBroker(journal), journal, clock)
    rejected, filled = intent_for(), intent_for(ts_decision=DECISION_NS + 1)
    manager.submit(rejected)
    manager.submit(filled)
    ts = DECISION_NS + MINUTE
    manager.on_event(OrderRejected(rejected.key, "RMS: margin", ts))
    manager.on_event(OrderFilled(filled.key, "F1", filled.qty, D("150.50"), ts, 0, "B1"))
    assert manager.on_event(OrderCancelled(filled.key, ts + 1, filled.qty, "user", "B1")) is None
    order = manager.get(filled.key)
    assert order is not None and order.status == "filled"
    assert manager.reject_rate_pct(ts + 1) == 50.0  # one of the two orders done


def test_working_when_filtered_then_only_matching_working_orders(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    broker = WatchingBroker(journal)
    manager = manager_with(broker, journal, clock)
    entry = manager.submit(intent_for())
    other_rule = manager.submit(intent_for(rule="other"))
    exit_ = manager.submit(
        intent_for(side=OrderSide.SELL, purpose=OrderPurpose.EXIT, reason="stop_loss")
    )
    bank = manager.submit(intent_for(underlying="BANKNIFTY"))
    keys = lambda **kw: {o.intent.key for o in manager.working(**kw)}  # noqa: E731
    assert keys() == {o.intent.key for o in (entry, other_rule, exit_, bank)}
    assert keys(purpose=OrderPurpose.EXIT) == {exit_.intent.key}
    assert keys(rule="other") == {other_rule.intent.key}
    assert keys(underlying="BANKNIFTY") == {bank.intent.key}
    assert keys(rule="adx_trend", underlying="NIFTY", purpose=OrderPurpose.ENTRY) == {
        entry.intent.key
    }
    manager.on_event(OrderRejected(entry.intent.key, "RMS: margin", DECISION_NS + 1))
    assert entry.intent.key not in keys() and manager.pending == 3


def test_pending_when_orders_finish_then_count_falls(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager = manager_with(WatchingBroker(journal), journal, clock)
    intents = [intent_for(ts_decision=DECISION_NS + i) for i in range(4)]
    for i in intents:
        manager.submit(i)
    assert manager.pending == 4
    ts = DECISION_NS + MINUTE
    manager.on_event(OrderFilled(intents[0].key, "F1", intents[0].qty, D("150"), ts, 0))
    manager.on_event(OrderCancelled(intents[1].key, ts))
    manager.on_event(OrderRejected(intents[2].key, "RMS", ts))
    assert manager.pending == 1
    assert [o.intent.key for o in manager.working()] == [intents[3].key]


def test_reject_rate_when_orders_done_then_share_rejected_over_last_15_minutes(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager = manager_with(WatchingBroker(journal), journal, clock)
    t0 = DECISION_NS
    intents = [intent_for(ts_decision=t0 + i) for i in range(4)]
    for i in intents:
        manager.submit(i)
    assert manager.reject_rate_pct(t0) == 0.0  # nothing done yet
    manager.on_event(OrderRejected(intents[0].key, "RMS", t0))
    manager.on_event(OrderFilled(intents[1].key, "F", intents[1].qty, D("150"), t0 + MINUTE, 0))
    manager.on_event(OrderFilled(intents[2].key, "F", intents[2].qty, D("150"), t0 + MINUTE, 0))
    manager.on_event(OrderRejected(intents[3].key, "RMS", t0 + 2 * MINUTE))
    assert manager.reject_rate_pct(t0 + 2 * MINUTE) == 50.0
    # exactly 15 minutes after the first rejection it still counts ...
    assert manager.reject_rate_pct(t0 + 15 * MINUTE) == 50.0
    # ... and drops out just after
    assert manager.reject_rate_pct(t0 + 15 * MINUTE + 1) == pytest.approx(100 / 3)
    assert manager.reject_rate_pct(t0 + 16 * MINUTE + 1) == 100.0
    assert manager.reject_rate_pct(t0 + 18 * MINUTE) == 0.0


def test_reject_rate_when_only_working_orders_then_zero(
    journal: Journal, clock: SimClock, intent_for: Intents
) -> None:
    manager = manager_with(WatchingBroker(journal), journal, clock)
    manager.submit(intent_for())
    manager.on_event(OrderAccepted(manager.working().__next__().intent.key, "B1", DECISION_NS))
    assert manager.reject_rate_pct(DECISION_NS + MINUTE) == 0.0
