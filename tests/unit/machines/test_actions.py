"""The fixed action registry: parsing, arguments, defaults and parameters."""

from __future__ import annotations

from typing import Any

import pytest

from engine.machines.actions import ACTIONS, ActionCall, parse_action

PARAMS = {"small": 0.25, "big": 3, "note": "hello"}


@pytest.mark.parametrize(
    ("raw", "name", "args"),
    [
        ("exit_all", "exit_all", {"urgency": "normal", "reason": None}),
        ({"exit_all": "immediate"}, "exit_all", {"urgency": "immediate", "reason": None}),
        ({"set_size_factor": 0.25}, "set_size_factor", {"factor": 0.25}),
        ({"set_size_factor": "params.small"}, "set_size_factor", {"factor": 0.25}),
        ({"set_max_positions": None}, "set_max_positions", {"count": None}),
        ({"notify": "params.note"}, "notify", {"message": "hello", "level": "warning"}),
        (
            {"notify": {"message": "x", "level": "critical"}},
            "notify",
            {"message": "x", "level": "critical"},
        ),
        ("reconcile", "reconcile", {}),
    ],
)
def test_parse_action_when_valid_then_binds_every_argument(raw: Any, name: str, args: dict) -> None:
    call, problem, _ = parse_action(raw, PARAMS)
    assert problem == ""
    assert call == ActionCall(name, args)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("exit_al", "unknown action 'exit_al'"),
        ({"set_size_factor": 0}, "must be above 0"),
        ({"set_size_factor": 1.5}, "must be at most 1"),
        ({"set_size_factor": "params.big"}, "must be at most 1"),
        ({"set_size_factor": "params.nope"}, "unknown parameter 'params.nope'"),
        ({"set_max_positions": 1.5}, "whole number"),
        ({"notify": {"level": "info"}}, "needs its 'message'"),
        ({"cancel_orders": "some"}, "must be one of all, entries, exits"),
        ({"reconcile": True}, "takes no arguments"),
        ({"exit_all": {"speed": 1}}, "has no argument 'speed'"),
        ({"exit_all": 1, "notify": "x"}, "one action name"),
        (42, "one action name"),
    ],
)
def test_parse_action_when_invalid_then_names_the_problem(raw: Any, fragment: str) -> None:
    call, problem, _ = parse_action(raw, PARAMS)
    assert call is None
    assert fragment in problem


def test_parse_action_when_misspelt_then_hints_the_nearest() -> None:
    _, _, hint = parse_action("cancel_order", PARAMS)
    assert hint == "did you mean 'cancel_orders'?"


def test_registry_when_listed_then_has_the_actions_the_machines_need() -> None:
    needed = {
        "exit_all",
        "cancel_orders",
        "pause_entries",
        "resume_entries",
        "halt_day",
        "set_size_factor",
        "notify",
        "close_weakest",
        "set_max_positions",
        "reconcile",
    }
    assert needed <= set(ACTIONS)
    assert all(info.doc for info in ACTIONS.values())


def test_describe_when_arguments_are_defaults_then_shows_only_what_differs() -> None:
    assert ActionCall("exit_all", {"urgency": "normal", "reason": None}).describe() == "exit_all"
    assert ActionCall("set_size_factor", {"factor": 0.5}).describe() == "set_size_factor(0.5)"
    assert (
        ActionCall("notify", {"message": "m", "level": "critical"}).describe()
        == "notify('m', level='critical')"
    )
