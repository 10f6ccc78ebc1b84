"""Explicit state machines from YAML: market session, position lifecycle, breakers, kill switch.

The safety of real money rests on these machines, so they are declared in
``machines/*.yaml``, checked when loaded, and stepped deterministically:

- ``load_machine_file(path)`` reads a file against ``schema/machine.schema.json``, checks
  its meaning (states, triggers, timing, guards in the expression language, actions from
  the fixed registry), runs the static checks (``checks``) and the safety properties
  (``safety``), and returns a ``MachineSpec``, or raises ``SpecError`` listing every problem
  with its file, line and column;
- ``MachineRunner`` / ``MachineSystem`` step machines on the engine clock and report
  ``TransitionTaken``, ``TriggerIgnored``, ``ActionRequested`` and ``EmergencyRaised`` events;
- ``build_machine`` turns a spec into a ``transitions.Machine`` (``auto_transitions=False``),
  the reference semantics; ``engine.machines.diagrams`` exports Mermaid, DOT and SVG.
"""

from __future__ import annotations

from engine.machines.actions import ACTIONS, ActionCall, ActionInfo
from engine.machines.build import build_machine
from engine.machines.events import (
    ActionRequested,
    ActionSink,
    EmergencyRaised,
    Listener,
    MachineEvent,
    RecordingSink,
    TransitionTaken,
    TriggerIgnored,
)
from engine.machines.loader import is_machine_document, load_machine_file, load_machine_text
from engine.machines.runner import ContextProvider, MachineRunner
from engine.machines.spec import (
    TICK,
    Invariant,
    MachineSpec,
    Param,
    StateSpec,
    TransitionSpec,
    TriggerSpec,
)
from engine.machines.system import MachineSystem
from engine.machines.timing import ClockTime, Duration, parse_clock_spec, parse_duration

__all__ = [
    "ACTIONS",
    "TICK",
    "ActionCall",
    "ActionInfo",
    "ActionRequested",
    "ActionSink",
    "ClockTime",
    "ContextProvider",
    "Duration",
    "EmergencyRaised",
    "Invariant",
    "Listener",
    "MachineEvent",
    "MachineRunner",
    "MachineSpec",
    "MachineSystem",
    "Param",
    "RecordingSink",
    "StateSpec",
    "TransitionSpec",
    "TransitionTaken",
    "TriggerIgnored",
    "TriggerSpec",
    "build_machine",
    "is_machine_document",
    "load_machine_file",
    "load_machine_text",
    "parse_clock_spec",
    "parse_duration",
]
