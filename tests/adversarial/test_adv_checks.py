"""Thousands of transitions from one state, or of exits, load in about a second.

Every pair used to be compared (2,000 transitions took 29 s to validate, 985 exits 34 s);
the checks now find the pairs that may overlap through a sorted index. These tests build
such files and assert what the checks find, not how long they take: the timing guard is
benchmarks/bench_checks.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from engine.errors import SpecError
from engine.machines import load_machine_file
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[2]


def machine_text(n: int, row: Callable[[int], str]) -> str:
    """One state with ``n`` transitions on one trigger, each ``row(i)`` extra keys."""
    lines = [
        "machine: demo",
        "initial: a",
        "triggers: {go: {}}",
        "states: {a: {}, b: {}}",
        "transitions:",
        *(f"  - {{name: t{i}, trigger: go, source: a, dest: b, {row(i)}}}" for i in range(n)),
        "  - {name: back, trigger: tick, source: b, dest: a}",
    ]
    return "\n".join(lines) + "\n"


def rule_text(n: int, when: Callable[[int], str]) -> str:
    text = (REPO / "rules" / "adx.yaml").read_text()
    head, rest = text.split("exits:", 1)
    tail = rest[rest.index("sizing:") :]
    exits = [f'  - {{name: e{i}, priority: {i + 1}, when: "{when(i)}"}}' for i in range(n)]
    return head + "exits:\n" + "\n".join(exits) + "\n\n" + tail


def load_machine(tmp_path: Path, text: str) -> tuple[Counter[str], list]:
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    try:
        spec = load_machine_file(path)
    except SpecError as e:
        return Counter(d.code for d in e.diagnostics), e.diagnostics
    return Counter(d.code for d in spec.warnings), list(spec.warnings)


def test_checks_when_2000_disjoint_guards_from_one_state_then_no_finding(tmp_path: Path) -> None:
    text = machine_text(2000, lambda i: f'when: "vix > {2 * i} and vix < {2 * i + 1}"')
    codes, _ = load_machine(tmp_path, text)
    assert codes == Counter()


def test_checks_when_2000_overlapping_guards_without_priority_then_each_reported_once(
    tmp_path: Path,
) -> None:
    codes, found = load_machine(tmp_path, machine_text(2000, lambda i: f'when: "vix > {i}"'))
    assert codes == Counter({"ambiguous": 1999})
    lines = sorted(d.line for d in found)
    assert lines == list(range(7, 7 + 1999))  # t1 .. t1999, each once; t0 is the first


def test_checks_when_2000_guards_share_priorities_in_pairs_then_pairs_ambiguous(
    tmp_path: Path,
) -> None:
    text = machine_text(2000, lambda i: f'when: "vix > {i}", priority: {i // 2 + 1}')
    codes, found = load_machine(tmp_path, text)
    assert codes == Counter({"ambiguous": 1000})
    for d in found:  # the second of each pair, naming the first
        i = int(re.match(r"transitions\[(\d+)\]", d.where).group(1))  # type: ignore[union-attr]
        assert i % 2 == 1 and f"transitions[{i - 1}] 't{i - 1}' and this" in d.message


def test_checks_when_first_transition_always_enabled_then_every_later_shadowed(
    tmp_path: Path,
) -> None:
    def row(i: int) -> str:
        return f"priority: {i + 1}" if i == 0 else f'when: "vix > {i}", priority: {i + 1}'

    codes, _ = load_machine(tmp_path, machine_text(1000, row))
    assert codes == Counter({"shadowed": 999})


def test_lints_when_985_nested_exits_then_each_later_one_shadowed_by_the_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(rule_text(985, lambda i: f"position.pnl_pct <= -{i + 1}"))
    spec = load_rule_file(path)
    assert len(spec.warnings) == 984
    assert all("whenever it holds, exit 'e0' holds" in d.message for d in spec.warnings)


def test_lints_when_985_disjoint_exits_then_no_warning(tmp_path: Path) -> None:
    def when(i: int) -> str:
        return f"position.pnl_pct > {i} and position.pnl_pct < {i + 1}"

    path = tmp_path / "rule.yaml"
    path.write_text(rule_text(985, when))
    assert load_rule_file(path).warnings == ()


def test_lints_when_exit_covered_only_by_two_earlier_together_then_shadowed_by_both(
    tmp_path: Path,
) -> None:
    whens = ["position.pnl_pct <= 5", "position.pnl_pct >= 5", "position.pnl_pct > 0"]
    path = tmp_path / "rule.yaml"
    path.write_text(rule_text(3, lambda i: whens[i]))
    (warning,) = load_rule_file(path).warnings
    assert "exit 'e2' can never fire" in warning.message
    assert "the exits before it" in warning.message
