"""The books: broker events booked in the fill ledger, the position machines told, P&L kept.

Every order event the broker reports comes here (after the order manager recorded it):
a fill goes into the ledger at once; an order that is done is charged as a contract note
would charge it; then the trader's position machine hears what happened, in a trigger
its current state accepts (a fill that raced a cancel is adopted, never dropped). A
trade that is flat again is closed with its gross and net P&L, and the day's realised
P&L and losing streak move with it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.logs import category_logger
from engine.model.trading import (
    BrokerEvent,
    OrderCancelled,
    OrderFilled,
    OrderPurpose,
    OrderRejected,
    OrderSide,
)
from engine.orders.manager import WorkingOrder
from engine.portfolio.ledger import Trade
from engine.strategy.decide import Trader

if TYPE_CHECKING:
    from engine.runtime.core import Engine

__all__ = ["Books"]

log = category_logger("runtime")
_NOT_FILLED = "the data ended with the position open; booked at the last premium, not filled"


class Books:
    """See the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.day_realised = Decimal(0)
        self.consecutive_losses = 0  # losing trades in a row today
        # traders whose exit order the position machine cancelled for a timeout: what is
        # still held when the cancel is confirmed is sent again (the exit decision stands)
        self.resend_exits: set[tuple[str, str]] = set()

    def new_day(self) -> None:
        self.day_realised = Decimal(0)
        self.consecutive_losses = 0

    # -- broker events ----------------------------------------------------------------------
    def on_broker(self, event: BrokerEvent) -> None:
        e = self.engine
        order = e.orders.on_event(event)
        if order is None:
            return
        intent = order.intent
        trader = e.trader(intent.rule, intent.underlying)
        if trader is None or trader.trade is None:
            log.error("order {} has no trade to book it to", intent.key)
            return
        trade = trader.trade
        if isinstance(event, OrderFilled):
            spot = e.spot(intent.underlying)
            e.ledger.fill(trade, intent.side, event.qty, event.price, event.ts_event, spot)
        if order.done and order.fills:
            self._charge(trade, order)
        if intent.purpose is OrderPurpose.ENTRY:
            self._entry_event(trader, trade, order, event)
        else:
            self._exit_event(trader, trade, order, event)
        trader.filled()
        if trade.open:
            e.mark_trade(trader)  # position.* at the fill, before any exit looks at them
        e.position_changed(trader)

    def _charge(self, trade: Trade, order: WorkingOrder) -> None:
        e = self.engine
        breakdown = e.charges.for_order(e.today, order.intent.side.value, order.fills)
        extra = breakdown.total - order.charged  # a late fill after the order was done
        if not extra:
            return
        order.charged = breakdown.total
        e.ledger.charge(trade, extra)
        e.journal.write({"kind": "charges", "ts": e.now_ns, "key": order.intent.key,
                         "trade_id": trade.trade_id, **breakdown.to_dict()})  # fmt: skip

    def _entry_event(self, trader: Trader, trade: Trade, order: WorkingOrder, event: Any) -> None:
        send, machine = self.engine.send, trader.machine
        if isinstance(event, OrderFilled):
            if order.status == "filled" and machine.state in (
                "entry_pending", "flat", "closed", "cooldown", "done_for_day",
            ):  # fmt: skip
                send(machine, "entry_filled")  # outside entry_pending: a late fill, adopted
        elif isinstance(event, (OrderCancelled, OrderRejected)):
            trigger = "entry_cancelled" if isinstance(event, OrderCancelled) else "entry_rejected"
            if trade.bought_qty == 0:
                if machine.state in ("entry_pending", "exit_pending"):
                    send(machine, trigger)
                self._drop(trader, trade)
            elif machine.state == "entry_pending":
                send(machine, "entry_filled")  # what filled is the position

    def _exit_event(self, trader: Trader, trade: Trade, order: WorkingOrder, event: Any) -> None:
        send, machine = self.engine.send, trader.machine
        if isinstance(event, OrderFilled):
            if trade.qty == 0 and order.done:
                stop = any(x.name == trade.exit_reason and x.stop_out for x in trader.spec.exits)
                if machine.state in ("open", "partial", "exit_pending"):
                    send(machine, "exit_filled", stop_out=stop)
                self.close_trade(trader, trade)
            elif trade.qty and machine.state in ("open", "exit_pending"):
                # part of the position sold (a partial fill, or a scale-out done): the
                # position machine moves to 'partial'
                send(machine, "exit_partial_filled")
        elif isinstance(event, (OrderCancelled, OrderRejected)):
            reason = order.intent.reason
            if not order.fills and reason in trade.scale_outs:
                trade.scale_outs.remove(reason)  # a scale-out that sold nothing may fire again
            resend = (trader.rule, trader.underlying) in self.resend_exits
            self.resend_exits.discard((trader.rule, trader.underlying))
            if trade.qty == 0:
                self.close_trade(trader, trade)
            elif isinstance(event, OrderRejected) and machine.state == "exit_pending":
                send(machine, "exit_rejected")
            elif isinstance(event, OrderCancelled) and resend:
                self._exit_remainder(trader, trade)

    def _exit_remainder(self, trader: Trader, trade: Trade) -> None:
        """An exit order cancelled for a timeout with part of the position still held: the
        remainder goes out again now, priced at this moment (after the events being booked)."""
        reason = trade.exit_reason or "exit remainder"
        e = self.engine
        e.journal.write({"kind": "exit_remainder", "ts": e.now_ns, "trade_id": trade.trade_id,
                         "qty": trade.qty, "reason": reason})  # fmt: skip
        e.later(lambda _: trader.exit(reason) if trader.trade is trade and trade.open else None)

    # -- trades -----------------------------------------------------------------------------
    def close_trade(self, trader: Trader, trade: Trade) -> None:
        e = self.engine
        e.ledger.finish(trade)
        net = trade.net_pnl
        self.day_realised += net
        self.consecutive_losses = self.consecutive_losses + 1 if net < 0 else 0
        e.journal.write(
            {
                "kind": "trade_closed",
                "ts": e.now_ns,
                "trade_id": trade.trade_id,
                "rule": trade.rule,
                "underlying": trade.underlying,
                "symbol": trade.instrument.symbol,
                "entry_price": trade.entry_price,
                "exit_price": trade.exit_price,
                "qty": trade.bought_qty,
                "exit_reason": trade.exit_reason,
                "gross_pnl": trade.gross_pnl(),
                "charges": trade.charges,
                "net_pnl": net,
            },
            sync=e.config.durable,
        )
        trader.trade_closed(trade)
        trader.trade = None
        trader.set_flat()

    def _drop(self, trader: Trader, trade: Trade) -> None:
        """An entry that never filled: there was no trade."""
        ledger = self.engine.ledger
        ledger.finish(trade)
        if trade in ledger.trades and trade.bought_qty == 0:
            ledger.trades.remove(trade)
        trader.trade = None
        trader.set_flat()

    def force_close(self, trader: Trader, trade: Trade) -> None:
        """The data ended with a position open: book it at the last premium, flagged."""
        e = self.engine
        inst = trade.instrument
        premium = e.premium(trade.underlying, inst.expiry, inst.strike, inst.kind)
        price = premium if premium is not None else trade.entry_price or Decimal(0)
        qty = trade.qty
        trade.exit_decision_ts = e.now_ns
        trade.exit_reason = "end_of_data"
        e.ledger.fill(trade, OrderSide.SELL, qty, price, e.now_ns, e.spot(trade.underlying))
        breakdown = e.charges.for_order(e.today, "sell", [(price, qty)])
        e.ledger.charge(trade, breakdown.total)
        e.journal.write({"kind": "forced_close", "ts": e.now_ns, "trade_id": trade.trade_id,
                         "price": price, "qty": qty, "why": _NOT_FILLED})  # fmt: skip
        self.close_trade(trader, trade)

    # -- the day's money --------------------------------------------------------------------
    def open_pnl(self, trade: Trade | None) -> Decimal:
        """What an open trade adds to the day's P&L now: realised part, unrealised, charges."""
        if trade is None or not trade.open:
            return Decimal(0)
        e = self.engine
        inst = trade.instrument
        premium = e.premium(trade.underlying, inst.expiry, inst.strike, inst.kind)
        if premium is None:
            return Decimal(0)
        return trade.unrealised(premium) + trade.realised - trade.charges

    def day_pnl(self) -> Decimal:
        pnl = self.day_realised
        for trade in self.engine.ledger.open_trades():
            pnl += self.open_pnl(trade)
        return pnl
