"""Load-time checks on large files: 2,000 transitions from one state, 985 exits.

Every pair used to be compared (29 s and 34 s); the overlap index makes both about a
second. Budget: under 2 s each, start-up excluded.
Run with ``python -m pytest benchmarks/bench_checks.py --benchmark-only``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.machines import load_machine_file
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def disjoint_machine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        f'  - {{name: t{i}, trigger: go, source: a, dest: b, when: "vix > {2 * i} '
        f'and vix < {2 * i + 1}"}}'
        for i in range(2000)
    ]
    text = "\n".join(
        [
            "machine: demo",
            "initial: a",
            "triggers: {go: {}}",
            "states: {a: {}, b: {}}",
            "transitions:",
            *rows,
            "  - {name: back, trigger: tick, source: b, dest: a}",
        ]
    )
    path = tmp_path_factory.mktemp("checks") / "machine.yaml"
    path.write_text(text + "\n")
    return path


@pytest.fixture(scope="module")
def many_exits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (REPO / "rules" / "adx.yaml").read_text()
    head, rest = text.split("exits:", 1)
    exits = [
        f'  - {{name: e{i}, priority: {i + 1}, when: "position.pnl_pct <= -{i + 1}"}}'
        for i in range(985)
    ]
    path = tmp_path_factory.mktemp("checks") / "rule.yaml"
    path.write_text(head + "exits:\n" + "\n".join(exits) + "\n\n" + rest[rest.index("sizing:") :])
    return path


def test_machine_with_2000_transitions_from_one_state(benchmark, disjoint_machine) -> None:  # type: ignore[no-untyped-def]
    spec = benchmark.pedantic(load_machine_file, (disjoint_machine,), rounds=3, iterations=1)
    assert len(spec.transitions) == 2001
    assert benchmark.stats.stats.mean < 2.0


def test_rule_with_985_exits(benchmark, many_exits) -> None:  # type: ignore[no-untyped-def]
    spec = benchmark.pedantic(load_rule_file, (many_exits,), rounds=3, iterations=1)
    assert len(spec.warnings) == 984
    assert benchmark.stats.stats.mean < 2.0
