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
  fired (absent when none did); ``c`` the values read (by the filters up to the failing
  one, and by the triggers) that changed since this trader's previous ``entry_eval``,
  as flat pairs ``[i, value, ...]`` with ``i`` an index into the layout's
  ``entry_names``. A reader carries the values forward in file order; most values (the
  parameters, daily and hourly indicators, VIX) do not change from bar to bar, so a
  record usually holds two or three.
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


_UNSET = object()


class _Slot:
    __slots__ = ("entry_names", "entry_reads", "exit_names", "last")

    def __init__(self, filters: list[tuple[str, ...]], triggers: tuple[str, ...],
                 exits: tuple[str, ...]) -> None:  # fmt: skip
        self.entry_names = ordered = tuple(dict.fromkeys([*(n for f in filters for n in f),
                                                          *triggers]))  # fmt: skip
        position = {n: i for i, n in enumerate(ordered)}
        upto: list[tuple[tuple[int, str], ...]] = []
        acc: tuple[str, ...] = ()
        for names in filters:
            acc = acc + names
            upto.append(tuple((position[n], n) for n in dict.fromkeys(acc + triggers)))
        upto.append(tuple((position[n], n) for n in dict.fromkeys(acc + triggers)))
        self.entry_reads = tuple(upto)  # by failing filter (-1: none failed)
        self.exit_names = exits
        self.last: list[Any] = [_UNSET] * len(ordered)


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
                "entry_names": list(self._slots[slot].entry_names),
                "exits": [[e.name, e.priority, sorted(e.when.names)] for e in spec.exits],
                "exit_names": list(exits),
            }
        )
        return slot

    def entry_eval(
        self, slot: int, ts: int, values: Mapping[str, Any], fail: int, fired: str | None
    ) -> None:
        """``fail``: index of the first filter that did not hold, or -1.

        Only the values that changed since this trader's last entry_eval are written."""
        s = self._slots[slot]
        last = s.last
        changed: list[Any] = []
        for i, name in s.entry_reads[fail]:
            value = values[name]
            old = last[i]
            if old is value or (type(old) is type(value) and old == value):
                continue
            last[i] = value
            changed.append(i)
            changed.append(value)
        record: dict[str, Any] = {"kind": "entry_eval", "ts": ts, "t": slot}
        if fail >= 0:
            record["fail"] = fail
        if fired is not None:
            record["fired"] = fired
        record["c"] = changed
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
