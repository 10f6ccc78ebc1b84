"""Recording every bar-close evaluation compactly, so ``engine explain`` can answer from it.

A decision that trades (an entry sent, an exit fired) is journaled in full by the
evaluation order itself. What this adds is the rest: every bar close where the entry
rules were evaluated and nothing traded, and every bar close while a position was open.
Only the *values read* are written, never a built trace tree: ``engine explain``
compiles the rules again (the journal's header carries their text and digest) and
rebuilds each trace from these values on demand, so recording costs one list of values
per evaluation.

Records (schema 2; see docs/explain.md):

- ``layout`` (once per rule and underlying, ``t`` its number): the names each filter,
  trigger and exit reads, in the order the values below are written.
- ``entry_eval``: one entry evaluation at a bar close. ``fail`` is the index of the first
  filter that did not hold (absent when every filter held), ``fired`` the trigger that
  fired (absent when none did); ``v`` the values read by the filters up to the failing
  one (all of them when none failed), then the values the triggers read.
- ``exit_eval``: the exits' values at a bar close while a position is open (``fired``
  names the exit when one fired then, on a bar or a tick).
- ``entries``: the machines opened or closed entries (``blocked_by`` says which).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from engine.journal.writer import Journal

__all__ = ["DecisionRecorder", "ordered_names"]


class _Rule(Protocol):
    name: str
    when: Any


def ordered_names(exprs: Iterable[Any]) -> tuple[str, ...]:
    """The names a sequence of expressions read, each once, in first-read order."""
    return tuple(dict.fromkeys(n for e in exprs for n in sorted(e.names)))


class _Slot:
    __slots__ = ("entry_names", "exit_names", "trigger_names")

    def __init__(self, filters: list[tuple[str, ...]], triggers: tuple[str, ...],
                 exits: tuple[str, ...]) -> None:  # fmt: skip
        upto: list[tuple[str, ...]] = []
        acc: tuple[str, ...] = ()
        for names in filters:
            acc = acc + names
            upto.append(acc + triggers)
        upto.append(acc + triggers)  # every filter held
        self.entry_names = tuple(upto)
        self.trigger_names = triggers
        self.exit_names = exits


class DecisionRecorder:
    """Writes the compact evaluation records of every trader into one journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._slots: list[_Slot] = []
        self._gate: tuple[bool, str] | None = None

    def attach(self, rule: str, underlying: str, spec: Any) -> int:
        """A trader's number; writes its ``layout`` record."""
        slot = len(self._slots)
        filters = [tuple(sorted(f.when.names)) for f in spec.filters]
        triggers = ordered_names(t.when for t in spec.triggers)
        exits = ordered_names(e.when for e in spec.exits)
        self._slots.append(_Slot(filters, triggers, exits))
        self.journal.write(
            {
                "kind": "layout",
                "ts": 0,
                "t": slot,
                "rule": rule,
                "underlying": underlying,
                "filters": [[f.name, list(n)] for f, n in zip(spec.filters, filters, strict=True)],
                "triggers": [[t.name, t.side, sorted(t.when.names)] for t in spec.triggers],
                "trigger_names": list(triggers),
                "exits": [[e.name, e.priority, sorted(e.when.names)] for e in spec.exits],
                "exit_names": list(exits),
            }
        )
        return slot

    def entry_eval(
        self, slot: int, ts: int, values: Mapping[str, Any], fail: int, fired: str | None
    ) -> None:
        """``fail``: index of the first filter that did not hold, or -1."""
        names = self._slots[slot].entry_names[fail]
        record: dict[str, Any] = {"kind": "entry_eval", "ts": ts, "t": slot}
        if fail >= 0:
            record["fail"] = fail
        if fired is not None:
            record["fired"] = fired
        record["v"] = [values[n] for n in names]
        self.journal.write(record)

    def exit_eval(self, slot: int, ts: int, values: Mapping[str, Any], fired: str | None) -> None:
        record: dict[str, Any] = {"kind": "exit_eval", "ts": ts, "t": slot}
        if fired is not None:
            record["fired"] = fired
        record["v"] = [values[n] for n in self._slots[slot].exit_names]
        self.journal.write(record)

    def entries_gate(self, ts: int, open_: bool, blocked_by: str) -> None:
        """The machines allow entries or not (and which block them); written on a change."""
        gate = (open_, "" if open_ else blocked_by)
        if gate == self._gate:
            return
        self._gate = gate
        record: dict[str, Any] = {"kind": "entries", "ts": ts, "open": open_}
        if not open_:
            record["blocked_by"] = blocked_by
        self.journal.write(record)
