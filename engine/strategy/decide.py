"""The evaluation order: what a rule file decides, when, and in which order.

One ``Trader`` is one rule file trading one underlying. The order is fixed here and
nowhere else:

1. **direction**, once, at the session open: each side's condition is evaluated on the
   daily bars up to the previous session; the sides whose condition is ``True`` are the
   day's direction, held all day;
2. **exits**, on every tick and every bar close while a position is open: in priority
   order (ties in file order), the first exit whose condition is ``True`` fires, and the
   higher-priority exits that were checked and did not fire are recorded with it;
3. **entries**, on every bar close while the position machine is flat and the machines
   allow entries: the day has a direction, every filter is ``True`` (the first that is
   not ends the evaluation), then the first trigger whose side the direction allows and
   whose condition is ``True`` fires;
4. then **sizing**, **strike selection**, the **risk checks** (every one recorded), the
   position machine's ``enter`` (sent before the order), and the **order**.

A condition holds only when its value is ``True``: a missing value never trades. Every
decision is journaled with the values its conditions read, which is what ``engine
explain`` rebuilds its traces from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from engine.context import RuleView
from engine.data.calendar import Calendar, CalendarError
from engine.expr import Expr, Missing
from engine.journal import Journal
from engine.journal.recorder import DecisionRecorder
from engine.machines import MachineRunner
from engine.model.trading import Instrument, OptionKind, OrderPurpose, OrderSide
from engine.orders.intents import make_intent
from engine.orders.manager import OrderManager
from engine.portfolio.ledger import Ledger, Trade
from engine.ports import InstrumentSource
from engine.risk.checks import FAT_FINGER_CHECKS, CheckResult, RiskState, run_checks
from engine.spec.rules import ExitRule, RuleSpec
from engine.strategy.sizing import size_entry
from engine.strategy.strikes import choose_expiry, choose_strike

__all__ = ["Desk", "Trader", "reads_of"]

_NOT_OPEN = Missing("no position is open")
_MINUTE_NS = 60_000_000_000


def reads_of(expr: Expr, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values an expression read: enough to rebuild its whole trace later."""
    return {name: values[name] for name in sorted(expr.names)}


class Desk(Protocol):
    """What a trader needs from the runtime around it."""

    journal: Journal
    orders: OrderManager
    ledger: Ledger
    instruments: InstrumentSource
    capital: Decimal
    calendar: Calendar

    @property
    def now_ns(self) -> int: ...

    @property
    def today(self) -> date: ...

    def spot(self, underlying: str) -> float | None: ...

    def premium(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind
    ) -> Decimal | None: ...

    def option_volume(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind
    ) -> float | None: ...

    def size_factor(self) -> float: ...

    def risk_state(self, trader: Trader, last_price: Decimal) -> RiskState: ...

    def position_changed(self, trader: Trader) -> None: ...

    def send(self, machine: MachineRunner, trigger: str, **values: Any) -> Any:
        """Send a trigger to a machine; the transition taken or None."""
        ...

    def machine_fact(self, trader: Trader, name: str, value: Any) -> None:
        """Set a name the trader's position machine reads."""
        ...

    def exit_all_of(self, rule: str, reason: str) -> None: ...

    @property
    def recorder(self) -> DecisionRecorder | None:
        """Where bar-close evaluations are recorded (None: they are not)."""
        ...

    def exit_working(self, trader: Trader) -> bool:
        """Whether an exit order of this trader is working."""
        ...

    def fat_finger(self, trader: Trader, codes: list[str]) -> None:
        """An order built here failed a fat-finger check (the kill switch is told)."""
        ...


class Trader:
    """One rule file on one underlying; see the module docstring."""

    def __init__(
        self,
        desk: Desk,
        spec: RuleSpec,
        underlying: str,
        view: RuleView,
        machine: MachineRunner,
        machine_facts: dict[str, Any],
    ) -> None:
        self.desk = desk
        self.machine_facts = machine_facts
        self.spec = spec
        self.rule = spec.name
        self.underlying = underlying
        self.view = view
        self.values = view.values
        self.machine = machine
        self.sides: frozenset[str] = frozenset()
        self.direction_known = False
        self.entries_today = 0
        self.trade: Trade | None = None
        self._exits = tuple((e, e.when.evaluate) for e in spec.exits)
        self._filters = tuple((f, f.when.evaluate) for f in spec.filters)
        self._triggers = tuple((t, t.when.evaluate) for t in spec.triggers)
        self._position_names = frozenset(n for n in view.reads if n.startswith("position."))
        self._max_pnl_pct: float | None = None
        self._best_move: float | None = None
        self._bars_held = 0
        self._last_entry_underlying: float | None = None
        self.warmup_sessions = 0
        self.starved: dict[str, int] = {}  # condition name -> evaluations that were missing
        self._rec = desk.recorder
        self._slot = self._rec.attach(self.rule, underlying, spec) if self._rec is not None else -1
        self.set_flat()

    # -- 1. direction ------------------------------------------------------------------------
    def decide_direction(self) -> None:
        values = self.values
        sides = []
        conditions: dict[str, Any] = {}
        for side, condition in self.spec.direction.items():
            value = condition.when.evaluate(values)
            reads = reads_of(condition.when, values)
            conditions[side] = {"value": value, "reads": reads}
            if value is True:
                sides.append(side)
            elif value is not False:
                self._starve(f"direction {side}")
        warming = self.view.warming_up()
        if warming:
            self.warmup_sessions += 1
        self.sides = frozenset(sides)
        self.direction_known = True
        self.desk.journal.write(
            {
                "kind": "direction",
                "ts": self.desk.now_ns,
                "rule": self.rule,
                "underlying": self.underlying,
                "sides": sorted(sides),
                "conditions": conditions,
                "warming_up": warming,
            }
        )

    def new_day(self) -> None:
        if self.trade is not None and self.trade.open:
            self._write_contract_names()  # held overnight: one session nearer its expiry
        self.sides = frozenset()
        self.direction_known = False
        self.entries_today = 0
        self._last_entry_underlying = None
        v = self.values
        v["position.entries_today"] = 0
        v["last_entry.underlying_move_pct"] = Missing("no entry filled today")
        v["last_exit.reason"] = "none"
        v["last_exit.stop_out"] = False
        self.desk.machine_fact(self, "position.entries_today", 0)

    # -- 2. exits ----------------------------------------------------------------------------
    def check_exits(self, on: str) -> bool:
        """Fire the first exit that holds; True when one fired."""
        if (
            self.trade is None
            or not self.trade.open
            or self.machine.state not in ("open", "partial")
        ):
            return False
        values = self.values
        rec = self._rec
        scaled = self.trade.scale_outs
        for i, (rule, evaluate) in enumerate(self._exits):
            if rule.fraction is not None and not rule.repeatable and rule.name in scaled:
                continue  # a partial exit fires once per position unless repeatable
            value = evaluate(values)
            if value is True:
                if rec is not None:
                    rec.exit_eval(self._slot, self.desk.now_ns, values, rule.name)
                self._fire_exit(rule, i, on)
                return True
            if value is not False:
                self._starve(rule.name)
        if rec is not None and on == "bar":
            rec.exit_eval(self._slot, self.desk.now_ns, values, None)
        return False

    def _starve(self, name: str) -> None:
        self.starved[name] = self.starved.get(name, 0) + 1

    def _fire_exit(self, rule: ExitRule, index: int, on: str) -> None:
        values = self.values
        checked = [
            {
                "name": e.name,
                "priority": e.priority,
                "value": e.when.evaluate(values),
                "reads": reads_of(e.when, values),
            }
            for e, _ in self._exits[:index]
        ]
        why = {
            "exit": rule.name,
            "priority": rule.priority,
            "action": rule.action,
            "on": on,
            "reads": reads_of(rule.when, values),
            "checked": checked,
        }
        if rule.action == "exit_all":
            self.desk.journal.write(
                {
                    "kind": "exit_decision",
                    "ts": self.desk.now_ns,
                    "rule": self.rule,
                    "underlying": self.underlying,
                    **why,
                }
            )
            self.desk.exit_all_of(self.rule, reason=rule.name)
            return
        self.exit(rule.name, why, fraction=rule.fraction)

    def exit(
        self, reason: str, why: dict[str, Any] | None = None, *, fraction: float | None = None
    ) -> bool:
        """Close the open position, or ``fraction`` of its lots (an exit rule, or an action
        asked); True when sent.

        A fraction sells whole lots, rounded down and at least one; when less than one lot
        would remain, the whole position is sold and the exit is an ordinary full exit."""
        desk = self.desk
        trade = self.trade
        record: dict[str, Any] = {
            "kind": "exit_decision",
            "ts": desk.now_ns,
            "rule": self.rule,
            "underlying": self.underlying,
            "reason": reason,
            **(why or {}),
        }
        if trade is None:
            return False
        if trade.open and desk.exit_working(self):
            # the rest of an exit order still works: a second one would sell what it sells
            record["outcome"] = "an exit order is already working for this position"
            desk.journal.write(record)
            return False
        taken = self.desk.send(self.machine, "exit", reason=reason)
        if taken is None:
            record["outcome"] = f"position machine in '{self.machine.state}' did not exit"
            desk.journal.write(record)
            return False
        if not trade.open:  # nothing filled yet (an abandoned entry): cancelling is enough
            record["outcome"] = "entry abandoned before any fill"
            desk.journal.write(record)
            return True
        premium = desk.premium(
            self.underlying, trade.instrument.expiry, trade.instrument.strike, trade.instrument.kind
        )
        last = premium if premium is not None else trade.entry_price or Decimal("0.05")
        qty = trade.qty
        if fraction is not None:
            lot = trade.instrument.lot_size
            held = qty // lot
            lots = max(1, int(held * fraction))
            record["scale_out"] = {"fraction": fraction, "held_lots": held, "lots": lots}
            if held - lots >= 1:
                qty = lots * lot
            else:
                record["scale_out"]["sells_all"] = True
        partial = qty < trade.qty
        intent = make_intent(
            rule=self.rule,
            underlying=self.underlying,
            instrument=trade.instrument,
            side=OrderSide.SELL,
            purpose=OrderPurpose.EXIT,
            qty=qty,
            last=last,
            ts_decision=desk.now_ns,
            reason=reason,
        )
        if partial:
            trade.scale_outs.append(reason)
        else:
            trade.exit_decision_ts = desk.now_ns
            trade.exit_reason = reason
        record.update(trade_id=trade.trade_id, key=intent.key, outcome="sent", premium=last)
        desk.journal.write(record)
        desk.orders.submit(intent, {"trade_id": trade.trade_id, "exit": reason})
        desk.position_changed(self)  # position.exit_working
        return True

    # -- 3. entries --------------------------------------------------------------------------
    def check_entry(self) -> bool:  # noqa: C901 - hot path, one loop per block
        """Evaluate filters then triggers at a bar close; True when an entry was sent."""
        if not self.sides:
            return False
        values = self.values
        rec = self._rec
        self._refresh_last_entry_move()
        for i, (condition, evaluate) in enumerate(self._filters):
            value = evaluate(values)
            if value is not True:
                if value is not False:
                    self._starve(condition.name)
                if rec is not None:
                    rec.entry_eval(self._slot, self.desk.now_ns, values, i, None)
                return False
        for trigger, evaluate in self._triggers:
            side = trigger.side
            if side == "direction":
                if len(self.sides) != 1:
                    continue  # both sides allowed: a direction trigger cannot choose
                side = next(iter(self.sides))
            if side not in self.sides:
                continue
            value = evaluate(values)
            if value is True:
                if rec is not None:
                    rec.entry_eval(self._slot, self.desk.now_ns, values, -1, trigger.name)
                return self._enter(trigger.name, trigger.when, OptionKind(side))
            if value is not False:
                self._starve(trigger.name)
        if rec is not None:
            rec.entry_eval(self._slot, self.desk.now_ns, values, -1, None)
        return False

    def _refresh_last_entry_move(self) -> None:
        """``last_entry.underlying_move_pct``: the spot against the previous entry's fill."""
        entry = self._last_entry_underlying
        if entry is None:
            return
        spot = self.desk.spot(self.underlying)
        if spot is not None:
            self.values["last_entry.underlying_move_pct"] = (spot / entry - 1.0) * 100.0

    # -- 4. sizing, strike, risk, order --------------------------------------------------------
    def _enter(self, trigger: str, when: Expr, kind: OptionKind) -> bool:
        desk = self.desk
        values = self.values
        now = desk.now_ns
        record: dict[str, Any] = {
            "kind": "entry_decision",
            "ts": now,
            "rule": self.rule,
            "underlying": self.underlying,
            "trigger": trigger,
            "side": kind.value,
            "direction": sorted(self.sides),
            "filters": [
                {"name": f.name, "reads": reads_of(f.when, values)} for f, _ in self._filters
            ],
            "trigger_reads": reads_of(when, values),
        }
        refused = self._prepare_entry(kind, record)
        if refused:
            record["outcome"] = "refused"
            record["refused_by"] = refused
            desk.journal.write(record)
            return False
        instrument: Instrument = record.pop("_instrument")
        intent = record.pop("_intent")
        taken = self.desk.send(self.machine, "enter", side=kind.value, rule=self.rule)
        if taken is None:
            record["outcome"] = "refused"
            record["refused_by"] = f"position machine: enter not enabled in '{self.machine.state}'"
            desk.journal.write(record)
            return False
        self.trade = desk.ledger.open_trade(self.rule, self.underlying, instrument, now, trigger)
        self.entries_today += 1
        values["position.is_reentry"] = self.entries_today > 1
        record.update(outcome="sent", trade_id=self.trade.trade_id, key=intent.key)
        desk.journal.write(record)
        desk.orders.submit(intent, {"trade_id": self.trade.trade_id, "trigger": trigger})
        self._write_position_names()
        desk.position_changed(self)
        return True

    def _prepare_entry(self, kind: OptionKind, record: dict[str, Any]) -> str:
        """Sizing, strike and risk checks into ``record``; the refusal reason or ''."""
        desk = self.desk
        spot = desk.spot(self.underlying)
        if spot is None:
            return "no price of the underlying yet"
        today = desk.today
        instruments = desk.instruments
        expiry = choose_expiry(
            str(self.spec.strikes.get("expiry", "nearest_weekly")),
            instruments.expiries(self.underlying, today),
            instruments.weekly_available(self.underlying, today),
            self.underlying,
            today,
        )
        choice = choose_strike(
            self.spec.strikes,
            underlying=self.underlying,
            kind=kind,
            ltp=spot,
            expiry=expiry,
            on=today,
            instruments=instruments,
            premium_of=lambda k: desk.premium(self.underlying, expiry.date, k, kind),
            volume_of=lambda k: desk.option_volume(self.underlying, expiry.date, k, kind),
        )
        record["strike"] = dict(choice.values)
        if choice.instrument is None or choice.premium is None:
            return "strike: " + choice.reason
        multiplier = self._size_multiplier(record)
        sizing = size_entry(
            self.spec.sizing,
            premium=choice.premium,
            lot_size=choice.instrument.lot_size,
            capital=desk.capital,
            size_factor=desk.size_factor(),
            multiplier=multiplier,
        )
        record["sizing"] = dict(sizing.values)
        if sizing.lots < 1:
            return "sizing: less than one lot"
        intent = make_intent(
            rule=self.rule,
            underlying=self.underlying,
            instrument=choice.instrument,
            side=OrderSide.BUY,
            purpose=OrderPurpose.ENTRY,
            qty=sizing.lots * choice.instrument.lot_size,
            last=choice.premium,
            ts_decision=desk.now_ns,
            reason=record["trigger"],
        )
        checks: list[CheckResult] = run_checks(intent, desk.risk_state(self, choice.premium))
        record["checks"] = [c.to_record() for c in checks]
        record["limit_price"] = intent.limit_price
        failed = [c.code for c in checks if not c.passed]
        if failed:
            fat = [c for c in failed if c in FAT_FINGER_CHECKS]
            if fat:
                desk.fat_finger(self, fat)
            return "risk: " + ", ".join(failed)
        record["_instrument"] = choice.instrument
        record["_intent"] = intent
        return ""

    def _size_multiplier(self, record: dict[str, Any]) -> Decimal:
        """The sizing table: the product of the factors whose conditions hold, each row
        recorded with the values it read (a row whose value is missing does not apply)."""
        product = Decimal(1)
        rows = []
        values = self.values
        for m in self.spec.multipliers:
            value = m.when.evaluate(values)
            applied = value is True
            if applied:
                product *= Decimal(str(m.factor))
            elif value is not False:
                self._starve(m.name)
            rows.append({"name": m.name, "factor": m.factor, "value": value,
                         "applied": applied, "reads": reads_of(m.when, values)})  # fmt: skip
        if rows:
            record["multipliers"] = rows
        return product

    # -- the position's names ------------------------------------------------------------------
    def set_flat(self) -> None:
        v = self.values
        v["position.open"] = False
        v["position.side"] = "none"
        v["position.qty_lots"] = 0
        for name in (
            "position.entry_price",
            "position.ltp",
            "position.pnl",
            "position.pnl_pct",
            "position.max_pnl_pct",
            "position.underlying_move_pct",
            "position.best_underlying_move_pct",
            "position.is_reentry",
            "position.dte",
            "position.expiry",
            "position.minutes_held",
            "position.bars_held",
        ):
            if name in v:
                v[name] = _NOT_OPEN
        self.desk.machine_fact(self, "position.open", False)
        self._max_pnl_pct = None
        self._best_move = None
        self._bars_held = 0

    def _write_position_names(self) -> None:
        trade = self.trade
        v = self.values
        held = trade is not None and trade.open
        v["position.open"] = held
        self.desk.machine_fact(self, "position.open", held)
        if trade is None:
            return
        v["position.side"] = trade.instrument.kind.value
        self._write_contract_names()
        v["position.qty_lots"] = trade.qty // trade.instrument.lot_size
        if trade.entry_price is not None:
            v["position.entry_price"] = float(trade.entry_price)
        if trade.entry_underlying is not None:
            self._last_entry_underlying = trade.entry_underlying

    def trade_closed(self, trade: Trade) -> None:
        """The trade is flat: remember why, for the re-entry conditions."""
        v = self.values
        v["last_exit.reason"] = trade.exit_reason or "none"
        v["last_exit.stop_out"] = any(
            x.name == trade.exit_reason and x.stop_out for x in self.spec.exits
        )

    def mark(self, premium: Decimal, spot: float | None) -> None:
        """A new premium (and spot) for the open position: position.* from the ledger."""
        trade = self.trade
        if trade is None or not trade.open:
            return
        v = self.values
        entry = trade.entry_price
        ltp = float(premium)
        v["position.ltp"] = ltp
        if entry:
            pnl_pct = (ltp / float(entry) - 1.0) * 100.0
            v["position.pnl"] = float(trade.unrealised(premium))
            v["position.pnl_pct"] = pnl_pct
            best = self._max_pnl_pct
            if best is None or pnl_pct > best:
                best = self._max_pnl_pct = pnl_pct
                trade.max_pnl_pct = best
            v["position.max_pnl_pct"] = best
        if spot is not None and trade.entry_underlying:
            move = (spot / trade.entry_underlying - 1.0) * 100.0
            if trade.instrument.kind is OptionKind.PE:
                move = -move
            v["position.underlying_move_pct"] = move
            if self._best_move is None or move > self._best_move:
                self._best_move = move
                trade.best_underlying_move_pct = move
            v["position.best_underlying_move_pct"] = self._best_move
        if trade.entry_ts is not None:
            v["position.minutes_held"] = (self.desk.now_ns - trade.entry_ts) / _MINUTE_NS
        v["position.bars_held"] = self._bars_held

    def _write_contract_names(self) -> None:
        """The held contract's expiry and the sessions to it (the calendar's count)."""
        trade = self.trade
        if trade is None:
            return
        expiry = trade.instrument.expiry
        v = self.values
        v["position.expiry"] = expiry
        try:
            v["position.dte"] = self.desk.calendar.days_to_expiry(self.desk.today, expiry)[0]
        except CalendarError as e:
            v["position.dte"] = Missing(f"no session count to {expiry.isoformat()}: {e}")

    def bar_closed(self) -> None:
        if self.trade is not None and self.trade.open:
            self._bars_held += 1
            self.values["position.bars_held"] = self._bars_held

    def filled(self) -> None:
        """The ledger changed for this trader's trade: refresh the names."""
        self._write_position_names()
