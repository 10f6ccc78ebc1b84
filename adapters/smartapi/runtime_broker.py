"""``engine.ports.Broker`` over SmartAPI REST: real orders, updates back into the core.

- ``submit`` sends the intent as one LIMIT order whose ``ordertag`` is the intent's
  idempotency key (16 characters, under the broker's 20). A key seen before is never sent
  again. After a timeout or a lost reply, ``SmartApiOrders.place`` reads the order book
  for the tag before anything is resent; when the book cannot settle it, the order is
  kept as "unknown" and the poller keeps looking for the tag: found, it is accepted;
  still absent after ``unknown_polls`` reads, it is rejected (nothing was resent).
  Before each order the session's validity is checked (``ensure_valid``): one that would
  expire during the round trip is refreshed first, or the order is rejected.
- ``cancel`` cancels the broker's order (waiting for its id if the place call is still
  out). ``modify`` changes price or quantity of a working order (not part of the port: the
  core does not modify; an operator tool or a test does).
- Updates are polled: every ``poll_s`` while an order works, the order book and the trade
  book are read and turned into ``OrderFilled`` (one per new fill id, at its own price),
  ``OrderCancelled`` and ``OrderRejected``. Events go through ``deliver`` to the engine's
  thread (``SmartApiTickFeed.deliver``), stamped with the engine's clock there.
- ``reconcile`` compares the broker's open positions and working orders with what the
  engine holds (nothing, at start): live trading starts only from a clean book.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio

from adapters.smartapi.link import SmartApiLink
from adapters.smartapi.orders import MAX_TAG, OrderModify, OrderRequest, OrderRow
from adapters.smartapi.redact import adapter_logger
from engine.errors import BrokerError, OrderStateUnknownError
from engine.model.trading import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderRejected,
    OrderSide,
)
from engine.ports import BrokerSink, Clock

__all__ = ["SmartApiBroker"]

log = adapter_logger("orders")


@dataclass
class _Order:
    intent: OrderIntent
    orderid: str | None = None
    unknown: bool = False
    unknown_polls: int = 0
    cancel_requested: bool = False
    filled: int = 0
    fill_ids: set[str] = field(default_factory=set)
    done: bool = False
    # what the engine has been told (set on the engine's thread, when it is told)
    told_accepted: bool = False
    told_done: bool = False


class SmartApiBroker:
    """See the module docstring."""

    def __init__(
        self,
        link: SmartApiLink,
        deliver: Callable[[Callable[[], None]], None],
        *,
        product: str = "INTRADAY",
        poll_s: float = 1.0,
        unknown_polls: int = 3,
    ) -> None:
        self.link = link
        self._deliver = deliver
        self.product = product
        self.poll_s = poll_s
        self.unknown_polls = unknown_polls
        self._sink: BrokerSink | None = None
        self._clock: Clock | None = None
        self._orders: dict[str, _Order] = {}
        self._polling = False

    @property
    def description(self) -> str:
        return f"SmartAPI orders at {self.link.config.rest_url} (product {self.product})"

    def bind(self, sink: BrokerSink, clock: Clock) -> None:
        self._sink = sink
        self._clock = clock

    def market(self, symbol: str, ts: int, price: Decimal) -> None:
        """A real broker fills against its own market: nothing to do."""

    def unsettled(self) -> int:
        """Orders still open whose broker id, or whose requested cancel, is not confirmed.

        At the end of a run the feed keeps handing over the broker's answers while this is
        not zero (for a bounded time), so the journal names every order the broker holds.
        """
        return sum(
            1
            for o in list(self._orders.values())
            if not o.told_done and (not o.told_accepted or o.cancel_requested)
        )

    # -- the engine's thread -------------------------------------------------------------------
    def submit(self, intent: OrderIntent) -> None:
        if intent.key in self._orders:
            log.warning("order tag {} was already submitted; not sent twice", intent.key)
            return
        order = self._orders[intent.key] = _Order(intent)
        try:
            request = self._request(intent)
        except ValueError as e:
            order.done = True
            reason = str(e)
            self._emit(lambda ts: OrderRejected(intent.key, reason, ts), order, "done")
            return
        self.link.spawn(lambda: self._place(order, request))

    def cancel(self, key: str) -> None:
        order = self._orders.get(key)
        if order is None or order.done or order.cancel_requested:
            return  # a cancel already on its way is not sent again
        order.cancel_requested = True
        if order.orderid is not None:
            orderid = order.orderid
            self.link.spawn(lambda: self._cancel(order, orderid))

    def modify(self, key: str, *, price: Decimal, qty: int | None = None) -> None:
        """Change a working order's limit price (and quantity); waits for the broker."""
        order = self._orders.get(key)
        if order is None or order.orderid is None or order.done:
            raise BrokerError(f"order tag {key} is not working at the broker")
        inst = order.intent.instrument
        change = OrderModify(
            orderid=order.orderid,
            tradingsymbol=inst.symbol,
            symboltoken=inst.token or "",
            exchange=inst.exchange,
            quantity=qty or order.intent.qty,
            price=price,
            producttype=self.product,
        )
        orders = self.link.orders
        assert orders is not None
        self.link.call(lambda: orders.modify(change))

    def reconcile(self, held: Mapping[str, int] | None = None) -> list[str]:
        """What differs between the broker's books and ``held`` (symbol -> units; nothing
        when the engine starts): open positions and working orders. Empty when clean."""
        orders = self.link.orders
        assert orders is not None
        held = dict(held or {})

        async def read() -> tuple[list[Any], list[OrderRow]]:
            return await orders.positions(), await orders.order_book()

        positions, book = self.link.call(read)
        problems = []
        for row in positions:
            if row.netqty != held.pop(row.tradingsymbol, 0):
                problems.append(f"position {row.tradingsymbol}: the broker holds {row.netqty}")
        for symbol, qty in held.items():
            if qty:
                problems.append(f"position {symbol}: the engine holds {qty}, the broker none")
        for order in book:
            if not order.terminal:
                problems.append(
                    f"order {order.orderid} ({order.tradingsymbol}, tag {order.tag}) is working"
                )
        return problems

    def _request(self, intent: OrderIntent) -> OrderRequest:
        inst = intent.instrument
        if not inst.token:
            raise ValueError(f"{inst.symbol} has no broker token (not in the instrument master)")
        if len(intent.key) > MAX_TAG:
            raise ValueError(f"order key {intent.key} is longer than the broker's tag limit")
        return OrderRequest(
            tag=intent.key,
            tradingsymbol=inst.symbol,
            symboltoken=inst.token,
            exchange=inst.exchange,
            transactiontype="BUY" if intent.side is OrderSide.BUY else "SELL",
            quantity=intent.qty,
            ordertype="LIMIT",
            producttype=self.product,
            price=intent.limit_price,
        )

    def _emit(
        self,
        make: Callable[[int], Any] | None,
        order: _Order | None = None,
        told: str = "",
    ) -> None:
        """Hand an event to the core on its thread, stamped with the engine's time there;
        ``told`` ("accepted" or "done") notes on ``order`` that the engine has heard it."""

        def run() -> None:
            if make is not None and self._sink is not None:
                ts = self._clock.now_ns() if self._clock is not None else 0
                self._sink(make(ts))
            if order is not None:
                if told == "accepted":
                    order.told_accepted = True
                elif told == "done":
                    order.told_done = True

        self._deliver(run)

    # -- the loop thread ------------------------------------------------------------------------
    async def _place(self, order: _Order, request: OrderRequest) -> None:
        orders = self.link.orders
        assert orders is not None
        key = order.intent.key
        try:
            await self._session_valid()
            placed = await orders.place(request)
        except OrderStateUnknownError as e:
            order.unknown = True
            log.error("order tag {}: state unknown ({}); looking for it by tag", key, e)
        except BrokerError as e:
            order.done = True
            reason = str(e)
            self._emit(lambda ts: OrderRejected(key, reason, ts), order, "done")
            return
        else:
            self._accepted(order, placed.orderid)
        self._start_polling()

    async def _session_valid(self) -> None:
        """The session must outlast the order's round trip: refreshed now if it would not
        (``SessionExpiredError``, after the alarm, when it cannot be)."""
        session = self.link.session
        if session is not None:
            margin = timedelta(seconds=self.link.config.timeout_s * 4)
            await session.ensure_valid(datetime.now(UTC) + margin)

    def _accepted(self, order: _Order, orderid: str) -> None:
        order.orderid = orderid
        order.unknown = False
        key = order.intent.key
        self._emit(lambda ts: OrderAccepted(key, orderid, ts), order, "accepted")
        if order.cancel_requested:
            self.link.spawn(lambda: self._cancel(order, orderid))

    async def _cancel(self, order: _Order, orderid: str) -> None:
        orders = self.link.orders
        assert orders is not None
        try:
            await orders.cancel(orderid)
        except BrokerError as e:  # filled or finished meanwhile: the poller reports it
            log.warning("cancel of order {} (tag {}) failed: {}", orderid, order.intent.key, e)
        self._start_polling()

    def _start_polling(self) -> None:
        if not self._polling:
            self._polling = True
            self.link.spawn(self._poll_loop)

    async def _poll_loop(self) -> None:
        try:
            while any(not o.done for o in list(self._orders.values())):
                await anyio.sleep(self.poll_s)
                try:
                    await self.poll()
                except BrokerError as e:
                    log.warning("order update poll failed: {}", e)
        finally:
            self._polling = False

    async def poll(self) -> None:
        """Read the books once and report what changed for every order still open."""
        orders = self.link.orders
        assert orders is not None
        book = await orders.order_book()
        by_tag = {r.tag: r for r in book if r.tag}
        by_id = {r.orderid: r for r in book}
        trades = None
        # a snapshot: the engine's thread may add an order meanwhile
        for order in [o for o in list(self._orders.values()) if not o.done]:
            key = order.intent.key
            row = by_id.get(order.orderid or "") or by_tag.get(key)
            if order.orderid is None:
                if row is not None:
                    log.warning("order tag {} found in the book as {}", key, row.orderid)
                    self._accepted(order, row.orderid)
                elif order.unknown:
                    order.unknown_polls += 1
                    if order.unknown_polls >= self.unknown_polls:
                        order.done = True
                        why = "the place call failed and the order never appeared in the book"
                        self._emit(lambda ts, k=key, w=why: OrderRejected(k, w, ts), order, "done")
                continue
            if row is None:
                continue
            if row.filled > order.filled:
                if trades is None:
                    trades = await orders.trade_book()
                self._fills(order, row, [t for t in trades if t.orderid == order.orderid])
            if row.status == "rejected":
                order.done = True
                self._emit(lambda ts, k=key, r=row: OrderRejected(k, r.text or "rejected",
                                                                  ts, r.orderid),
                           order, "done")  # fmt: skip
            elif row.status.startswith("cancelled") and order.filled >= row.filled:
                order.done = True
                self._emit(lambda ts, k=key, r=row, f=order.filled: OrderCancelled(
                    k, ts, f, r.text or "cancelled", r.orderid), order, "done")  # fmt: skip
            elif order.filled >= order.intent.qty:
                order.done = True
                self._emit(None, order, "done")  # its fills went before

    def _fills(self, order: _Order, row: OrderRow, trades: list[Any]) -> None:
        key, qty = order.intent.key, order.intent.qty
        for t in trades:
            if t.fillid in order.fill_ids or t.fillsize <= 0:
                continue
            order.fill_ids.add(t.fillid)
            order.filled += t.fillsize
            remaining = max(qty - order.filled, 0)
            self._emit(lambda ts, t=t, r=remaining: OrderFilled(
                key, t.fillid, t.fillsize, t.fillprice, ts, r, row.orderid))  # fmt: skip
