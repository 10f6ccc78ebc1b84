"""Value types of the language, the typed "not available" value and three-valued logic.

A value that is not available (an indicator still warming up, a field the runtime has
not filled, an arithmetic result out of range) is a ``Missing`` carrying the reason.
Missing values follow Kleene's three-valued logic, as SQL's NULL does:

- a comparison or arithmetic with a missing value is missing;
- ``not missing`` is missing;
- ``a or b`` is true when either side is true, false when both are false, else missing;
- ``a and b`` is false when either side is false, true when both are true, else missing;
- ``c if x else y`` with a missing ``x`` is missing.

A condition *holds* only when its value ``is True``: callers test ``value is True``, never
the value's truth in Python (``bool()`` of a missing value is False, but Python's ``not``
of it is True, which is exactly the trap three-valued logic removes).
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "MISSING",
    "Missing",
    "ValueType",
    "holds",
    "is_missing",
    "kleene_and",
    "kleene_if",
    "kleene_not",
    "kleene_or",
]


class ValueType(enum.Enum):
    """The static type of a name or sub-expression, used for load-time checks."""

    NUMBER = "number"
    BOOL = "bool"
    TIME = "time"  # a time of day (datetime.time), compared with 'HH:MM' literals
    DATE = "date"  # a calendar date (datetime.date), compared with 'YYYY-MM-DD' literals
    STRING = "string"
    ANY = "any"  # unknown statically (e.g. `x if c else y` of mixed branches)

    def __str__(self) -> str:
        return self.value


def _same(self: Missing, *other: object) -> Missing:
    return self


class Missing:
    """A value that is not available, with the reason (``daily.adx not ready (9 of 28 bars)``).

    Comparisons and arithmetic with it give it back, so generated code can use plain
    Python operators and still never raise in the middle of a session.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str = "value not available") -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<missing: {self.reason}>"

    def __bool__(self) -> bool:
        return False  # a missing condition does not hold; test `is True`, never `not x`

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _same  # type: ignore[assignment]
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _same
    __mod__ = __rmod__ = __pow__ = __rpow__ = _same
    __neg__ = __pos__ = __abs__ = _same

    def __hash__(self) -> int:
        return hash(("Missing", self.reason))

    def __round__(self, ndigits: Any = None) -> Missing:
        return self


#: The generic missing value, when no better reason is known.
MISSING = Missing()


def is_missing(value: object) -> bool:
    return type(value) is Missing


def holds(value: object) -> bool:
    """Whether a condition's value makes it hold: only ``True`` does."""
    return value is True


def _truth(value: Any) -> Any:
    """True, False or the Missing itself (any other value by its Python truth)."""
    if value is True or value is False or type(value) is Missing:
        return value
    return bool(value)


def kleene_and(*values: Any) -> Any:
    """False if any value is false; else the first missing value; else True."""
    first_missing = None
    for v in values:
        t = _truth(v)
        if t is False:
            return False
        if t is not True and first_missing is None:
            first_missing = t
    return True if first_missing is None else first_missing


def kleene_or(*values: Any) -> Any:
    """True if any value is true; else the first missing value; else False."""
    first_missing = None
    for v in values:
        t = _truth(v)
        if t is True:
            return True
        if t is not False and first_missing is None:
            first_missing = t
    return False if first_missing is None else first_missing


def kleene_not(value: Any) -> Any:
    """The negation; a missing value stays missing."""
    t = _truth(value)
    return t if type(t) is Missing else not t


def kleene_if(test: Any, body: Any, orelse: Any) -> Any:
    """``body if test else orelse``; a missing test makes the result missing."""
    t = _truth(test)
    if t is True:
        return body
    if t is False:
        return orelse
    return t
