"""State diagrams for review: Mermaid, Graphviz DOT and SVG, byte-for-byte deterministic.

- Mermaid comes from the ``transitions`` library's own diagram support
  (``GraphMachine(graph_engine="mermaid")``), which needs no system package.
- DOT is written here from the spec (the library's DOT backend needs the ``graphviz``
  Python package); it carries more than the Mermaid text: guards in full, actions, tags.
- SVG is the DOT rendered by Graphviz's ``dot`` program, when it is installed.

Nothing that varies between runs goes into the text: order follows the file, labels
come from the spec. With a journal (JSON lines of ``transition`` records, as
``TransitionTaken.to_record()`` writes them) the states passed through and the current
state are highlighted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import DataError, UserInputError
from engine.machines.build import ordered_transitions
from engine.machines.spec import MachineSpec, TransitionSpec

__all__ = [
    "FORMATS",
    "Highlight",
    "dot",
    "dot_program",
    "highlight_from_journal",
    "mermaid",
    "render",
    "svg",
]

#: format -> file extension
FORMATS = {"mermaid": "mmd", "dot": "dot", "svg": "svg"}
_MERMAID_GUARD = 48  # characters of a guard shown on a Mermaid edge
_WRAP = 44  # characters per line of a DOT label


@dataclass(frozen=True)
class Highlight:
    """What a journal says about one machine: the steps taken and where it is now."""

    current: str | None = None
    steps: tuple[tuple[str, str], ...] = field(default=())

    @property
    def visited(self) -> frozenset[str]:
        return frozenset(s for step in self.steps for s in step)


def _guard_text(t: TransitionSpec) -> str:
    return " ".join(t.when.source.split()) if t.when is not None else ""


def _edge_label(t: TransitionSpec, limit: int | None) -> str:
    guard = _guard_text(t)
    if limit is not None and len(guard) > limit:
        guard = guard[: limit - 1].rstrip() + "…"
    text = f"{t.name}: {t.label()}" if t.name != t.trigger else t.label()
    return f"{text} [{guard}]" if guard else text


def mermaid(spec: MachineSpec, highlight: Highlight | None = None) -> str:
    """Mermaid ``stateDiagram-v2`` text from transitions' GraphMachine."""
    from transitions.extensions import GraphMachine

    class _Model:
        pass

    model = _Model()
    machine = GraphMachine(
        model=model,
        states=[{"name": s.name} for s in spec.states.values()],
        initial=spec.initial,
        transitions=[
            {
                "trigger": t.trigger,
                "source": list(t.sources),
                "dest": t.dest,
                "label": _edge_label(t, _MERMAID_GUARD).replace(";", ","),
            }
            for t in ordered_transitions(spec)
        ],
        auto_transitions=False,
        graph_engine="mermaid",
        title=spec.name,
    )
    graph = machine.model_graphs[id(model)]
    graph.reset_styling()
    if highlight is not None:
        for state in sorted(highlight.visited):
            graph.set_node_style(state, "previous")
        if highlight.current is not None:
            graph.set_node_style(highlight.current, "active")
    lines = graph.get_graph(title=spec.name).source.rstrip("\n").split("\n")
    lines += [f"  {s.name} --> [*]" for s in spec.states.values() if s.final]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > _WRAP:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def _dot_label(lines: list[str]) -> str:
    """One DOT label; several lines are left-aligned (each ends with \\l)."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    if len(escaped) == 1:
        return f'"{escaped[0]}"'
    return '"' + "".join(f"{line}\\l" for line in escaped) + '"'


def _state_lines(spec: MachineSpec, name: str) -> list[str]:
    state = spec.states[name]
    lines = [name]
    if state.tags:
        lines.append("[" + ", ".join(sorted(state.tags)) + "]")
    if state.on_enter:
        lines += _wrap("entry / " + ", ".join(a.describe() for a in state.on_enter))
    if state.on_exit:
        lines += _wrap("exit / " + ", ".join(a.describe() for a in state.on_exit))
    for inv in state.invariants:
        lines += _wrap("invariant: " + " ".join(inv.source.split()))
    return lines


def _transition_lines(t: TransitionSpec) -> list[str]:
    head = f"{t.name}: {t.label()}" if t.name != t.trigger else t.label()
    head += f" (priority {t.priority})" if t.priority else ""
    lines = [head]
    if t.when is not None:
        lines += _wrap("[" + _guard_text(t) + "]")
    if t.then:
        lines += _wrap("/ " + ", ".join(a.describe() for a in t.then))
    return lines


def dot(spec: MachineSpec, highlight: Highlight | None = None) -> str:
    """Graphviz DOT text: states with tags, entry actions and invariants; full guards."""
    visited = highlight.visited if highlight is not None else frozenset()
    steps = set(highlight.steps) if highlight is not None else set()
    current = highlight.current if highlight is not None else None
    out = [
        f"digraph {_quote(spec.name)} {{",
        f"  graph [rankdir=LR, label={_quote(spec.name)}, labelloc=t, fontname=Helvetica];",
        '  node [shape=rectangle, style="rounded,filled", fillcolor=white, color=black, '
        "fontname=Helvetica, fontsize=11];",
        "  edge [fontname=Helvetica, fontsize=9];",
        '  "__start__" [shape=point, width=0.15, label=""];',
    ]
    for name, state in spec.states.items():
        attrs = [f"label={_dot_label(_state_lines(spec, name))}"]
        if state.final:
            attrs.append("peripheries=2")
        if name == current:
            attrs.append("color=red, fillcolor=darksalmon, penwidth=2")
        elif name in visited:
            attrs.append("color=blue, fillcolor=azure")
        out.append(f"  {_quote(name)} [{', '.join(attrs)}];")
    out.append(f'  "__start__" -> {_quote(spec.initial)};')
    for t in spec.transitions:
        for source in t.sources:
            attrs = [f"label={_dot_label(_transition_lines(t))}"]
            if t.after is not None or t.at is not None:
                attrs.append("style=dashed")
            if (source, t.dest) in steps:
                attrs.append("color=blue, penwidth=2")
            out.append(f"  {_quote(source)} -> {_quote(t.dest)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def dot_program() -> str | None:
    """The path of Graphviz's ``dot``, or None when it is not installed."""
    return shutil.which("dot")


def svg(spec: MachineSpec, highlight: Highlight | None = None) -> str:
    """The DOT rendered to SVG by Graphviz; UserInputError when ``dot`` is missing."""
    program = dot_program()
    if program is None:
        raise UserInputError(
            "svg output needs Graphviz's 'dot' program, which is not installed; install the "
            "graphviz system package (Debian/Ubuntu: apt-get install graphviz) or use "
            "--format mermaid or --format dot"
        )
    done = subprocess.run(  # noqa: S603 - a fixed program on text we generated
        [program, "-Tsvg"],
        input=dot(spec, highlight),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise UserInputError(f"Graphviz could not render {spec.name}: {done.stderr.strip()}")
    return done.stdout


def render(spec: MachineSpec, fmt: str, highlight: Highlight | None = None) -> str:
    if fmt not in FORMATS:
        raise UserInputError(f"unknown diagram format '{fmt}'; use one of {', '.join(FORMATS)}")
    return {"mermaid": mermaid, "dot": dot, "svg": svg}[fmt](spec, highlight)


def highlight_from_journal(path: Path, machine: str) -> Highlight:
    """The steps of ``machine`` recorded in a journal of JSON lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"cannot read the journal: {e.strerror}", file=str(path)) from None
    steps: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"not a JSON record: {e.msg}", file=str(path), line=n) from None
        if not isinstance(record, dict) or record.get("kind") != "transition":
            continue
        name = str(record.get("machine", ""))
        if name == machine or name.startswith(machine + ":"):
            steps.append((str(record.get("source")), str(record.get("dest"))))
    return Highlight(steps[-1][1] if steps else None, tuple(steps))
