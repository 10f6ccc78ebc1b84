"""Loading machine files: the shipped machines, the spec built, and located errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest
from machines_testkit import MACHINES, SHIPPED

from engine.errors import SpecError
from engine.expr import ValueType
from engine.machines import MachineSpec, is_machine_document, load_machine_file
from engine.machines.spec import TICK

MINIMAL = """
machine: demo
initial: idle
params:
  vix_max: 30
  cooldown: 30m
  close_at: '15:20'
  late: close - 10m
  label: calm
  strict: true
triggers:
  go:
    doc: start
    values:
      size: {type: number}
states:
  idle: {}
  busy:
    tags: [risk]
    on_enter: [{notify: busy}]
    invariant: positions.open <= 1
transitions:
  - name: start
    trigger: go
    source: idle
    dest: busy
    when: "event.size > 0 and vix < params.vix_max"
  - {name: rest, after: params.cooldown, source: busy, dest: idle, priority: 2}
  - {name: close, at: params.late, source: busy, dest: idle, priority: 1}
"""


@pytest.mark.parametrize("name", SHIPPED)
def test_load_when_shipped_machine_then_loads_without_warnings(
    shipped: dict[str, MachineSpec], name: str
) -> None:
    spec = shipped[name]
    assert spec.name == name
    assert spec.warnings == []
    assert spec.initial in spec.states


def test_load_when_position_then_required_machines_are_loaded_for_the_product(
    shipped: dict[str, MachineSpec],
) -> None:
    position = shipped["position"]
    assert set(position.required) == {"session", "breakers", "killswitch"}
    assert position.vocabulary["state.breakers"].choices == tuple(shipped["breakers"].states)
    assert position.vocabulary["state.breakers.tripped"].type is ValueType.BOOL


def test_load_when_minimal_text_then_builds_params_triggers_states_transitions(
    machine: Callable[[str], MachineSpec],
) -> None:
    spec = machine(MINIMAL)
    assert {p.name: p.kind for p in spec.params.values()} == {
        "vix_max": "number",
        "cooldown": "duration",
        "close_at": "time",
        "late": "time",
        "label": "string",
        "strict": "bool",
    }
    assert spec.params["cooldown"].guard_value == 30.0
    assert spec.params["close_at"].guard_value == time(15, 20)
    assert spec.triggers["go"].values == ("size",)
    assert spec.states["busy"].tags == frozenset({"risk"})
    assert spec.states["busy"].invariants[0].source == "positions.open <= 1"
    rest = spec.transitions[1]
    assert (rest.trigger, rest.after.seconds, rest.priority) == (TICK, 1800, 2)
    assert spec.transitions[2].at.text == "close - 10m"
    assert [t.name for t in spec.candidates("busy", TICK)] == ["close", "rest"]
    # unused parameters warn, they do not fail
    assert {w.code for w in spec.warnings} == {"unused-param"}


def test_load_when_time_is_unquoted_then_yaml_sexagesimal_is_undone(
    machine: Callable[[str], MachineSpec],
) -> None:
    text = MINIMAL.replace("close_at: '15:20'", "close_at: 15:20").replace(
        "at: params.late", "at: 15:20"
    )
    spec = machine(text)
    assert spec.params["close_at"].value == "15:20"
    assert spec.transitions[2].at.clock == time(15, 20)


def test_load_when_file_has_errors_then_spec_error_lists_all_with_locations(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        MINIMAL.replace("dest: busy", "dest: bussy").replace("[{notify: busy}]", "[notfy]")
    )
    with pytest.raises(SpecError) as info:
        load_machine_file(path, "machines/bad.yaml")
    codes = [(d.code, d.line) for d in info.value.diagnostics if d.severity == "error"]
    assert ("unknown-action", 20) in codes
    assert ("unknown-state", 26) in codes
    assert "machines/bad.yaml:20:" in info.value.render()


def test_load_when_not_a_mapping_then_one_clear_error(
    machine: Callable[[str], MachineSpec],
) -> None:
    with pytest.raises(SpecError) as info:
        machine("- just\n- a list\n")
    assert [d.code for d in info.value.diagnostics] == ["not-a-machine"]


def test_load_when_required_machine_is_broken_then_points_at_requires(
    machine: Callable[[str], MachineSpec], tmp_path: Path
) -> None:
    (tmp_path / "other.yaml").write_text(
        "machine: other\ninitial: a\nstates: {a: {}}\n"
        "transitions: [{name: x, source: a, dest: b}]\n"
    )
    text = MINIMAL.replace("initial: idle", "initial: idle\nrequires: [other]")
    with pytest.raises(SpecError) as info:
        machine(text)
    d = info.value.diagnostics[0]
    assert d.code == "required-machine-invalid"
    assert "run engine validate" in d.message


def test_load_when_required_file_declares_another_name_then_error(
    machine: Callable[[str], MachineSpec], tmp_path: Path
) -> None:
    (tmp_path / "other.yaml").write_text(
        "machine: else\ninitial: a\nstates: {a: {}}\ntransitions: []\n"
    )
    with pytest.raises(SpecError) as info:
        machine(MINIMAL.replace("initial: idle", "initial: idle\nrequires: [other]"))
    assert "declares machine: 'else'" in info.value.diagnostics[0].message


def test_is_machine_document_when_states_key_then_true() -> None:
    assert is_machine_document({"states": {}})
    assert not is_machine_document({"name": "adx", "exits": []})
    assert not is_machine_document(["states"])


def test_load_when_shipped_file_changes_on_disk_then_reloaded(tmp_path: Path) -> None:
    for name in SHIPPED:
        (tmp_path / f"{name}.yaml").write_text((MACHINES / f"{name}.yaml").read_text())
    first = load_machine_file(tmp_path / "position.yaml")
    text = (tmp_path / "breakers.yaml").read_text().replace("vix_max: 30 ", "vix_max: 31 ")
    (tmp_path / "breakers.yaml").write_text(text)
    second = load_machine_file(tmp_path / "position.yaml")
    assert first.required["breakers"].params["vix_max"].value == 30
    assert second.required["breakers"].params["vix_max"].value == 31
