"""The declared context vocabulary: which dotted names an expression may read.

Attribute access exists in the language only as a path into this vocabulary
(``daily.adx``, ``h1.prev.plus_di``); anything else is rejected at load time, which removes
the whole class of sandbox escapes that go through attributes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from engine.expr._values import ValueType

__all__ = ["NameInfo", "Vocabulary"]


@dataclass(frozen=True, slots=True)
class NameInfo:
    """One readable name: its type, what it means, and the strings it may equal.

    ``constant`` is the value of a name that never changes (a file's parameter), so the
    load-time checks can bound what it is used for (``params.a ** params.b``).
    """

    type: ValueType
    doc: str = ""
    choices: tuple[str, ...] = ()
    unit: str = ""
    constant: float | None = None


@dataclass(frozen=True)
class Vocabulary(Mapping[str, NameInfo]):
    """An immutable mapping of dotted name -> NameInfo, with namespace and suggestion lookup."""

    names: Mapping[str, NameInfo]
    #: Hints for namespaces that exist in the language but are not declared here
    #: (``{"m1": "declare timeframe m1 under 'indicators' to read it"}``).
    notes: Mapping[str, str] = field(default_factory=dict)
    _namespaces: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        prefixes: set[str] = set()
        for name in self.names:
            parts = name.split(".")
            for i in range(1, len(parts)):
                prefixes.add(".".join(parts[:i]))
        object.__setattr__(self, "_namespaces", frozenset(prefixes))

    @classmethod
    def of(cls, names: Mapping[str, NameInfo | ValueType]) -> Vocabulary:
        """Build from a mapping whose values are NameInfo or just a ValueType."""
        return cls(
            {k: v if isinstance(v, NameInfo) else NameInfo(v) for k, v in sorted(names.items())}
        )

    def merged(self, other: Mapping[str, NameInfo]) -> Vocabulary:
        return Vocabulary({**self.names, **other}, self.notes)

    def __getitem__(self, key: str) -> NameInfo:
        return self.names[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def is_namespace(self, prefix: str) -> bool:
        return prefix in self._namespaces

    def members(self, prefix: str) -> list[str]:
        """The names directly or indirectly under a namespace prefix."""
        head = prefix + "."
        return sorted(n for n in self.names if n.startswith(head))

    def suggest(self, name: str, *, candidates: Iterable[str] | None = None) -> str | None:
        """The closest declared name, if one is close enough to be a likely typo."""
        pool = list(candidates if candidates is not None else self.names)
        match = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
        if match:
            return match[0]
        # A right leaf under a misspelt namespace ("dialy.adx"): compare the leaf too.
        leaf = name.rsplit(".", 1)[-1]
        same_leaf = [p for p in pool if p.rsplit(".", 1)[-1] == leaf]
        match = difflib.get_close_matches(name, same_leaf, n=1, cutoff=0.5)
        return match[0] if match else None
