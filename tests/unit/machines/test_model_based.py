"""Model-based tests: the shortest path to every state and every edge, generated and run.

The paths come from each shipped machine itself; every step is driven through a real
runner with a context worked out from the guards, and each recorded transition and the
invariants after it are checked (``engine.machines.modeltest``).
"""

from __future__ import annotations

import pytest
from machines_testkit import MACHINES, SHIPPED

from engine.machines import MachineSpec, load_machine_file
from engine.machines.events import TransitionTaken
from engine.machines.graph import MachineGraph
from engine.machines.modeltest import all_paths, plan_step, run_path

CASES = [
    (name, key)
    for name in SHIPPED
    for key in all_paths(load_machine_file(MACHINES / f"{name}.yaml"))
]


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_path_when_driven_then_each_step_takes_its_transition(
    shipped: dict[str, MachineSpec], name: str, key: str
) -> None:
    spec = shipped[name]
    path = all_paths(spec)[key]
    events = run_path(spec, path)
    taken = [(e.source, e.transition) for e in events if isinstance(e, TransitionTaken)]
    assert taken == [(edge.source, edge.transition.name) for edge in path]


@pytest.mark.parametrize("name", SHIPPED)
def test_paths_when_generated_then_cover_every_state_and_every_edge(
    shipped: dict[str, MachineSpec], name: str
) -> None:
    spec = shipped[name]
    graph = MachineGraph(spec)
    paths = all_paths(spec)
    assert {k.split(":", 1)[1] for k in paths if k.startswith("state:")} == set(spec.states)
    edges = {(s, t.index) for s in spec.states for t in spec.transitions if s in t.sources}
    covered = set(graph.edge_paths())
    assert covered == edges, f"edges no path reaches: {sorted(edges - covered)}"


def test_plan_when_guard_reads_other_machines_then_picks_their_states(
    shipped: dict[str, MachineSpec],
) -> None:
    spec = shipped["position"]
    enter = next(e for e in MachineGraph(spec).edges["flat"] if e.transition.name == "enter")
    step = plan_step(spec, enter)
    assert step.context["state.breakers.entries_allowed"] is True
    assert step.context["state.killswitch.entries_allowed"] is True
    assert step.context["state.session.entries_allowed"] is True
    assert step.context["position.entries_today"] <= 2
    assert step.context["underlying.side_held"] == "none"
