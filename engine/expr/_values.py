"""Value types of the language and the typed "not ready" value.

A value that is not available yet (an indicator still warming up, a field the runtime has
not filled) is a ``Missing`` carrying the reason. Comparisons with it are false, arithmetic
with it stays missing, and it is falsy; so a rule never raises in the middle of a session
and ``engine explain`` can say *why* a clause was false.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["MISSING", "Missing", "ValueType", "is_missing"]


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


def _false(self: Missing, other: object) -> bool:
    return False


def _same(self: Missing, *other: object) -> Missing:
    return self


class Missing:
    """A value that is not available, with the reason (``daily.adx not ready (9 of 28 bars)``)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str = "value not available") -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<missing: {self.reason}>"

    def __bool__(self) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _false
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
