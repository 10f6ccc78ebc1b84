"""Two journals of the same data: the same decisions, or the first place they part.

Each journal is reduced to its decisions in order: the day's direction, each bar's
entry evaluation (which filter stopped it, which trigger fired), each entry and exit
decision with its outcome, order intents and fills, trades closed and machine
transitions. Values that legitimately differ between two runs (order ids from a broker,
idempotency keys, the header's paths) are not decisions. The first decision that differs
is shown with the values each side read at that moment.
"""

from __future__ import annotations

from typing import Any

from engine.explain.answers import when
from engine.explain.journal import RunJournal

__all__ = ["diff"]

# kind -> the fields that make the decision (everything else is the values behind it)
_DECISION: dict[str, tuple[str, ...]] = {
    "direction": ("rule", "underlying", "sides"),
    "entry_eval": ("t", "fail", "fired"),
    "entry_decision": (
        "rule",
        "underlying",
        "trigger",
        "side",
        "outcome",
        "refused_by",
        "trade_id",
    ),
    "exit_decision": ("rule", "underlying", "exit", "reason", "outcome", "trade_id"),
    "exit_eval": ("t", "fired"),
    "intent": ("side", "purpose", "qty", "limit_price"),
    "order_filled": ("qty", "price"),
    "order_cancelled": ("reason",),
    "order_rejected": ("reason",),
    "trade_closed": ("trade_id", "exit_reason", "gross_pnl", "net_pnl"),
    "transition": ("machine", "source", "dest"),
    "entries": ("open", "blocked_by"),
}


def _decisions(run: RunJournal) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    out = []
    for r in run.records:
        fields = _DECISION.get(r["kind"])
        if fields is None:
            continue
        key = (r["ts"], r["kind"], *(repr(r.get(f)) for f in fields))
        out.append((key, r))
    return out


def _values(run: RunJournal, r: dict[str, Any]) -> dict[str, Any]:
    """The values a record read, by name where the layout names them."""
    layout = run.layouts.get(r.get("t", -1))
    if r["kind"] == "entry_eval" and layout is not None:
        fail = r.get("fail", -1)
        used = layout["filters"] if fail < 0 else layout["filters"][: fail + 1]
        names = [n for _, reads in used for n in reads] + layout["trigger_names"]
        return dict(zip(names, r["v"], strict=False))
    if r["kind"] == "exit_eval" and layout is not None:
        return dict(zip(layout["exit_names"], r["v"], strict=False))
    if r["kind"] == "direction":
        return {
            f"{side}.{k}": v for side, c in r["conditions"].items() for k, v in c["reads"].items()
        }
    if r["kind"] in ("entry_decision", "exit_decision"):
        reads = dict(r.get("trigger_reads") or r.get("reads") or {})
        return reads
    return {}


def _side(run: RunJournal, item: tuple[tuple[Any, ...], dict[str, Any]] | None) -> dict[str, Any]:
    if item is None:
        return {"decision": "(the journal ends)"}
    _, r = item
    fields = {f: r.get(f) for f in _DECISION[r["kind"]] if r.get(f) is not None}
    return {"at": when(r["ts"]), "kind": r["kind"], "decision": fields, "values": _values(run, r)}


def diff(a: RunJournal, b: RunJournal) -> dict[str, Any]:
    da, db = _decisions(a), _decisions(b)
    for i in range(max(len(da), len(db))):
        x = da[i] if i < len(da) else None
        y = db[i] if i < len(db) else None
        if x is not None and y is not None and x[0] == y[0]:
            continue
        return {
            "form": "diff",
            "a": str(a.path),
            "b": str(b.path),
            "same": False,
            "decisions_in_common": i,
            "first_divergence": {
                "a": _side(a, x),
                "b": _side(b, y),
                "values_that_differ": _value_diff(a, x, b, y),
            },
        }
    return {
        "form": "diff",
        "a": str(a.path),
        "b": str(b.path),
        "same": True,
        "decisions_in_common": len(da),
    }


def _value_diff(a: RunJournal, x: Any, b: RunJournal, y: Any) -> dict[str, Any]:
    if x is None or y is None or x[1]["kind"] != y[1]["kind"] or x[1]["ts"] != y[1]["ts"]:
        return {}
    va, vb = _values(a, x[1]), _values(b, y[1])
    return {k: [va.get(k), vb.get(k)] for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)}
