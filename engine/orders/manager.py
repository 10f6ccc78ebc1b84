"""Sending, tracking and cancelling orders: one intent, one order, whatever happens.

``submit`` journals the intent (durably in paper and live: fsync before the broker sees
it), then hands it to the broker. An intent key seen before is never sent again: the
existing order is returned and the attempt journaled, so a retry or a replayed decision
cannot make a second order. Broker events update the order and are journaled; the
runtime then books fills in the ledger and steps the position machine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.errors import BrokerError
from engine.journal import Journal
from engine.logs import category_logger
from engine.model.trading import (
    BrokerEvent,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderPurpose,
    OrderRejected,
)
from engine.ports import Broker

__all__ = ["OrderManager", "WorkingOrder"]

log = category_logger("orders")
_MINUTE_NS = 60_000_000_000


@dataclass(slots=True)
class WorkingOrder:
    intent: OrderIntent
    ts_submitted: int
    status: str = "submitted"  # submitted | accepted | filled | cancelled | rejected
    order_id: str | None = None
    filled_qty: int = 0
    fills: list[tuple[Decimal, int]] = field(default_factory=list)  # (price, qty)
    charged: Decimal = Decimal(0)  # charges booked for it so far
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.status in ("filled", "cancelled", "rejected")

    @property
    def remaining(self) -> int:
        return self.intent.qty - self.filled_qty


class OrderManager:
    """Orders by intent key; see the module docstring."""

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        *,
        now: Callable[[], int],
        durable: bool,
    ) -> None:
        self.broker = broker
        self.journal = journal
        self._now = now
        self._durable = durable
        self._orders: dict[str, WorkingOrder] = {}
        self._working: dict[str, WorkingOrder] = {}
        self._outcomes: deque[tuple[int, bool]] = deque()  # (ts, rejected) over 15 minutes

    # -- sending ---------------------------------------------------------------------------
    def submit(self, intent: OrderIntent, why: dict[str, Any] | None = None) -> WorkingOrder:
        existing = self._orders.get(intent.key)
        if existing is not None:
            log.warning("intent {} was already sent; not sending it again", intent.key)
            self.journal.write(
                {
                    "kind": "intent_repeated",
                    "ts": self._now(),
                    "key": intent.key,
                    "status": existing.status,
                },
                sync=self._durable,
            )
            return existing
        now = self._now()
        record = {"kind": "intent", "ts": now, **intent.to_dict()}
        if why:
            record["why"] = why
        self.journal.write(record, sync=self._durable)
        order = WorkingOrder(intent, now)
        self._orders[intent.key] = order
        self._working[intent.key] = order
        try:
            self.broker.submit(intent)
        except BrokerError as e:
            self.on_event(OrderRejected(intent.key, f"broker error: {e}", now))
        return order

    def cancel(self, keys: Iterable[str], reason: str) -> list[str]:
        """Ask the broker to cancel these working orders; the keys asked for."""
        asked = []
        for key in keys:
            order = self._working.get(key)
            if order is None:
                continue
            self.journal.write(
                {"kind": "cancel_requested", "ts": self._now(), "key": key, "reason": reason},
                sync=self._durable,
            )
            try:
                self.broker.cancel(key)
            except BrokerError as e:
                log.warning("cancel of {} failed: {}", key, e)
            asked.append(key)
        return asked

    # -- hearing back ----------------------------------------------------------------------
    def on_event(self, event: BrokerEvent) -> WorkingOrder | None:
        """Apply a broker event; the order it changed (None: an unknown key, or a status
        event for an order already finished, which changes nothing)."""
        order = self._orders.get(event.key)
        record: dict[str, Any] = {"kind": "order_" + event.kind, "ts": event.ts_event}
        if order is None:
            log.error("broker event for an unknown order {}: {}", event.key, event)
            self.journal.write({**record, "key": event.key, "unknown": True}, sync=True)
            return None
        if order.done and isinstance(event, OrderCancelled | OrderRejected):
            # a cancel or reject for an order already finished (it raced the fill): on
            # record, nothing changes; a late *fill* is always booked, below
            self.journal.write({**record, "key": event.key, "ignored": f"order {order.status}"},
                               sync=self._durable)  # fmt: skip
            return None
        if isinstance(event, OrderAccepted):
            order.status = "accepted" if order.status == "submitted" else order.status
            order.order_id = event.order_id
            record.update(key=event.key, order_id=event.order_id)
        elif isinstance(event, OrderFilled):
            order.filled_qty += event.qty
            order.fills.append((event.price, event.qty))
            if order.filled_qty >= order.intent.qty:
                order.status = "filled"
            record.update(
                key=event.key,
                fill_id=event.fill_id,
                qty=event.qty,
                price=event.price,
                remaining=order.remaining,
            )
        elif isinstance(event, OrderCancelled):
            order.status = "cancelled"
            order.reason = event.reason
            record.update(key=event.key, filled_qty=order.filled_qty, reason=event.reason)
        elif isinstance(event, OrderRejected):
            order.status = "rejected"
            order.reason = event.reason
            record.update(key=event.key, reason=event.reason)
        if order.done and order.intent.key in self._working:
            del self._working[order.intent.key]
            self._outcomes.append((event.ts_event, order.status == "rejected"))
        self.journal.write(record, sync=self._durable)
        return order

    # -- what is working -------------------------------------------------------------------
    def working(
        self,
        *,
        purpose: OrderPurpose | None = None,
        rule: str | None = None,
        underlying: str | None = None,
    ) -> Iterator[WorkingOrder]:
        for order in list(self._working.values()):
            i = order.intent
            if purpose is not None and i.purpose is not purpose:
                continue
            if rule is not None and i.rule != rule:
                continue
            if underlying is not None and i.underlying != underlying:
                continue
            yield order

    @property
    def pending(self) -> int:
        return len(self._working)

    def get(self, key: str) -> WorkingOrder | None:
        return self._orders.get(key)

    def reject_rate_pct(self, now: int) -> float:
        """Rejected orders as a percent of orders done over the last 15 minutes."""
        outcomes = self._outcomes
        while outcomes and outcomes[0][0] < now - 15 * _MINUTE_NS:
            outcomes.popleft()
        if not outcomes:
            return 0.0
        return 100.0 * sum(1 for _, rejected in outcomes if rejected) / len(outcomes)
