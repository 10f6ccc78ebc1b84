"""build_machine: the spec as a transitions.Machine, the reference semantics."""

from __future__ import annotations

import pytest
from machines_testkit import SHIPPED
from transitions import MachineError

from engine.machines import MachineSpec, build_machine


@pytest.mark.parametrize("name", SHIPPED)
def test_build_when_shipped_machine_then_every_transition_and_no_shortcuts(
    shipped: dict[str, MachineSpec], name: str
) -> None:
    spec = shipped[name]
    machine, model = build_machine(spec)
    assert machine.auto_transitions is False
    assert set(machine.states) == set(spec.states)
    assert model.state == spec.initial
    built = {
        (src, t.dest, trigger)
        for trigger, event in machine.events.items()
        for src, ts in event.transitions.items()
        for t in ts
    }
    declared = {(src, t.dest, t.trigger) for t in spec.transitions for src in t.sources}
    assert built == declared
    assert not any(hasattr(model, f"to_{s}") for s in spec.states)


def test_build_when_trigger_not_accepted_then_library_refuses(
    shipped: dict[str, MachineSpec],
) -> None:
    machine, model = build_machine(shipped["killswitch"], condition_for=lambda t: lambda: True)
    model.trigger("kill")
    assert model.state == "triggered"
    with pytest.raises(MachineError):
        model.trigger("resume")


def test_build_when_guards_given_then_first_by_priority_wins(
    shipped: dict[str, MachineSpec],
) -> None:
    # both daily_loss (priority 1) and vix_trip (priority 3) hold: daily_loss fires
    machine, model = build_machine(shipped["breakers"], condition_for=lambda t: lambda: True)
    model.trigger("tick")
    assert model.state == "halted_day"
