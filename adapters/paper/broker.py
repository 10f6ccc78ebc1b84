"""A broker that fills orders by the fill table against the prices the core shows it.

It implements ``engine.ports.Broker``: ``submit`` accepts the order at once (an intent
key it has seen is never taken twice), ``market`` shows it the price of a contract at an
instant and fills what crosses, ``cancel`` cancels what is still working. Events go to
the bound sink; the core queues them, so nothing here re-enters the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from adapters.paper.fills import FillModel
from engine.logs import category_logger
from engine.model.trading import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderRejected,
    OrderSide,
)
from engine.ports import BrokerSink, Clock

__all__ = ["PaperBroker"]

log = category_logger("paper")


@dataclass(slots=True)
class _Order:
    intent: OrderIntent
    order_id: str
    ts_submitted: int
    seen_at_submit: int  # market updates the broker had seen when the order came in
    filled: int = 0
    fills: int = 0


class PaperBroker:
    """``engine.ports.Broker`` for paper trading and backtests; see the module docstring."""

    def __init__(self, fills: FillModel | None = None) -> None:
        self.fills = fills or FillModel()
        self._sink: BrokerSink | None = None
        self._clock: Clock | None = None
        self._orders: dict[str, _Order] = {}
        self._working: dict[str, _Order] = {}
        self._positions: dict[str, int] = {}
        self._last_ts = 0
        self._updates = 0  # market() calls so far: an order fills only on a later one
        self._seq = 0

    @property
    def description(self) -> str:
        return f"paper broker (slippage {self.fills.slippage_pct}% of premium, at least a tick)"

    def bind(self, sink: BrokerSink, clock: Clock | None = None) -> None:
        self._sink = sink
        self._clock = clock

    def _now(self, fallback: int) -> int:
        return self._clock.now_ns() if self._clock is not None else fallback

    def _emit(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)  # type: ignore[arg-type]

    def submit(self, intent: OrderIntent) -> None:
        if intent.key in self._orders:
            log.warning("order tag {} was already submitted; not taken twice", intent.key)
            return
        if intent.qty <= 0 or intent.limit_price <= 0:
            self._emit(
                OrderRejected(intent.key, "quantity and price must be positive", intent.ts_decision)
            )
            return
        self._seq += 1
        order = _Order(intent, f"P{self._seq:06d}", intent.ts_decision, self._updates)
        self._orders[intent.key] = order
        self._working[intent.key] = order
        self._emit(OrderAccepted(intent.key, order.order_id, intent.ts_decision))

    def cancel(self, key: str) -> None:
        order = self._working.pop(key, None)
        if order is None:
            return
        ts = self._now(max(self._last_ts, order.ts_submitted))
        self._emit(OrderCancelled(key, ts, order.filled, "cancelled on request", order.order_id))

    def market(self, symbol: str, ts: int, price: Decimal) -> None:
        self._last_ts = ts
        self._updates += 1
        for key, order in list(self._working.items()):
            intent = order.intent
            if (
                intent.instrument.symbol != symbol
                or order.seen_at_submit >= self._updates  # the price decided on, or earlier
                or ts < order.ts_submitted  # a stale print from before the decision
            ):
                continue
            tick = intent.instrument.tick_size
            fill_price = self.fills.fill_price(intent.side, intent.limit_price, price, tick)
            if fill_price is None:
                continue
            qty = self.fills.fill_qty(intent.qty - order.filled, intent.instrument.lot_size)
            order.filled += qty
            order.fills += 1
            remaining = intent.qty - order.filled
            if remaining == 0:
                del self._working[key]
            held = self._positions.get(symbol, 0)
            self._positions[symbol] = held + (qty if intent.side is OrderSide.BUY else -qty)
            self._emit(
                OrderFilled(
                    key,
                    f"{order.order_id}-{order.fills}",
                    qty,
                    fill_price,
                    ts,
                    remaining,
                    order.order_id,
                )
            )

    def positions(self) -> Mapping[str, int]:
        """Units held per contract, as the broker's book says (for reconciliation)."""
        return {s: q for s, q in self._positions.items() if q}

    @property
    def working(self) -> int:
        return len(self._working)
