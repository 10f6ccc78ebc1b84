"""The names a machine's guards and invariants may read.

The runtime vocabulary of ``engine.vocabulary`` (time, vix, positions.open, account.* ...),
extended with what only machines read:

- ``calendar.*``: today's session facts, filled by the machine runner from the calendar;
- a few runtime facts the safety machines need (``broker.session_ending``,
  ``underlying.side_held``), filled by the runtime's context like any other name;
- ``params.NAME``: the file's own parameters (constants);
- ``event.NAME``: values sent with the trigger being processed;
- ``state.MACHINE``: the current state of this machine and of every machine it
  ``requires``, and ``state.MACHINE.TAG``: whether that state carries a tag
  (``state.breakers.tripped``), so one machine's guard can depend on another's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.expr import NameInfo, ValueType, Vocabulary
from engine.vocabulary import MACHINE_NAMES, RUNNER_NAMES, base_vocabulary

__all__ = ["MACHINE_NAMES", "RUNNER_NAMES", "PeerInfo", "machine_vocabulary", "state_names"]

_N, _B, _S = ValueType.NUMBER, ValueType.BOOL, ValueType.STRING


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """What other machines may know of one machine: its states and their tags."""

    name: str
    states: tuple[str, ...]
    tags: Mapping[str, frozenset[str]]  # tag -> the states that carry it

    def has_tag(self, state: str, tag: str) -> bool:
        return state in self.tags.get(tag, frozenset())


def state_names(peer: PeerInfo, state: str) -> dict[str, object]:
    """The ``state.*`` context entries that say ``peer`` is in ``state``."""
    out: dict[str, object] = {f"state.{peer.name}": state}
    for tag, holders in peer.tags.items():
        out[f"state.{peer.name}.{tag}"] = state in holders
    return out


def _state_vocab(peers: Iterable[PeerInfo]) -> dict[str, NameInfo]:
    out: dict[str, NameInfo] = {}
    for peer in peers:
        out[f"state.{peer.name}"] = NameInfo(
            _S, f"current state of the {peer.name} machine", tuple(peer.states)
        )
        for tag, holders in sorted(peer.tags.items()):
            shown = ", ".join(sorted(holders))
            out[f"state.{peer.name}.{tag}"] = NameInfo(
                _B, f"the {peer.name} machine is in a state tagged {tag} ({shown})"
            )
    return out


def _param_info(name: str, kind: str, value: object) -> NameInfo:
    doc = f"parameter {name} = {value!r}"
    if kind == "number":
        return NameInfo(_N, doc, constant=value)  # type: ignore[arg-type]
    if kind == "bool":
        return NameInfo(_B, doc)
    if kind == "duration":
        return NameInfo(_N, doc + " (in guards: minutes)", unit="minutes")
    if kind == "time":
        return NameInfo(ValueType.TIME, doc)
    return NameInfo(_S, doc)


def machine_vocabulary(
    params: Mapping[str, tuple[str, object]],
    events: Mapping[str, NameInfo],
    peers: Iterable[PeerInfo],
) -> Vocabulary:
    """Base runtime names + machine names + params.* + event.* + state.*.

    ``params`` maps a parameter name to (kind, value) where kind is number, bool, string,
    duration or time; ``events`` maps an event value name to its NameInfo.
    """
    names: dict[str, NameInfo] = dict(base_vocabulary().names)
    names.update(MACHINE_NAMES)
    for name, (kind, value) in params.items():
        names[f"params.{name}"] = _param_info(name, kind, value)
    for name, info in events.items():
        names[f"event.{name}"] = info
    names.update(_state_vocab(peers))
    return Vocabulary(dict(sorted(names.items())))
