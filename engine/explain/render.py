"""The answers as text a trader reads in ten seconds: 80 columns, colour only on a terminal.

Each line is one fact; long lines wrap at clause boundaries with the continuation
indented. ``✓`` marks a clause that held, ``✗`` one that did not (``?`` a missing value).
"""

from __future__ import annotations

import json
from typing import Any

from engine.expr import format_value

__all__ = ["render", "to_json"]

WIDTH = 80
_GREEN, _RED, _BOLD, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[1m", "\x1b[0m"


def to_json(answer: dict[str, Any]) -> str:
    return json.dumps(answer, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


class _Out:
    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.lines: list[str] = []

    def paint(self, text: str) -> str:
        if not self.colour:
            return text
        return text.replace("✓", f"{_GREEN}✓{_RESET}").replace("✗", f"{_RED}✗{_RESET}")

    def head(self, text: str) -> None:
        self.lines.append(f"{_BOLD}{text}{_RESET}" if self.colour else text)

    def line(self, label: str, parts: list[str], indent: int = 2) -> None:
        """``label`` then the parts joined by ' | ', wrapped at part boundaries."""
        lead = " " * indent + (f"{label:<10}" if label else "")
        pad = " " * len(lead)
        current = lead
        for i, part in enumerate(parts):
            piece = part if i == 0 else " | " + part
            if i and len(current) + len(piece) > WIDTH:
                self.lines.append(self.paint(current))
                current = pad + part
            else:
                current += piece
            while len(current) > WIDTH and " " in current[len(pad) + 1 : WIDTH]:
                cut = current.rindex(" ", len(pad) + 1, WIDTH)
                self.lines.append(self.paint(current[:cut]))
                current = pad + "  " + current[cut + 1 :]
        self.lines.append(self.paint(current))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _mark(holds: Any) -> str:
    return "✓" if holds is True else ("✗" if holds is False else "?")


def _clause(c: dict[str, Any]) -> str:
    text = f"{c['clause']} {_mark(c['holds'])}"
    if c.get("margin") is not None:
        text += f" ({'by' if c['holds'] else 'missed by'} {format_value(abs(c['margin']))})"
    return text


def _clauses(cs: list[dict[str, Any]], name: str = "") -> list[str]:
    parts = [_clause(c) for c in cs]
    if name:
        return [f"{name}: {parts[0]}" if parts else name, *parts[1:]]
    return parts


def render(answer: dict[str, Any], *, colour: bool = False) -> str:
    out = _Out(colour)
    form = answer["form"]
    {
        "trades": _trades,
        "trade": _trade,
        "at": _at,
        "rule": _rule,
        "near_misses": _near,
        "diff": _diff,
    }[form](answer, out)
    return out.text()


def _trades(a: dict[str, Any], out: _Out) -> None:
    if not a["trades"]:
        out.head(f"no trades in {a['journal']}")
        return
    out.head(f"{len(a['trades'])} trade(s) in {a['journal']}")
    for t in a["trades"]:
        exit_ = f"{t['exit'][11:]:<8} {t['exit_reason']}" if t["exit"] else "open"
        out.lines.append(
            f"{t['trade_id']}  {t['entry']} -> {exit_:<19} {t['symbol']}  {t['net_pnl']:>9}"
        )


def _direction(d: dict[str, Any], out: _Out) -> None:
    for side, cond in d["conditions"].items():
        name = f"{side} {_mark(cond['holds'])}"
        out.line("direction", _clauses(cond["clauses"], name))


def _trade(a: dict[str, Any], out: _Out) -> None:
    e = a["entry"]
    s = e["strike"]
    out.head(f"{a['trade_id']} {a['rule']} {a['underlying']} {e['side']} {s.get('symbol', '')}")
    out.line("entry", [f"{e['at']} on {e['trigger']['name']}"])
    _direction(e["direction"], out)
    for f in e["filters"]:
        out.line("filter", _clauses(f["clauses"], f["name"]), indent=4)
    out.line("trigger", _clauses(e["trigger"]["clauses"], e["trigger"]["name"]), indent=4)
    z = e["sizing"]
    size = [f"{z.get('mode')}: {z.get('lots')} lot(s) x {z.get('lot_size')}"]
    size += [
        f"{k}={z[k]}" for k in ("base_lots", "capped_at", "size_factor", "budget", "pct") if k in z
    ]
    out.line("size", size, indent=4)
    out.line(
        "strike",
        [
            f"{s.get('select')} {s.get('strike')} of ltp {s.get('ltp')} (step {s.get('step')})",
            f"{s.get('expiry_kind')} expiry {s.get('expiry')}",
            f"premium {s.get('premium')}",
        ],
        indent=4,
    )
    checks = [f"{c['code']} {'✓' if c['passed'] else '✗'}" for c in e["checks"]]
    out.line("checks", checks or ["none recorded"], indent=4)
    out.line("order", [_order(o) for o in e["orders"]] or ["none"], indent=4)
    x = a.get("exit")
    if x is None:
        out.line("exit", ["still open when the journal ended"])
    else:
        pr = f" priority {x['priority']}" if x.get("priority") is not None else ""
        on = f" on a {x['on']}" if x.get("on") else ""
        out.line("exit", [f"{x['at']} {x['exit']}{pr}{on}"])
        if "clauses" in x:
            out.line("fired", _clauses(x["clauses"], x["exit"]), indent=4)
        elif x.get("asked_by") or x.get("why"):
            out.line("asked by", [str(x.get("asked_by") or x.get("why"))], indent=4)
        for c in x["checked"]:
            name = f"{c['name']} (p{c['priority']})"
            out.line("before", _clauses(c["clauses"], name), indent=4)
        out.line("order", [_order(o) for o in x["orders"]] or ["none"], indent=4)
    p = a.get("pnl")
    if p:
        out.line(
            "P&L",
            [
                f"{p['entry_price']} -> {p['exit_price']} x {p['qty']}",
                f"gross {p['gross_pnl']}",
                f"charges {p['charges']}",
                f"net {p['net_pnl']}",
            ],
        )


def _order(o: dict[str, Any]) -> str:
    event = o["event"].replace("order_", "")
    bits = [f"{event} {o['at'][11:]}"]
    if "limit_price" in o:
        bits.append(f"limit {o['limit_price']}")
    if "price" in o:
        bits.append(f"{o.get('qty')} @ {o['price']}")
    if "reason" in o:
        bits.append(str(o["reason"]))
    return " ".join(bits)


def _at(a: dict[str, Any], out: _Out) -> None:
    rules = {ans["rule"] for ans in a["answers"]}
    for ans in a["answers"]:
        who = ans["underlying"] + (f" {ans['rule']}" if len(rules) > 1 else "")
        first = f"{a['at']} {who} {ans['summary']}"
        if ans["answer"] in ("no direction", "no session", "no direction decided"):
            out.lines.append(out.paint(first))  # one line says it all
            continue
        out.head(f"{a['at']} {who} ({ans['rule']}): {ans['answer']}")
        out.line("", [ans["summary"]])
        if "direction" in ans:
            _direction(ans["direction"], out)
        if "bar" in ans:
            out.line("bar", [f"closed {ans['bar']}"])
        for f in ans.get("filters", []):
            out.line("filter", _clauses(f["clauses"], f["name"]), indent=4)
        for t in ans.get("triggers", []):
            if t["holds"]:
                near = " held"
            elif t["closeness_pct"] is None:
                near = ""
            else:
                near = f" (within {t['closeness_pct']:g}%)"
            out.line("trigger", _clauses(t["clauses"], t["name"] + near), indent=4)
        ex = ans.get("exits")
        if ex:
            out.line("exits", [f"at the bar closed {ex['bar']}"])
            for x in ex["exits"]:
                out.line(f"p{x['priority']}", _clauses(x["clauses"], x["name"]), indent=4)


def _rule(a: dict[str, Any], out: _Out) -> None:
    span = f" {a['from'] or '...'} .. {a['to'] or '...'}" if a["from"] or a["to"] else ""
    out.head(f"{a['kind']} {a['rule']}{span}")
    counts = [f"evaluated {a['evaluated']}", f"held {a['held']}"]
    if "fired" in a:
        counts.append(f"fired {a['fired']}")
    if "failed" in a:
        counts.append(f"failed {a['failed']}")
    out.line("", counts)
    for title, key in (
        ("refused by", "refused"),
        ("held, blocked", "held_but_blocked_by_filter"),
        ("pre-empted", "pre_empted_lower"),
        ("pre-empted by", "pre_empted_by_higher"),
        ("failing", "failing_clauses"),
    ):
        items = a.get(key)
        if items:
            out.lines.append(f"  {title}:")
            for name, n in items.items():
                out.lines.append(f"    {n:>6}x  {name}"[:WIDTH])


def _near(a: dict[str, Any], out: _Out) -> None:
    out.head(
        f"{a['count']} near miss(es): every failed clause within {a['margin_pct']:g}% "
        "of its threshold"
    )
    for n in a["top"]:
        out.line(
            "",
            [f"{n['bar']} {n['underlying']} {n['trigger']} within {n['closeness_pct']:g}%"],
            indent=0,
        )
        out.line("", [f"{f['in']}: {_clause(f)}" for f in n["failed"]], indent=4)
        if n["filters_not_evaluated"]:
            out.line("", ["not evaluated: " + ", ".join(n["filters_not_evaluated"])], indent=4)


def _diff(a: dict[str, Any], out: _Out) -> None:
    if a["same"]:
        out.head(f"same decisions ({a['decisions_in_common']}) in both journals")
        return
    d = a["first_divergence"]
    out.head(f"first divergence after {a['decisions_in_common']} decision(s) in common")
    for side, path in (("a", a["a"]), ("b", a["b"])):
        s = d[side]
        out.lines.append(f"  {side.upper()}: {path}")
        if "at" not in s:
            out.lines.append(f"     {s['decision']}")
            continue
        fields = " ".join(f"{k}={v}" for k, v in s["decision"].items())
        out.line("", [f"{s['at']} {s['kind']} {fields}"], indent=5)
        values = [f"{k}={_short(v)}" for k, v in s["values"].items()]
        if values:
            out.line("", [" ".join(values)], indent=7)
    at_a, at_b = d["a"].get("at"), d["b"].get("at")
    if at_a and at_b and at_a != at_b:
        first, other = ("A", "B") if at_a < at_b else ("B", "A")
        out.line("", [f"{other} made no such decision at {min(at_a, at_b)}"], indent=2)
    for name, (va, vb) in d["values_that_differ"].items():
        out.line("", [f"{name}: A={_short(va)} B={_short(vb)}"], indent=2)


def _short(value: Any) -> str:
    if isinstance(value, dict) and "missing" in value:
        return "missing"
    return format_value(value)
