"""Carrying out what the machines ask: one small method per action of the registry.

A machine never acts; its transitions request actions (``engine.machines.actions``), which
the runtime queues and runs here after the transition is complete. An action requested by
a position machine concerns its own trader; one requested by the session, the breakers
or the kill switch concerns every trader. ``pause_entries``, ``resume_entries`` and
``halt_day`` need nothing more than their record: entries are gated on the machines'
states (their ``entries_allowed`` tags), which already say it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.logs import category_logger
from engine.machines import ActionRequested, EmergencyRaised
from engine.model.trading import OrderPurpose
from engine.strategy.decide import Trader

if TYPE_CHECKING:
    from engine.runtime.core import Engine

__all__ = ["Actions"]

log = category_logger("runtime")


class Actions:
    """See the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.size_factors: dict[str, float] = {}  # the smallest one applies
        self.max_positions: dict[str, int] = {}
        self._handlers = {
            "exit_all": self._exit_all,
            "cancel_orders": self._cancel_orders,
            "set_size_factor": self._set_size_factor,
            "set_max_positions": self._set_max_positions,
            "close_weakest": self._close_weakest,
            "notify": self._notify,
            "reconcile": self._reconcile,
        }

    def run(self, action: ActionRequested) -> None:
        handler = self._handlers.get(action.action)
        if handler is not None:
            handler(action, self._scope(action.machine))
        self.engine.publish_account()

    def on_emergency(self, emergency: EmergencyRaised) -> None:
        """An invariant broke: on record, and the kill switch is pulled."""
        e = self.engine
        e.journal.write({"kind": "emergency", "ts": emergency.ts_event,
                         "machine": emergency.machine, "code": emergency.code,
                         "message": emergency.message, "reads": dict(emergency.reads)},
                        sync=True)  # fmt: skip
        ks = e.machines.runners.get("killswitch")
        if ks is not None and emergency.machine != "killswitch":
            e.send(ks, "kill", source="runtime", reason=emergency.message)

    def _scope(self, machine: str) -> list[Trader]:
        if machine.startswith("position:"):
            _, rule, underlying = machine.split(":", 2)
            trader = self.engine.trader(rule, underlying)
            return [trader] if trader is not None else []
        return self.engine.traders

    # -- the actions -------------------------------------------------------------------------
    def _exit_all(self, action: ActionRequested, scope: list[Trader]) -> None:
        for t in scope:
            if t.machine.state in ("open", "partial", "entry_pending"):
                t.exit(f"{action.machine}: {action.cause}")
                self.cancel(t, OrderPurpose.ENTRY, f"{action.machine}: exit_all")

    def _cancel_orders(self, action: ActionRequested, scope: list[Trader]) -> None:
        which = action.args.get("scope", "all")
        reason = f"{action.machine}: {action.cause}"
        own = action.machine.startswith("position:")
        for t in scope:
            if which in ("all", "entries"):
                self.cancel(t, OrderPurpose.ENTRY, reason)
            if which in ("all", "exits"):
                cancelled = self.cancel(t, OrderPurpose.EXIT, reason)
                if cancelled and own and t.machine.state == "partial":
                    # the rest of a partly filled exit timed out: it is sent again
                    self.engine.books.resend_exits.add((t.rule, t.underlying))

    def cancel(self, trader: Trader, purpose: OrderPurpose, reason: str) -> list[str]:
        orders = self.engine.orders
        keys = [
            o.intent.key
            for o in orders.working(purpose=purpose, rule=trader.rule, underlying=trader.underlying)
        ]
        return orders.cancel(keys, reason)

    def _set_size_factor(self, action: ActionRequested, scope: list[Trader]) -> None:
        self.size_factors[action.machine] = float(action.args["factor"])

    def _set_max_positions(self, action: ActionRequested, scope: list[Trader]) -> None:
        count = action.args.get("count")
        if count is None:
            self.max_positions.pop(action.machine, None)
        else:
            self.max_positions[action.machine] = int(count)

    def _close_weakest(self, action: ActionRequested, scope: list[Trader]) -> None:
        books = self.engine.books
        held = [t for t in self.engine.traders if t.trade is not None and t.trade.open]
        if held:
            weakest = min(held, key=lambda t: books.open_pnl(t.trade))
            weakest.exit(f"{action.machine}: close_weakest")

    def _notify(self, action: ActionRequested, scope: list[Trader]) -> None:
        e = self.engine
        args: dict[str, Any] = dict(action.args)
        if e.config.echo_notifications:
            log.log(str(args.get("level", "warning")).upper(), "{}: {}", action.machine,
                    args.get("message"))  # fmt: skip
        e.journal.write({"kind": "notify", "ts": e.now_ns, "machine": action.machine,
                         "level": args.get("level"), "message": args.get("message")})  # fmt: skip

    def _reconcile(self, action: ActionRequested, scope: list[Trader]) -> None:
        """Our open positions and working orders against the broker's book."""
        e = self.engine
        book = getattr(e.broker, "positions", None)
        ours = {t.instrument.symbol: t.qty for t in e.ledger.open_trades() if t.qty}
        theirs = {k: v for k, v in (dict(book()) if callable(book) else ours).items() if v}
        clean = ours == theirs and e.orders.pending == 0
        e.journal.write({"kind": "reconciliation", "ts": e.now_ns, "ours": ours,
                         "broker": theirs, "pending_orders": e.orders.pending,
                         "clean": clean})  # fmt: skip
        if not clean:
            log.error(
                "reconciliation not clean: positions ours {} broker {}; {} order(s) pending",
                ours, theirs, e.orders.pending,
            )  # fmt: skip
            ks = e.machines.runners.get("killswitch")
            if ks is not None:  # a book we cannot trust is not traded on: halt
                e.send(ks, "kill", source="runtime", reason="reconciliation mismatch")
            return
        for name in ("session", "killswitch"):
            runner = e.machines.runners.get(name)
            if runner is not None and runner.accepts("reconciled"):
                e.send(runner, "reconciled")
