"""One function per question explain answers; each returns a JSON-ready dict.

The dicts are what ``--json`` prints and what ``render`` turns into text, so both forms
always say the same thing. Times in them are IST (``YYYY-MM-DD HH:MM[:SS]``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from datetime import date, datetime
from typing import Any

from engine.explain.clauses import INF, RunRules, clauses
from engine.explain.journal import ExplainError, RunJournal
from engine.expr import format_value
from engine.model.market import ns_to_datetime
from engine.timeutil import IST

__all__ = ["at", "coverage", "near_misses", "trade", "trades", "when"]

#: A clause within this fraction of its threshold counts as near (``--near-misses``).
NEAR_MARGIN = 0.05


def when(ts: int) -> str:
    d = ns_to_datetime(ts, IST)
    return d.strftime("%Y-%m-%d %H:%M:%S" if d.second else "%Y-%m-%d %H:%M")


def _date(ts: int) -> date:
    return ns_to_datetime(ts, IST).date()


def _checks(items: list[Any]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in items]


# -- the trades ---------------------------------------------------------------------------------
def trades(run: RunJournal) -> dict[str, Any]:
    closed = {r["trade_id"]: r for r in run.kind("trade_closed")}
    rows = []
    for r in run.kind("entry_decision"):
        if r.get("outcome") != "sent":
            continue
        c = closed.get(r["trade_id"], {})
        rows.append(
            {
                "trade_id": r["trade_id"],
                "underlying": r["underlying"],
                "side": r["side"],
                "symbol": r.get("strike", {}).get("symbol"),
                "entry": when(r["ts"]),
                "trigger": r["trigger"],
                "exit": when(c["ts"]) if c else None,
                "exit_reason": c.get("exit_reason"),
                "net_pnl": c.get("net_pnl"),
            }
        )
    return {"form": "trades", "journal": str(run.path), "trades": rows}


def _entry_of(run: RunJournal, trade_id: str) -> dict[str, Any]:
    for r in run.kind("entry_decision"):
        if r.get("trade_id") == trade_id and r.get("outcome") == "sent":
            return r
    known = ", ".join(run.trade_ids[:8]) + (" ..." if len(run.trade_ids) > 8 else "")
    raise ExplainError(
        f"no trade '{trade_id}' in {run.path}"
        + (f"; its trades are {known} (engine explain --trades)" if known else "; it made none")
    )


def _direction_at(run: RunJournal, rule: str, underlying: str, ts: int) -> dict[str, Any] | None:
    day = _date(ts)
    found = None
    for r in run.kind("direction"):
        if r["ts"] > ts:
            break
        if r["rule"] == rule and r["underlying"] == underlying and _date(r["ts"]) == day:
            found = r
    return found


def _direction(rules: RunRules, record: dict[str, Any] | None) -> dict[str, Any]:
    if record is None:
        return {"sides": [], "decided": None, "conditions": {}}
    conditions = {}
    for side, cond in record["conditions"].items():
        spec = rules.spec.direction.get(side)
        if spec is None:
            continue
        root = rules.trace(spec.when, cond["reads"])
        conditions[side] = {"holds": root.value is True, "clauses": _checks(clauses(root))}
    return {"sides": record["sides"], "decided": when(record["ts"]), "conditions": conditions}


def _orders(run: RunJournal, key: str | None) -> list[dict[str, Any]]:
    if key is None:
        return []
    out = []
    for r in run.by_key.get(key, []):
        event: dict[str, Any] = {"at": when(r["ts"]), "event": r["kind"]}
        for field in ("limit_price", "qty", "price", "order_id", "reason", "remaining"):
            if field in r:
                event[field] = r[field]
        out.append(event)
    return out


def trade(run: RunJournal, rules: RunRules, trade_id: str) -> dict[str, Any]:
    """Why a trade entered, how big, which strike, checks, fills, why it exited, P&L."""
    entry = _entry_of(run, trade_id)
    rule, underlying = entry["rule"], entry["underlying"]
    filters = []
    for f in entry["filters"]:
        spec = rules.filters.get(f["name"])
        if spec is not None:
            filters.append(
                {"name": f["name"], "clauses": _checks(clauses(rules.trace(spec.when, f["reads"])))}
            )
        else:
            filters.append({"name": f["name"], "clauses": []})
    trig = rules.triggers[entry["trigger"]]
    out: dict[str, Any] = {
        "form": "trade",
        "trade_id": trade_id,
        "rule": rule,
        "underlying": underlying,
        "entry": {
            "at": when(entry["ts"]),
            "side": entry["side"],
            "direction": _direction(rules, _direction_at(run, rule, underlying, entry["ts"])),
            "filters": filters,
            "trigger": {
                "name": entry["trigger"],
                "clauses": _checks(clauses(rules.trace(trig.when, entry["trigger_reads"]))),
            },
            "sizing": entry.get("sizing", {}),
            "strike": entry.get("strike", {}),
            "checks": entry.get("checks", []),
            "orders": _orders(run, entry.get("key")),
        },
    }
    out["exit"] = _exit_of(run, rules, trade_id)
    closed = next((r for r in run.kind("trade_closed") if r["trade_id"] == trade_id), None)
    if closed is not None:
        out["pnl"] = {
            k: closed[k]
            for k in ("entry_price", "exit_price", "qty", "gross_pnl", "charges", "net_pnl")
        }
    return out


def _exit_of(run: RunJournal, rules: RunRules, trade_id: str) -> dict[str, Any] | None:
    for r in run.kind("exit_decision"):
        if r.get("trade_id") != trade_id or r.get("outcome") != "sent":
            continue
        name = r.get("exit") or r.get("reason")
        exit_rule = rules.exits.get(name)
        out: dict[str, Any] = {
            "at": when(r["ts"]),
            "reason": r.get("reason"),
            "exit": name,
            "priority": r.get("priority"),
            "on": r.get("on"),
        }
        if exit_rule is not None and "reads" in r:
            out["clauses"] = _checks(clauses(rules.trace(exit_rule.when, r["reads"])))
        else:
            out["asked_by"] = _asked_by(run, r)
        checked = []
        for c in r.get("checked", []):
            spec = rules.exits.get(c["name"])
            cl = _checks(clauses(rules.trace(spec.when, c["reads"]))) if spec else []
            checked.append({"name": c["name"], "priority": c["priority"], "clauses": cl})
        out["checked"] = checked
        out["orders"] = _orders(run, r.get("key"))
        return out
    for r in run.kind("forced_close"):
        if r["trade_id"] == trade_id:
            return {
                "at": when(r["ts"]),
                "reason": "end_of_data",
                "exit": "end_of_data",
                "why": r.get("why"),
                "checked": [],
                "orders": [],
            }
    return None


def _asked_by(run: RunJournal, exit_record: dict[str, Any]) -> str:
    """An exit no exit rule fired (exit_all of another rule, a machine's action)."""
    last = None
    for r in run.kind("action"):
        if r["ts"] > exit_record["ts"]:
            break
        last = r
    if last is not None and last["ts"] == exit_record["ts"]:
        return f"machine {last['machine']} asked {last['action']} ({last.get('cause')})"
    return str(exit_record.get("reason"))


# -- a moment -----------------------------------------------------------------------------------
def _span(run: RunJournal) -> tuple[int, int]:
    days = run.kind("day")
    end = run.kind("end")
    if not days:
        raise ExplainError(f"{run.path}: the journal has no day records")
    return days[0]["ts"], (end[-1]["ts"] if end else run.records[-1]["ts"])


def _traders(run: RunJournal, underlying: str | None) -> list[tuple[int, str, str]]:
    if run.layouts:
        found = [(t, r["rule"], r["underlying"]) for t, r in sorted(run.layouts.items())]
    else:
        seen = dict.fromkeys((r["rule"], r["underlying"]) for r in run.kind("direction"))
        found = [(-1, rule, u) for rule, u in seen]
    if underlying is not None:
        chosen = [x for x in found if x[2].upper() == underlying.upper()]
        if not chosen:
            names = ", ".join(sorted({x[2] for x in found})) or "none"
            raise ExplainError(f"--underlying {underlying}: the run traded {names}")
        return chosen
    return found


def _latest(records: list[dict[str, Any]], ts: int, **match: Any) -> dict[str, Any] | None:
    keys = [r["ts"] for r in records]
    i = bisect_right(keys, ts)
    while i > 0:
        i -= 1
        r = records[i]
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def at(
    run: RunJournal, rules: RunRules, moment: datetime, underlying: str | None
) -> dict[str, Any]:
    """Why nothing (or something) traded at a moment, per rule and underlying."""
    ts = int(moment.timestamp()) * 1_000_000_000
    first, last = _span(run)
    if not first <= ts <= last:
        raise ExplainError(
            f"--at {moment.strftime('%Y-%m-%dT%H:%M')} is outside the run's data "
            f"({when(first)} .. {when(last)})"
        )
    day = _date(ts)
    day_record = next((r for r in run.kind("day") if r["date"] == day.isoformat()), None)
    answers = []
    for slot, rule, u in _traders(run, underlying):
        answers.append(_at_one(run, rules, ts, day, day_record, slot, rule, u))
    return {"form": "at", "at": when(ts), "answers": answers}


def _at_one(
    run: RunJournal,
    rules: RunRules,
    ts: int,
    day: date,
    day_record: Any,
    slot: int,
    rule: str,
    u: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": rule, "underlying": u}
    if day_record is None or not day_record.get("parts"):
        out.update(
            answer="no session",
            summary=f"no session ({day.strftime('%A')}): the market was closed",
        )
        return out
    direction = _direction_at(run, rule, u, max(ts, day_record["parts"][0][0]))
    if direction is None:
        out.update(answer="no direction decided", summary="no direction was decided that day")
        return out
    d = _direction(rules, direction)
    out["direction"] = d
    if not d["sides"]:
        out.update(answer="no direction", summary="no direction today: " + _why_none(d))
        return out
    held = _trade_open_at(run, rule, u, ts)
    if held is not None:
        out.update(answer="position open", summary=f"a position was open: {held}")
        ex = _latest(run.kind("exit_eval"), ts, t=slot)
        if ex is not None and _date(ex["ts"]) == day:
            out["exits"] = _exit_eval(run, rules, ex)
        return out
    gate = _latest(run.kind("entries"), ts)
    if gate is not None and not gate["open"]:
        out.update(
            answer="entries closed",
            summary=f"entries were closed by the machines ({gate.get('blocked_by')}) "
            f"since {when(gate['ts'])}",
        )
        return out
    if not run.bar_records:
        out.update(
            answer="not recorded",
            summary="the run did not record bar evaluations (--no-bar-records)",
        )
        return out
    ev = _latest(run.kind("entry_eval"), ts, t=slot)
    if ev is None or _date(ev["ts"]) != day:
        out.update(answer="no bar yet", summary="no bar had closed yet that session")
        return out
    out.update(_entry_eval(run, rules, ev, d["sides"]))
    return out


def _why_none(direction: dict[str, Any]) -> str:
    """What kept every side out: the clauses that failed for all of them, when there are
    such; else each side's first failing clause."""
    failing = {
        side: [c["clause"] + " ✗" for c in cond["clauses"] if c["holds"] is not True] or ["?"]
        for side, cond in direction["conditions"].items()
    }
    common = [c for c in next(iter(failing.values()), []) if all(c in f for f in failing.values())]
    if common:
        return f"{'; '.join(common)} ({', '.join(failing)})"
    return " | ".join(f"{f[0]} ({side})" for side, f in failing.items())


def _missed(c: dict[str, Any]) -> str:
    if c.get("margin") is None:
        return " ✗"
    return f" ✗ (missed by {format_value(abs(c['margin']))})"


def _trade_open_at(run: RunJournal, rule: str, u: str, ts: int) -> str | None:
    closed = {r["trade_id"]: r["ts"] for r in run.kind("trade_closed")}
    for r in run.kind("entry_decision"):
        if r["ts"] > ts:
            break
        if r.get("outcome") == "sent" and r["rule"] == rule and r["underlying"] == u:
            end = closed.get(r["trade_id"])
            if r["ts"] < ts and (end is None or ts < end):
                return f"{r['trade_id']} ({r['trigger']} at {when(r['ts'])})"
    return None


def _values(run: RunJournal, names: list[str], values: list[Any]) -> dict[str, Any]:
    return dict(zip(names, values, strict=False))


def _entry_eval(
    run: RunJournal, rules: RunRules, ev: dict[str, Any], sides: list[str]
) -> dict[str, Any]:
    layout = run.layouts[ev["t"]]
    fail = ev.get("fail", -1)
    filters_used = layout["filters"] if fail < 0 else layout["filters"][: fail + 1]
    names = [n for _, reads in filters_used for n in reads] + layout["trigger_names"]
    reads = _values(run, names, ev["v"])
    filters = []
    for name, _ in filters_used:
        root = rules.trace(rules.filters[name].when, reads)
        filters.append(
            {"name": name, "holds": root.value is True, "clauses": _checks(clauses(root))}
        )
    triggers = []
    for name, side, _ in layout["triggers"]:
        if side != "direction" and side not in sides:
            continue
        root = rules.trace(rules.triggers[name].when, reads)
        cl = clauses(root)
        near = max((c.closeness for c in cl), default=INF)
        triggers.append(
            {
                "name": name,
                "side": side,
                "holds": root.value is True,
                "closeness_pct": None if near == INF else round(near * 100, 4),
                "clauses": _checks(cl),
            }
        )
    triggers.sort(key=lambda t: INF if t["closeness_pct"] is None else t["closeness_pct"])
    out: dict[str, Any] = {"bar": when(ev["ts"]), "filters": filters, "triggers": triggers}
    if "fired" in ev:
        sent = next(
            (
                r
                for r in run.kind("entry_decision")
                if r["ts"] == ev["ts"] and r["trigger"] == ev["fired"]
            ),
            None,
        )
        if sent is not None and sent.get("outcome") == "sent":
            out.update(answer="entered", summary=f"{ev['fired']} fired: trade {sent['trade_id']}")
        else:
            why = sent.get("refused_by") if sent else "unknown"
            out.update(answer="refused", summary=f"{ev['fired']} fired but was refused: {why}")
        return out
    if fail >= 0:
        failed = filters[-1]
        bad = "; ".join(
            c["clause"] + _missed(c) for c in failed["clauses"] if c["holds"] is not True
        )
        out.update(answer="no trade", summary=f"filter {failed['name']} failed: {bad}")
    else:
        nearest = triggers[0]["name"] if triggers else "none"
        out.update(answer="no trade", summary=f"filters held; no trigger held (nearest: {nearest})")
    return out


def _exit_eval(run: RunJournal, rules: RunRules, ev: dict[str, Any]) -> dict[str, Any]:
    layout = run.layouts[ev["t"]]
    reads = _values(run, layout["exit_names"], ev["v"])
    exits = []
    for name, priority, _ in layout["exits"]:
        root = rules.trace(rules.exits[name].when, reads)
        cl = clauses(root)
        near = max((c.closeness for c in cl), default=INF)
        exits.append(
            {
                "name": name,
                "priority": priority,
                "holds": root.value is True,
                "closeness_pct": None if near == INF else round(near * 100, 4),
                "clauses": _checks(cl),
            }
        )
    return {"bar": when(ev["ts"]), "fired": ev.get("fired"), "exits": exits}


# -- a rule over a run ----------------------------------------------------------------------------
def _in_range(ts: int, start: date | None, end: date | None) -> bool:
    d = _date(ts)
    return (start is None or d >= start) and (end is None or d <= end)


def _sides_by_day(run: RunJournal) -> dict[tuple[int, date], list[str]]:
    by_rule = {(r["rule"], r["underlying"]): t for t, r in run.layouts.items()}
    out = {}
    for r in run.kind("direction"):
        t = by_rule.get((r["rule"], r["underlying"]))
        if t is not None:
            out[(t, _date(r["ts"]))] = r["sides"]
    return out


def _entry_reads(run: RunJournal, ev: dict[str, Any]) -> tuple[dict[str, Any], int]:
    layout = run.layouts[ev["t"]]
    fail = ev.get("fail", -1)
    used = layout["filters"] if fail < 0 else layout["filters"][: fail + 1]
    names = [n for _, reads in used for n in reads] + layout["trigger_names"]
    return _values(run, names, ev["v"]), fail


def coverage(
    run: RunJournal, rules: RunRules, name: str, start: date | None, end: date | None
) -> dict[str, Any]:
    """How often a filter, trigger or exit was evaluated, held, fired, and what stopped it."""
    if not run.bar_records:
        raise ExplainError(
            f"{run.path}: the run did not record bar evaluations (it ran with --no-bar-records)"
        )
    out: dict[str, Any] = {
        "form": "rule",
        "rule": name,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    if name in rules.filters:
        out.update(_filter_coverage(run, rules, name, start, end))
    elif name in rules.triggers:
        out.update(_trigger_coverage(run, rules, name, start, end))
    elif name in rules.exits:
        out.update(_exit_coverage(run, rules, name, start, end))
    else:
        known = [*rules.filters, *rules.triggers, *rules.exits]
        raise ExplainError(
            f"--rule {name}: no filter, trigger or exit of that name; "
            f"the rule file has {', '.join(known)}"
        )
    return out


def _filter_coverage(
    run: RunJournal, rules: RunRules, name: str, start: date | None, end: date | None
) -> dict[str, Any]:
    evaluated = held = 0
    failing: Counter[str] = Counter()
    spec = rules.filters[name]
    for ev in run.kind("entry_eval"):
        if not _in_range(ev["ts"], start, end):
            continue
        layout = run.layouts[ev["t"]]
        index = next(i for i, (n, _) in enumerate(layout["filters"]) if n == name)
        fail = ev.get("fail", -1)
        if 0 <= fail < index:
            continue
        evaluated += 1
        if fail != index:
            held += 1
            continue
        reads, _ = _entry_reads(run, ev)
        for c in clauses(rules.trace(spec.when, reads)):
            if c.holds is not True:
                failing[_clause_key(c.text)] += 1
    return {
        "kind": "filter",
        "evaluated": evaluated,
        "held": held,
        "failed": evaluated - held,
        "failing_clauses": dict(failing.most_common()),
    }


def _clause_key(text: str) -> str:
    """A clause without its values (so counts add up across bars)."""
    import re

    text = re.sub(r" \[[^\]]*\]", "", text.split(" (missing")[0])
    return re.sub(r"(?<=[\w\]])=(?:'[^']*'|[^ )]+)", "", text)


def _trigger_coverage(
    run: RunJournal, rules: RunRules, name: str, start: date | None, end: date | None
) -> dict[str, Any]:
    spec = rules.triggers[name]
    sides = _sides_by_day(run)
    evaluated = held = 0
    blocked: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    for ev in run.kind("entry_eval"):
        if not _in_range(ev["ts"], start, end):
            continue
        allowed = sides.get((ev["t"], _date(ev["ts"])), [])
        if spec.side != "direction" and spec.side not in allowed:
            continue
        reads, fail = _entry_reads(run, ev)
        root = rules.trace(spec.when, reads)
        if fail >= 0:
            if root.value is True:
                blocked[run.layouts[ev["t"]]["filters"][fail][0]] += 1
            continue
        evaluated += 1
        if root.value is True:
            held += 1
        else:
            for c in clauses(root):
                if c.holds is not True:
                    failing[_clause_key(c.text)] += 1
    decisions = [
        r
        for r in run.kind("entry_decision")
        if r["trigger"] == name and _in_range(r["ts"], start, end)
    ]
    refused = Counter(str(r.get("refused_by")) for r in decisions if r.get("outcome") != "sent")
    return {
        "kind": "trigger",
        "evaluated": evaluated,
        "held": held,
        "fired": sum(1 for r in decisions if r.get("outcome") == "sent"),
        "refused": dict(refused.most_common()),
        "held_but_blocked_by_filter": dict(blocked.most_common()),
        "failing_clauses": dict(failing.most_common()),
    }


def _exit_coverage(
    run: RunJournal, rules: RunRules, name: str, start: date | None, end: date | None
) -> dict[str, Any]:
    spec = rules.exits[name]
    evaluated = held = 0
    preempted: Counter[str] = Counter()  # this exit fired while a lower one also held
    preempted_by: Counter[str] = Counter()  # this exit held while a higher one fired
    failing: Counter[str] = Counter()
    for ev in run.kind("exit_eval"):
        if not _in_range(ev["ts"], start, end):
            continue
        layout = run.layouts[ev["t"]]
        reads = _values(run, layout["exit_names"], ev["v"])
        evaluated += 1
        root = rules.trace(spec.when, reads)
        order = [n for n, _, _ in layout["exits"]]
        fired = ev.get("fired")
        if root.value is True:
            held += 1
            if fired is not None and fired != name:
                preempted_by[fired] += 1
        else:
            for c in clauses(root):
                if c.holds is not True:
                    failing[_clause_key(c.text)] += 1
        if fired == name:
            for other in order[order.index(name) + 1 :]:
                if rules.trace(rules.exits[other].when, reads).value is True:
                    preempted[other] += 1
    fired_count = sum(
        1
        for r in run.kind("exit_decision")
        if (r.get("exit") or r.get("reason")) == name
        and r.get("outcome") == "sent"
        and _in_range(r["ts"], start, end)
    )
    return {
        "kind": "exit",
        "priority": spec.priority,
        "evaluated": evaluated,
        "held": held,
        "fired": fired_count,
        "pre_empted_lower": dict(preempted.most_common()),
        "pre_empted_by_higher": dict(preempted_by.most_common()),
        "failing_clauses": dict(failing.most_common()),
    }


# -- near misses ---------------------------------------------------------------------------
def near_misses(
    run: RunJournal, rules: RunRules, top: int, margin: float = NEAR_MARGIN
) -> dict[str, Any]:
    """Bars where an entry came closest: every clause that failed within ``margin``."""
    if not run.bar_records:
        raise ExplainError(
            f"{run.path}: the run did not record bar evaluations (it ran with --no-bar-records)"
        )
    sides = _sides_by_day(run)
    found = []
    for ev in run.kind("entry_eval"):
        if "fired" in ev:
            continue
        layout = run.layouts[ev["t"]]
        allowed = sides.get((ev["t"], _date(ev["ts"])), [])
        reads, fail = _entry_reads(run, ev)
        shortfalls = []
        if fail >= 0:
            fname = layout["filters"][fail][0]
            froot = rules.trace(rules.filters[fname].when, reads)
            fcl = clauses(froot)
            shortfalls = [(f"filter {fname}", c) for c in fcl if c.holds is not True]
        for tname, side, _ in layout["triggers"]:
            if side != "direction" and side not in allowed:
                continue
            tcl = clauses(rules.trace(rules.triggers[tname].when, reads))
            failed = shortfalls + [(tname, c) for c in tcl if c.holds is not True]
            if not failed:
                continue
            worst = max(c.closeness for _, c in failed)
            if worst > margin:
                continue
            found.append(
                (
                    worst,
                    ev["ts"],
                    {
                        "bar": when(ev["ts"]),
                        "rule": layout["rule"],
                        "underlying": layout["underlying"],
                        "trigger": tname,
                        "closeness_pct": round(worst * 100, 4),
                        "failed": [{"in": where, **c.to_dict()} for where, c in failed],
                        "filters_not_evaluated": [n for n, _ in layout["filters"][fail + 1 :]]
                        if fail >= 0
                        else [],
                    },
                )
            )
    found.sort(key=lambda x: (x[0], x[1]))
    return {
        "form": "near_misses",
        "margin_pct": margin * 100,
        "count": len(found),
        "top": [x[2] for x in found[:top]],
    }
