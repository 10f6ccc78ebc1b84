"""Fixtures for the machine tests: the shipped machines, a simulated clock, a world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimClock
from engine.machines import MachineSpec, load_machine_file, load_machine_text
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[3]
MACHINES = REPO / "machines"
SHIPPED = ("killswitch", "breakers", "session", "position")

#: A calm market and a flat account: no breaker, kill or entry condition holds.
CALM: dict[str, Any] = {
    "positions.open": 0, "orders.pending": 0, "account.day_pnl_pct": 0.0, "vix": 14.0,
    "vix_change_5m": 0.0, "vix_change_10m": 0.0, "broker.session_expired": False,
    "account.error_rate_5m_pct": 0.0, "account.margin_used_pct": 10.0,
    "account.consecutive_losses": 0, "underlying.change_5m_pct": 0.1,
    "account.reject_rate_15m_pct": 0.0, "data.gap": False, "position.entries_today": 0,
    "underlying.side_held": "none", "position.open": False,
}


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
