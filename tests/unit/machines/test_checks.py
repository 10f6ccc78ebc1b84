"""Static checks: each one on a small machine that breaks exactly it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.errors import SpecError
from engine.machines import MachineSpec

HEAD = "machine: demo\ninitial: idle\n"


def codes(load: Callable[[str], MachineSpec], text: str) -> list[str]:
    try:
        spec = load(HEAD + text)
    except SpecError as e:
        return [d.code for d in e.diagnostics]
    return [w.code for w in spec.warnings]


def test_check_when_state_unreachable_then_reported(machine: Callable[[str], MachineSpec]) -> None:
    text = """states: {idle: {}, busy: {}, lost: {}}
transitions:
  - {name: a, trigger: tick, source: idle, dest: busy, when: "vix > 30"}
  - {name: b, trigger: tick, source: [busy, lost], dest: idle, when: "vix < 20"}
"""
    assert codes(machine, text) == ["unreachable-state"]


def test_check_when_only_path_has_never_true_guard_then_also_unreachable(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = """states: {idle: {}, busy: {}}
transitions:
  - {name: a, trigger: tick, source: idle, dest: busy, when: "vix > 30 and vix < 20"}
  - {name: b, trigger: tick, source: busy, dest: idle}
"""
    assert sorted(codes(machine, text)) == ["never-true", "trap-state", "unreachable-state"]


def test_check_when_state_has_no_way_out_then_trap(machine: Callable[[str], MachineSpec]) -> None:
    text = """states: {idle: {}, busy: {}, done: {final: true}}
transitions:
  - {name: a, trigger: tick, source: idle, dest: busy, when: "vix > 30"}
  - {name: b, trigger: tick, source: idle, dest: done, when: "vix < 10"}
  - {name: c, after: 5m, source: busy, dest: busy}
"""
    assert codes(machine, text) == ["trap-state"]


def test_check_when_trigger_not_declared_then_unsent(machine: Callable[[str], MachineSpec]) -> None:
    text = """states: {idle: {}, busy: {}}
transitions:
  - {name: a, trigger: fill, source: idle, dest: busy}
  - {name: b, trigger: tick, source: busy, dest: idle}
"""
    assert codes(machine, text) == ["unsent-trigger"]


def test_check_when_declared_trigger_unused_then_warns(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = """triggers: {fill: {}, spare: {}, quiet: {}}
ignore: [quiet]
states: {idle: {}, busy: {}}
transitions:
  - {name: a, trigger: fill, source: idle, dest: busy}
  - {name: b, trigger: tick, source: busy, dest: idle}
"""
    assert codes(machine, text) == ["unused-trigger"]


@pytest.mark.parametrize(
    "guard",
    [
        "vix > 30 and vix < 20",
        "vix >= 30 and not (vix >= 25)",
        "state.demo == 'busy'",
        "data.gap and not data.gap",
        "20 < vix < 10",
        "abs(underlying.change_5m_pct) < 1 and underlying.change_5m_pct > 2",
        "time > '15:00' and time < '09:15'",
        "vix != 3 and vix == 3",
        # three-valued logic: a missing vix makes both parts missing, not true
        "not (vix > 30) and not (vix < 40)",
    ],
)
def test_check_when_guard_can_never_hold_then_never_true(
    machine: Callable[[str], MachineSpec], guard: str
) -> None:
    text = f"""states: {{idle: {{}}, busy: {{}}}}
transitions:
  - {{name: a, trigger: tick, source: idle, dest: busy, when: "{guard}", priority: 1}}
  - {{name: a2, trigger: tick, source: idle, dest: busy, when: "vix > 50", priority: 2}}
  - {{name: b, trigger: tick, source: busy, dest: idle}}
"""
    assert codes(machine, text) == ["never-true"]


@pytest.mark.parametrize(
    "guard",
    [
        "vix > 30 or vix < 20",
        "not (vix > 30) and not (vix < 20)",
        "vix * 2 > 30 and vix < 10",
        "position.side == 'CE' or position.side == 'PE'",
        "account.day_pnl_pct < -params.x",
    ],
)
def test_check_when_guard_may_hold_then_no_never_true(
    machine: Callable[[str], MachineSpec], guard: str
) -> None:
    text = f"""params: {{x: 3}}
states: {{idle: {{}}, busy: {{}}}}
transitions:
  - {{name: a, trigger: tick, source: idle, dest: busy, when: "{guard}"}}
  - {{name: b, trigger: tick, source: busy, dest: idle}}
"""
    assert "never-true" not in codes(machine, text)


def test_check_when_guards_overlap_without_priority_then_ambiguous(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = """states: {idle: {}, a: {}, b: {}}
transitions:
  - {name: to_a, trigger: tick, source: idle, dest: a, when: "vix > 30"}
  - {name: to_b, trigger: tick, source: idle, dest: b, when: "vix > 25"}
  - {name: back, trigger: tick, source: [a, b], dest: idle}
"""
    assert codes(machine, text) == ["ambiguous"]


@pytest.mark.parametrize(
    "extra",
    [
        'when: "vix < 25"',  # disjoint guards
        "priority: 2",  # ...or distinct priorities (the other gets priority 1)
    ],
)
def test_check_when_guards_exclusive_or_prioritised_then_not_ambiguous(
    machine: Callable[[str], MachineSpec], extra: str
) -> None:
    first = "priority: 1, " if "priority" in extra else ""
    second = extra if "priority" in extra else extra
    guard_b = ', when: "vix > 25"' if "priority" in extra else ""
    text = f"""states: {{idle: {{}}, a: {{}}, b: {{}}}}
transitions:
  - {{name: to_a, trigger: tick, source: idle, dest: a, {first}when: "vix > 30"}}
  - {{name: to_b, trigger: tick, source: idle, dest: b, {second}{guard_b}}}
  - {{name: back, trigger: tick, source: [a, b], dest: idle}}
"""
    assert codes(machine, text) == []


def test_check_when_first_is_always_enabled_then_later_is_shadowed(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = """states: {idle: {}, a: {}, b: {}}
transitions:
  - {name: to_a, trigger: tick, source: idle, dest: a, priority: 1}
  - {name: to_b, trigger: tick, source: idle, dest: b, when: "vix > 25", priority: 2}
  - {name: back, trigger: tick, source: [a, b], dest: idle}
"""
    assert sorted(codes(machine, text)) == ["shadowed", "unreachable-state"]


def test_check_when_two_timers_leave_one_state_then_ambiguous_unless_prioritised(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = """states: {idle: {}, a: {}}
transitions:
  - {name: short, after: 5m, source: idle, dest: a}
  - {name: long, after: 10m, source: idle, dest: a}
  - {name: back, trigger: tick, source: a, dest: idle}
"""
    assert codes(machine, text) == ["ambiguous"]
    fixed = text.replace("dest: a}\n  - {name: long", "dest: a, priority: 1}\n  - {name: long")
    fixed = fixed.replace(
        "after: 10m, source: idle, dest: a}", "after: 10m, source: idle, dest: a, priority: 2}"
    )
    assert codes(machine, fixed) == []
