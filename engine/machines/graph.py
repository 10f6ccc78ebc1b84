"""The machine as a graph: edges that can fire, reachability and shortest paths.

An edge is one (source state, transition) pair whose guard can hold, as far as interval
reasoning over the guard shows (``analysis.holds`` is not False). The static checks use
reachability; the model-based tests use the shortest path to every state and to every
edge, generated from the machine itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from engine.expr.analysis import Dnf, analyse, holds
from engine.machines.spec import MachineSpec, TransitionSpec
from engine.machines.vocabulary import state_names

__all__ = ["Edge", "MachineGraph"]


@dataclass(frozen=True, slots=True)
class Edge:
    """One way out of one state: the transition taken from ``source``."""

    source: str
    transition: TransitionSpec

    @property
    def dest(self) -> str:
        return self.transition.dest


class MachineGraph:
    """Edges of one machine, with guards analysed once (parameters folded in)."""

    def __init__(self, spec: MachineSpec, known: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.known = dict(spec.guard_params) if known is None else dict(known)
        self.dnf: dict[int, Dnf] = {
            t.index: analyse(t.when, spec.vocabulary, self.known) for t in spec.transitions
        }
        self._own = f"state.{spec.name}"
        self._at: dict[tuple[int, str], Dnf] = {}
        self._verdicts: dict[tuple[int, str], bool | None] = {}

    def dnf_at(self, t: TransitionSpec, source: str) -> Dnf:
        """The guard's normal form when leaving ``source`` (its own state is then known)."""
        if t.when is None or not any(
            n.split(".")[:2] == ["state", self.spec.name] for n in t.when.names
        ):
            return self.dnf[t.index]
        key = (t.index, source)
        if key not in self._at:
            known = {**self.known, **state_names(self.spec.peer_info, source)}
            self._at[key] = analyse(t.when, self.spec.vocabulary, known)
        return self._at[key]

    def verdict(self, t: TransitionSpec, source: str) -> bool | None:
        """``holds`` of the guard when leaving ``source``, computed once per pair."""
        key = (t.index, source)
        if key not in self._verdicts:
            self._verdicts[key] = holds(self.dnf_at(t, source), self.spec.vocabulary)
        return self._verdicts[key]

    def can_fire(self, t: TransitionSpec, source: str) -> bool:
        return self.verdict(t, source) is not False

    def always(self, t: TransitionSpec, source: str) -> bool:
        """Enabled whenever its trigger arrives in ``source`` (untimed, guard always true)."""
        return not t.timed and self.verdict(t, source) is True

    @cached_property
    def edges(self) -> dict[str, list[Edge]]:
        """state -> its edges that can fire, in evaluation order per trigger.

        An edge after one that is always enabled on the same trigger never fires.
        """
        out: dict[str, list[Edge]] = {s: [] for s in self.spec.states}
        for state, by_trigger in self.spec.table.items():
            for candidates in by_trigger.values():
                for t in candidates:
                    if self.can_fire(t, state):
                        out[state].append(Edge(state, t))
                    if self.always(t, state):
                        break
        return out

    @cached_property
    def paths(self) -> dict[str, tuple[Edge, ...]]:
        """state -> the shortest edge path from the initial state (absent: unreachable)."""
        start = self.spec.initial
        found: dict[str, tuple[Edge, ...]] = {start: ()}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            for edge in self.edges[state]:
                if edge.dest not in found:
                    found[edge.dest] = (*found[state], edge)
                    queue.append(edge.dest)
        return found

    @property
    def reachable(self) -> frozenset[str]:
        return frozenset(self.paths)

    def edge_paths(self) -> dict[tuple[str, int], tuple[Edge, ...]]:
        """(source, transition index) -> the shortest path that ends by taking that edge."""
        out: dict[tuple[str, int], tuple[Edge, ...]] = {}
        for state, prefix in self.paths.items():
            for edge in self.edges[state]:
                out.setdefault((state, edge.transition.index), (*prefix, edge))
        return out

    def ways_out(self, state: str) -> list[Edge]:
        return [e for e in self.edges[state] if e.dest != state]

    def reaches(self, start: str, goal: frozenset[str], *, avoid_triggers: frozenset[str]) -> bool:
        """Whether a state in ``goal`` is reachable from ``start`` without those triggers."""
        seen = {start}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            if state in goal:
                return True
            for edge in self.edges[state]:
                if edge.transition.trigger in avoid_triggers or edge.dest in seen:
                    continue
                seen.add(edge.dest)
                queue.append(edge.dest)
        return False
