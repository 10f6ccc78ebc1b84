"""Rule lints found by interval reasoning over the conditions (engine.expr.analysis).

- ``never-true`` (error): a direction, filter, trigger or exit that can never hold
  (``vix > 30 and vix < 20``): a strategy that silently never trades, or a stop that
  never stops.
- ``shadowed-exit`` (warning): an exit that can never fire because exits checked before
  it hold whenever it does (``pnl_pct <= -2`` before ``pnl_pct <= -3``).

Params are folded in as the constants they are. Conditions that compare two live values
or do arithmetic on them are undecided, and an undecided condition is never reported; nor
is an exit covered only by the union of more than ``MAX_UNION`` earlier exits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.diagnostics import Diagnostic
from engine.expr import Expr, Vocabulary
from engine.expr.analysis import Dnf, OverlapIndex, analyse, bounds, conjoin, holds, negate
from engine.spec._yaml import Path_

__all__ = ["lint_conditions"]

Report = Callable[..., Diagnostic]

#: Most earlier exits whose union is tried as the cover of a later one.
MAX_UNION = 64


def lint_conditions(
    compiled: Mapping[Path_, Expr],
    exits: list[tuple[Path_, str, int]],
    vocab: Vocabulary,
    params: Mapping[str, Any],
    report: Report,
) -> Iterable[Diagnostic]:
    """Diagnostics for never-true conditions and shadowed exits.

    ``exits`` lists (path of 'when', name, priority) in file order.
    """
    known = {f"params.{k}": v for k, v in params.items()}
    forms: dict[Path_, Dnf] = {p: analyse(e, vocab, known) for p, e in compiled.items()}
    never = set()
    for path, dnf in forms.items():
        if holds(dnf, vocab) is False:
            never.add(path)
            yield report(
                path,
                "never-true",
                f"this condition can never be true: {compiled[path].source}",
                hint="two limits on one value that exclude each other?",
            )
    ordered = [e for e in sorted(exits, key=lambda e: e[2]) if e[0] in forms]  # stable
    index = OverlapIndex([bounds(forms[p], vocab) for p, _, _ in ordered])
    for i, (path, name, _) in enumerate(ordered):
        if path in never or i == 0:
            continue
        by = _shadowed_by(forms, ordered, index, i, vocab)
        if by is None:
            continue
        yield report(
            path,
            "shadowed-exit",
            f"exit '{name}' can never fire: whenever it holds, {by} holds and is checked first",
            hint="give it a lower priority number, or remove it",
            severity="warning",
        )


def _shadowed_by(
    forms: Mapping[Path_, Dnf],
    ordered: list[tuple[Path_, str, int]],
    index: OverlapIndex,
    i: int,
    vocab: Vocabulary,
) -> str | None:
    """What shadows exit ``i``: one earlier exit alone, or the earlier exits together.

    Only earlier exits whose bounds overlap this one's can cover any of it; they are found
    through the index, not by comparing every pair (985 exits are half a million pairs).
    One of them alone is tried first; the union is tried for at most ``MAX_UNION`` of them.
    """
    path = ordered[i][0]
    earlier = sorted(j for j in index.overlapping(i) if j < i)
    for j in earlier:
        p, other, _ = ordered[j]
        if holds(conjoin(forms[path], negate(forms[p])), vocab) is False:
            return f"exit '{other}'"
    if not earlier or len(earlier) > MAX_UNION:
        return None
    rest = (negate(forms[ordered[j][0]]) for j in earlier)
    if holds(conjoin(forms[path], *rest), vocab) is False:
        return "the exits before it"
    return None
