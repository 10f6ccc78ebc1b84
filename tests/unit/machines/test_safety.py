"""Safety properties: each one broken by a small edit of the shipped machines."""

from __future__ import annotations

from pathlib import Path

import pytest
from machines_testkit import MACHINES, SHIPPED

from engine.errors import SpecError
from engine.machines import MachineSpec, load_machine_file
from engine.machines.safety import machine_properties, system_properties


@pytest.fixture
def edited(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy the shipped machines, apply one text edit to one file, load the edited file."""
    for name in SHIPPED:
        (tmp_path / f"{name}.yaml").write_text((MACHINES / f"{name}.yaml").read_text())

    def edit(name: str, old: str, new: str, load: str | None = None) -> list[tuple[str, str]]:
        path = tmp_path / f"{name}.yaml"
        text = path.read_text()
        assert old in text, f"the edit does not apply: {old!r}"
        path.write_text(text.replace(old, new, 1))
        try:
            spec = load_machine_file(tmp_path / f"{load or name}.yaml")
        except SpecError as e:
            return [(Path(d.file).name, d.code) for d in e.diagnostics if d.severity == "error"]
        return [(Path(w.file).name, w.code) for w in spec.warnings]

    return edit


def test_safety_when_shipped_machines_then_every_property_holds(
    shipped: dict[str, MachineSpec],
) -> None:
    for spec in shipped.values():
        assert machine_properties(spec) == []
    assert system_properties(shipped["position"]) == []


def test_safety_when_entry_ignores_breakers_then_entry_while_tripped(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited("position", "and state.breakers.entries_allowed\n", "\n")
    assert found == [("position.yaml", "entry-while-tripped")]


def test_safety_when_entry_ignores_kill_switch_then_entry_while_tripped(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited("position", "and state.killswitch.entries_allowed\n", "\n")
    # stopping and halted block entries; resume_pending is not an entry state either
    assert sorted(found) == [
        ("position.yaml", "entry-outside-window"),
        ("position.yaml", "entry-while-tripped"),
    ]


def test_safety_when_entry_ignores_session_then_entry_outside_window(edited) -> None:  # type: ignore[no-untyped-def]
    """An entry that does not wait for the session's window could be made in the break of
    a split session (in_break), before the open or after the final exit."""
    found = edited("position", "state.session.entries_allowed\n      and ", "")
    assert found == [("position.yaml", "entry-outside-window")]


def test_safety_when_a_break_skips_its_exit_then_close_not_flat(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited(
        "session", "then: [exit_all, {cancel_orders: all}]}", "then: [{cancel_orders: all}]}"
    )
    assert found == [("session.yaml", "close-not-flat")]


def test_safety_when_flatten_retries_then_stopping_still_reaches_halted(
    shipped: dict[str, MachineSpec],
) -> None:
    ks = shipped["killswitch"]
    assert {"flatten_retry", "flatten_failed"} <= set(ks.tagged("stopping"))
    assert machine_properties(ks) == []


def test_safety_when_exit_depends_on_session_then_exit_blocked(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited(
        "position",
        "{name: exit,            trigger: exit, source: [open, partial], dest: exit_pending}",
        "{name: exit, trigger: exit, source: [open, partial], dest: exit_pending, "
        'when: "state.session.entries_allowed"}',
    )
    assert ("position.yaml", "exit-blocked") in found


def test_safety_when_kill_not_handled_in_a_risk_state_then_reported(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited(
        "killswitch",
        "{name: kill,         trigger: kill,   source: [armed, limited, "
        "resume_pending], dest: triggered}",
        "{name: kill, trigger: kill, source: [armed, resume_pending], dest: triggered}",
    )
    assert found == [("killswitch.yaml", "kill-not-handled")]


def test_safety_when_kill_not_handled_while_position_open_then_product_reports(edited) -> None:  # type: ignore[no-untyped-def]
    # resume_pending holds no risk itself, but the position machine may still be open
    found = edited(
        "killswitch",
        "{name: sigint,       trigger: sigint, source: [armed, limited, "
        "resume_pending], dest: triggered}",
        "{name: sigint, trigger: sigint, source: [armed, limited], dest: triggered}",
        load="position",
    )
    assert found == [("killswitch.yaml", "kill-not-handled")]


def test_safety_when_halted_has_a_timer_out_then_halted_escape(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited(
        "killswitch",
        "  - name: full_size\n",
        "  - {name: unhalt, after: 1h, source: halted, dest: armed}\n  - name: full_size\n",
    )
    assert found == [("killswitch.yaml", "halted-escape")]


def test_safety_when_stopping_can_return_to_trading_then_stopping_escape(edited) -> None:  # type: ignore[no-untyped-def]
    found = edited(
        "killswitch", "source: cancelling, dest: flattening}", "source: cancelling, dest: armed}"
    )
    assert ("killswitch.yaml", "stopping-escape") in found


def test_safety_when_kill_role_removed_then_missing_role(edited) -> None:  # type: ignore[no-untyped-def]
    assert (
        edited("killswitch", "  kill:\n    role: kill\n", "  kill:\n") == []
    )  # sigint still kills
    found = edited("killswitch", "  sigint:\n    role: kill\n", "  sigint:\n")
    assert found == [("killswitch.yaml", "missing-role")]


def test_safety_when_position_does_not_require_breakers_then_missing_requires(edited) -> None:  # type: ignore[no-untyped-def]
    edited("position", "and state.breakers.entries_allowed\n", "\n")
    found = edited(
        "position", "requires: [session, breakers, killswitch]", "requires: [session, killswitch]"
    )
    assert found == [("position.yaml", "missing-requires")]
