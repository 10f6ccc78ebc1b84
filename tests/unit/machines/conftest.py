"""Fixtures for the machine tests: the shipped machines, a simulated clock, a world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from machines_testkit import CALM, MACHINES, SHIPPED

from engine.clock import SimClock
from engine.machines import MachineSpec, load_machine_file, load_machine_text
from engine.timeutil import IST


@pytest.fixture(scope="session")
def shipped() -> dict[str, MachineSpec]:
    return {name: load_machine_file(MACHINES / f"{name}.yaml") for name in SHIPPED}


@pytest.fixture
def clock() -> SimClock:
    """A Tuesday (2025-01-07, a regular session) at 08:00 IST."""
    return SimClock(datetime(2025, 1, 7, 8, 0, tzinfo=IST))


@pytest.fixture
def world() -> dict[str, Any]:
    """The runtime's context, as a mutable dict a test changes between steps."""
    return dict(CALM)


@pytest.fixture
def machine(tmp_path: Path) -> Callable[[str], MachineSpec]:
    """Load a machine from YAML text (sibling machines may be written to tmp_path)."""

    def load(text: str) -> MachineSpec:
        return load_machine_text(text, "machines/test.yaml", tmp_path)

    return load
