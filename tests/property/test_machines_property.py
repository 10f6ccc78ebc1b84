"""Hypothesis: what the machines promise, on random event sequences.

- The interval analysis is sound: a guard it calls never-true is false, an always-true
  guard is true, and a witness makes its guard true, for any values (missing included).
- The fast table runner and the transitions library take the same transitions.
- The shipped system, driven by random entries, fills, exits, market moves, time and
  kill requests against a small simulated broker: the kill switch, once triggered,
  always reaches halted with no open position and no pending order; no entry is taken
  while a breaker is tripped or the kill switch is not armed; one underlying never holds
  CE and PE at once (two rules trading it); no invariant is ever violated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine.clock import SimClock
from engine.errors import InvalidTransition
from engine.expr import MISSING, NameInfo, ValueType, Vocabulary, compile_expr
from engine.expr.analysis import analyse, holds, negate, witness
from engine.machines import (
    MachineRunner,
    MachineSpec,
    MachineSystem,
    RecordingSink,
    TransitionTaken,
    load_machine_file,
)
from engine.machines.modeltest import FakeCalendar
from engine.timeutil import IST

MACHINES = Path(__file__).resolve().parents[2] / "machines"
SPECS: dict[str, MachineSpec] = {
    n: load_machine_file(MACHINES / f"{n}.yaml")
    for n in ("killswitch", "breakers", "session", "position")
}

# -- the analysis is sound ---------------------------------------------------------------

VOCAB = Vocabulary.of(
    {
        "x": ValueType.NUMBER,
        "y": ValueType.NUMBER,
        "flag": ValueType.BOOL,
        "side": NameInfo(ValueType.STRING, choices=("CE", "PE", "none")),
    }
)
numbers = st.sampled_from([-2, 0, 1, 2.5, 3, 10])
atoms = st.one_of(
    st.builds(
        lambda n, op, c: f"{n} {op} {c}",
        st.sampled_from(["x", "y"]),
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        numbers,
    ),
    st.builds(
        lambda op, c: f"abs(x) {op} {c}",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        numbers,
    ),
    st.builds(
        lambda op, c: f"side {op} '{c}'",
        st.sampled_from(["==", "!="]),
        st.sampled_from(["CE", "PE", "none"]),
    ),
    st.just("flag"),
    st.just("x > y"),
    st.just("x + y > 1"),
)
guards = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=6,
)
values = st.fixed_dictionaries(
    {
        "x": st.one_of(numbers, st.just(MISSING)),
        "y": st.one_of(numbers, st.just(MISSING)),
        "flag": st.one_of(st.booleans(), st.just(MISSING)),
        "side": st.one_of(st.sampled_from(["CE", "PE", "none"]), st.just(MISSING)),
    }
)


@settings(max_examples=300, deadline=None)
@given(guards, st.lists(values, min_size=1, max_size=8))
def test_analysis_when_it_decides_then_every_evaluation_agrees(source: str, samples: list) -> None:
    expr = compile_expr(source, VOCAB)
    dnf = analyse(expr, VOCAB, {})
    verdict = holds(dnf, VOCAB)
    for sample in samples:
        if verdict is not None:
            assert (expr.evaluate(sample) is True) is verdict, (source, sample)
    for assignment in witness(dnf, VOCAB):
        context = {**{n: MISSING for n in ("x", "y", "flag", "side")}, **assignment}
        if all(op not in source for op in ("x > y", "x + y")):
            assert expr.evaluate(context) is True, (source, assignment)
        break


@settings(max_examples=300, deadline=None)
@given(guards)
def test_negate_when_witness_found_then_guard_does_not_hold_there(source: str) -> None:
    """negate() is "does not hold": false or missing, the way the runner skips a guard."""
    expr = compile_expr(source, VOCAB)
    not_holding = negate(analyse(expr, VOCAB, {}))
    for assignment in witness(not_holding, VOCAB):
        context = {**{n: MISSING for n in ("x", "y", "flag", "side")}, **assignment}
        if all(op not in source for op in ("x > y", "x + y")):
            assert expr.evaluate(context) is not True, (source, assignment)
        break


# -- the table runner and the transitions library agree ----------------------------------

EVENTS = {
    "killswitch": [
        ("kill", {"source": "cli", "reason": "r"}),
        ("sigint", {}),
        ("orders_cancelled", {}),
        ("reconciled", {}),
        ("resume", {"confirm_safe": True, "reason": "ok"}),
    ],
    "breakers": [],
    "position": [
        ("enter", {"side": "CE", "rule": "r"}),
        ("entry_filled", {}),
        ("entry_rejected", {}),
        ("entry_cancelled", {}),
        ("exit", {"reason": "r"}),
        ("exit_partial_filled", {}),
        ("exit_filled", {"stop_out": True}),
        ("exit_filled", {"stop_out": False}),
        ("exit_rejected", {}),
    ],
}
WORLD_CHANGES = st.fixed_dictionaries(
    {
        "vix": st.sampled_from([12.0, 29.0, 31.0, 40.0]),
        "data.gap": st.booleans(),
        "data.silent_min": st.sampled_from([0, 6, 31]),
        "data.last_gap_min": st.sampled_from([0.0, 3.0, 12.0]),
        "broker.session_ending": st.booleans(),
        "positions.open": st.integers(0, 2),
        "orders.pending": st.integers(0, 1),
        "position.open": st.booleans(),
        "account.day_pnl_pct": st.sampled_from([0.0, -3.5, -6.0]),
        "state.session.entries_allowed": st.booleans(),
        "state.breakers.entries_allowed": st.booleans(),
        "state.killswitch.entries_allowed": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["killswitch", "breakers", "position"]), st.data())
def test_backends_when_random_events_then_same_transitions(name: str, data: st.DataObject) -> None:
    steps = data.draw(
        st.lists(
            st.tuples(
                st.one_of(st.just(("tick", {})), *(st.just(e) for e in EVENTS[name]))
                if EVENTS[name]
                else st.just(("tick", {})),
                WORLD_CHANGES,
                st.integers(0, 40),
            ),
            min_size=1,
            max_size=25,
        )
    )
    outcomes = []
    for backend in ("table", "transitions"):
        clock = SimClock(datetime(2025, 1, 7, 10, 0, tzinfo=IST))
        world: dict[str, Any] = {"underlying.side_held": "none", "position.entries_today": 0}
        taken: list[Any] = []
        r = MachineRunner(
            SPECS[name],
            clock=clock,
            context=lambda w=world: w,
            actions=RecordingSink(),
            calendar=FakeCalendar(),
            backend=backend,
        )
        for (trigger, event_values), changes, minutes in steps:
            world.update(changes)
            clock.advance(timedelta(minutes=minutes))
            try:
                result = r.send(trigger, **event_values)
                taken.append(result.transition if result else None)
            except InvalidTransition:
                taken.append("invalid")
        outcomes.append((taken, r.state))
    assert outcomes[0] == outcomes[1]


# -- the shipped system against a simulated broker --------------------------------------

TRIPPED = set(SPECS["breakers"].tagged("tripped"))
ENTRY_STATES = set(SPECS["killswitch"].tagged("entries_allowed"))
STOPPING = set(SPECS["killswitch"].tagged("stopping"))


@dataclass
class Rule:
    """One rule trading NIFTY: its position machine and what the broker holds for it."""

    runner: MachineRunner
    position: str | None = None  # side held
    entry_order: str | None = None  # side of a working entry order
    exit_order: bool = False
    entries_today: int = 0
    context: dict[str, Any] = field(default_factory=dict)


class TradingDay(RuleBasedStateMachine):
    """Random events on the four machines with two rules on one underlying."""

    @initialize()
    def start(self) -> None:
        self.clock = SimClock(datetime(2025, 1, 7, 10, 30, tzinfo=IST))
        self.market: dict[str, Any] = {
            "vix": 14.0,
            "vix_change_5m": 0.0,
            "vix_change_10m": 0.0,
            "data.gap": False,
            "account.day_pnl_pct": 0.0,
            "account.margin_used_pct": 10.0,
            "account.consecutive_losses": 0,
            "underlying.change_5m_pct": 0.0,
            "account.reject_rate_15m_pct": 0.0,
            "account.error_rate_5m_pct": 0.0,
            "broker.session_ending": False,
        }
        self.sink = RecordingSink()
        self.max_positions: int | None = None  # set by the kill switch's limited hour
        self.system = MachineSystem(
            [SPECS[n] for n in ("killswitch", "breakers", "session")],
            clock=self.clock,
            context=self.global_context,
            actions=self.sink,
            listener=self.check_event,
            calendar=FakeCalendar(),
        )
        self.rules = {}
        for name in ("A", "B"):
            rule_ = Rule(runner=None)  # type: ignore[arg-type]
            rule_.runner = self.system.attach(
                SPECS["position"], f"position:{name}", context=lambda r=rule_: self.rule_context(r)
            )
            self.rules[name] = rule_
        self.step()

    # -- the simulated world ------------------------------------------------------------
    def global_context(self) -> dict[str, Any]:
        rules = self.rules.values() if hasattr(self, "rules") else []
        return {
            **self.market,
            "positions.open": sum(r.position is not None for r in rules),
            "orders.pending": sum((r.entry_order is not None) + r.exit_order for r in rules),
        }

    def rule_context(self, r: Rule) -> dict[str, Any]:
        held = {x.position for x in self.rules.values()} | {
            x.entry_order for x in self.rules.values()
        }
        held.discard(None)
        side_held = held.pop() if len(held) == 1 else ("none" if not held else "both")
        return {
            **self.global_context(),
            "position.open": r.position is not None,
            "position.entries_today": r.entries_today,
            "underlying.side_held": side_held if side_held != "both" else "CE",
        }

    def check_event(self, event: Any) -> None:
        if isinstance(event, TransitionTaken) and event.transition == "enter":
            assert self.system["breakers"].state not in TRIPPED
            assert self.system["killswitch"].state in ENTRY_STATES
            assert self.system["session"].state == "entry_window"

    def step(self) -> None:
        """Tick every machine and carry out the actions requested, as a runtime would."""
        self.system.tick()
        for _ in range(20):
            actions, self.sink.actions = self.sink.actions, []
            if not actions:
                return
            for action in actions:
                self.carry_out(action.action, action.args)
                if action.machine.startswith("position:"):
                    self.resend_remainder(action.machine.split(":", 1)[1], action)
            self.system.tick()
        raise AssertionError("actions keep requesting actions")

    def carry_out(self, action: str, args: Any) -> None:
        if action == "set_max_positions":
            self.max_positions = args["count"]
        if action in ("cancel_orders", "exit_all"):
            for r in self.rules.values():
                if r.entry_order is not None and args.get("scope", "all") in ("all", "entries"):
                    r.entry_order = None
                    self.send(r, "entry_cancelled")
                if r.exit_order and args.get("scope", "all") in ("all", "exits"):
                    r.exit_order = action == "exit_all"
        if action in ("exit_all", "close_weakest"):
            for r in self.rules.values():
                if r.position is not None and not r.exit_order:
                    r.exit_order = True
                    self.send(r, "exit", reason=action)

    def resend_remainder(self, name: str, action: Any) -> None:
        """A position's own exit timeout cancelled its exit order: the exit is decided again
        (the runtime re-sends the rest of a partly filled exit; an exit rule that still
        holds fires again on the next price; here both are one step)."""
        r = self.rules[name]
        if action.action == "cancel_orders" and action.args.get("scope") == "exits":
            if r.position is not None and not r.exit_order:
                r.exit_order = self.send(r, "exit", reason="remainder") is not None

    def send(self, r: Rule, trigger: str, **values: Any) -> TransitionTaken | None:
        try:
            return r.runner.send(trigger, **values)
        except InvalidTransition:
            return None

    # -- rules -------------------------------------------------------------------------
    @rule(name=st.sampled_from("AB"), side=st.sampled_from(["CE", "PE"]))
    def enter(self, name: str, side: str) -> None:
        r = self.rules[name]
        busy = sum(x.position is not None or x.entry_order is not None for x in self.rules.values())
        if self.max_positions is not None and busy >= self.max_positions:
            return  # the runtime's risk check: no enter is sent at all
        if self.send(r, "enter", side=side, rule=name) is not None:
            r.entry_order = side
            r.entries_today += 1
        self.step()

    @rule(name=st.sampled_from("AB"), side=st.sampled_from(["CE", "PE"]))
    def enter_and_fill(self, name: str, side: str) -> None:
        self.enter(name, side)
        self.fill_entry(name)

    @rule(name=st.sampled_from("AB"))
    def fill_entry(self, name: str) -> None:
        r = self.rules[name]
        if r.entry_order is not None:
            r.position, r.entry_order = r.entry_order, None
            self.send(r, "entry_filled")
        self.step()

    @rule(name=st.sampled_from("AB"))
    def reject_entry(self, name: str) -> None:
        r = self.rules[name]
        if r.entry_order is not None:
            r.entry_order = None
            self.send(r, "entry_rejected")
        self.step()

    @rule(name=st.sampled_from("AB"))
    def exit(self, name: str) -> None:
        r = self.rules[name]
        if r.position is not None and not r.exit_order and self.send(r, "exit", reason="rule"):
            r.exit_order = True
        self.step()

    @rule(name=st.sampled_from("AB"), stop=st.booleans())
    def fill_exit(self, name: str, stop: bool) -> None:
        r = self.rules[name]
        if r.exit_order:
            r.exit_order, r.position = False, None
            self.send(r, "exit_filled", stop_out=stop)
        self.step()

    # Mostly quiet markets, so trades get far enough to be filled and exited.
    @rule(
        vix=st.sampled_from([14.0, 14.0, 25.0, 31.0]),
        pnl=st.sampled_from([0.0, 0.0, -1.0, -3.2]),
        gap=st.sampled_from([False, False, False, True]),
        move=st.sampled_from([0.0, 0.0, 0.0, 2.5]),
        silent=st.sampled_from([0, 0, 0, 12, 35]),
    )
    def market_moves(self, vix: float, pnl: float, gap: bool, move: float, silent: int) -> None:
        self.market.update(
            {
                "vix": vix,
                "account.day_pnl_pct": pnl,
                "data.gap": gap,
                "data.silent_min": silent if gap else 0,
                "data.last_gap_min": 0.0 if gap else float(silent),
                "underlying.change_5m_pct": move,
            }
        )
        self.step()

    @rule(minutes=st.integers(1, 40))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.step()

    @precondition(lambda self: self.system["killswitch"].state in ENTRY_STATES)
    @rule(how=st.sampled_from(["kill", "sigint", "sigint_twice", "margin"]))
    def kill(self, how: str) -> None:
        ks = self.system["killswitch"]
        if how == "kill":
            ks.send("kill", source="cli", reason="test")
        elif how == "margin":
            self.market["account.margin_used_pct"] = 97.0
        else:
            ks.send("sigint")
            if how == "sigint_twice":
                ks.send("sigint")
        self.step()
        self.market["account.margin_used_pct"] = 10.0
        self.drain()
        assert ks.state == "halted"
        assert all(
            r.position is None and r.entry_order is None and not r.exit_order
            for r in self.rules.values()
        )
        ks.send("resume", confirm_safe=True, reason="checked")
        ks.send("reconciled")
        self.step()

    @precondition(lambda self: self.system["killswitch"].state in STOPPING)
    @rule()
    def settle_after_automated_kill(self) -> None:
        """An automated trigger (day loss beyond 5%) fired: it too must end halted and flat."""
        self.drain()
        assert self.system["killswitch"].state == "halted"
        assert all(
            r.position is None and r.entry_order is None and not r.exit_order
            for r in self.rules.values()
        )

    def drain(self) -> None:
        """The broker confirms cancels and fills exits while time passes."""
        for _ in range(60):
            if self.system["killswitch"].state == "halted":
                return
            self.clock.advance(timedelta(seconds=10))
            for r in self.rules.values():
                if r.exit_order:
                    r.exit_order, r.position = False, None
                    self.send(r, "exit_filled", stop_out=False)
            self.step()

    # -- what must always hold ------------------------------------------------------------
    @invariant()
    def never_ce_and_pe_on_one_underlying(self) -> None:
        if hasattr(self, "rules"):
            held = {r.position for r in self.rules.values()} | {
                r.entry_order for r in self.rules.values()
            }
            assert not {"CE", "PE"} <= held

    @invariant()
    def never_an_emergency(self) -> None:
        if hasattr(self, "sink"):
            assert self.sink.emergencies == []


TradingDay.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_trading_day = TradingDay.TestCase


@pytest.mark.parametrize("how", ["kill", "sigint", "sigint_twice", "margin"])
def test_trading_day_when_killed_with_positions_and_orders_open_then_halted_flat(how: str) -> None:
    """The kill path the random runs must take, spelled out once with risk on the book."""
    day = TradingDay()
    day.start()
    day.enter_and_fill("A", "CE")
    day.enter("B", "CE")  # a working entry order too
    assert day.system.states["position:A"] == "open"
    assert day.system.states["position:B"] == "entry_pending"
    day.kill(how)  # asserts halted and flat, then resumes
    assert day.system["killswitch"].state == "limited"
    assert day.sink.emergencies == []
