"""Rule lints found by interval reasoning over the conditions (engine.expr.analysis).

- ``never-true`` (error): a direction, filter, trigger or exit that can never hold
  (``vix > 30 and vix < 20``): a strategy that silently never trades, or a stop that
  never stops.
- ``shadowed-exit`` (warning): an exit that can never fire because exits checked before
  it hold whenever it does (``pnl_pct <= -2`` before ``pnl_pct <= -3``).

Params are folded in as the constants they are. Conditions that compare two live values
or do arithmetic on them are undecided, and an undecided condition is never reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.diagnostics import Diagnostic
from engine.expr import Expr, Vocabulary
from engine.expr.analysis import Dnf, analyse, conjoin, holds, negate
from engine.spec._yaml import Path_

__all__ = ["lint_conditions"]

Report = Callable[..., Diagnostic]


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
    ordered = sorted(exits, key=lambda e: e[2])  # stable: equal priorities keep file order
    for i, (path, name, _) in enumerate(ordered):
        if path not in forms or path in never:
            continue
        earlier = [(p, n) for p, n, _ in ordered[:i] if p in forms]
        if not earlier:
            continue
        if holds(conjoin(forms[path], *(negate(forms[p]) for p, _ in earlier)), vocab) is not False:
            continue
        alone = [
            n for p, n in earlier if holds(conjoin(forms[path], negate(forms[p])), vocab) is False
        ]
        by = f"exit '{alone[0]}'" if alone else "the exits before it"
        yield report(
            path,
            "shadowed-exit",
            f"exit '{name}' can never fire: whenever it holds, {by} holds and is checked first",
            hint="give it a lower priority number, or remove it",
            severity="warning",
        )
