"""Machine step speed: one step of the breakers machine (guards and a transition) against
the transitions library's own bare step on an equivalent machine.

Budget: one step, guard evaluation and transition included, at most 20 microseconds.
Run with ``python -m pytest benchmarks/bench_machines.py --benchmark-only``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimClock
from engine.machines import MachineRunner, RecordingSink, build_machine, load_machine_file
from engine.machines.modeltest import FakeCalendar
from engine.timeutil import IST

BREAKERS = Path(__file__).resolve().parents[1] / "machines" / "breakers.yaml"
CALM: dict[str, Any] = {
    "account.day_pnl_pct": 0.0, "vix": 14.0, "vix_change_5m": 0.0, "vix_change_10m": 0.0,
    "account.margin_used_pct": 10.0, "account.consecutive_losses": 0,
    "underlying.change_5m_pct": 0.1, "account.reject_rate_15m_pct": 0.0, "data.gap": False,
}  # fmt: skip
PAUSE_NS = 301 * 10**9  # just over the 5-minute flash pause


class _Sink(RecordingSink):
    """Keeps nothing, so a long benchmark does not grow a list."""

    def request(self, action: Any) -> None:
        pass


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return load_machine_file(BREAKERS)


def _runner(spec: Any, world: dict[str, Any], clock: SimClock) -> MachineRunner:
    return MachineRunner(
        spec, clock=clock, context=lambda: world, actions=_Sink(), calendar=FakeCalendar()
    )


def test_step_without_transition(benchmark, spec) -> None:  # type: ignore[no-untyped-def]
    """A tick in `normal` with a calm market: all seven trip guards evaluated, none holds."""
    clock = SimClock(datetime(2025, 1, 7, 10, 0, tzinfo=IST))
    runner = _runner(spec, dict(CALM), clock)
    assert benchmark(runner.tick, cascade=False) == []


def test_step_with_transition(benchmark, spec) -> None:  # type: ignore[no-untyped-def]
    """One tick that takes a transition: normal -> paused (a flash move, 6 guards) and back
    (pause over after 5 minutes); the values read are recorded and actions requested."""
    clock = SimClock(datetime(2025, 1, 7, 10, 0, tzinfo=IST))
    world = dict(CALM)
    runner = _runner(spec, world, clock)

    def step() -> None:
        paused = runner.state == "normal"
        world["underlying.change_5m_pct"] = 2.5 if paused else 0.1
        if not paused:
            clock._ns += PAUSE_NS  # noqa: SLF001 - move time without building a datetime
        taken = runner.tick(cascade=False)
        assert len(taken) == 1

    benchmark(step)


def test_transitions_bare_step(benchmark, spec) -> None:  # type: ignore[no-untyped-def]
    """The library's own step on the same states and transitions, trivial conditions:
    normal -> paused and back, as above, without our guards, timing or events."""
    wanted = {"flash_move", "pause_over"}
    machine, model = build_machine(spec, condition_for=lambda t: lambda: t.name in wanted)

    def step() -> None:
        model.trigger("tick")

    benchmark(step)
    assert model.state in ("normal", "paused")
