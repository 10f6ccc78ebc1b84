from __future__ import annotations

import pytest

from engine.errors import SpecError
from engine.spec._yaml import load_yaml
from engine.spec.rules import load_rule_document

BASE = """name: lint
underlyings: [NIFTY]
params: {stop: -2}
direction:
  CE: vix < 30
triggers:
  - {name: go, side: CE, when: "%s"}
exits:
%s"""


def load(trigger: str, exits: str):  # type: ignore[no-untyped-def]
    return load_rule_document(load_yaml(BASE % (trigger, exits), "rules/lint.yaml"))


def test_lint_when_exit_covered_by_earlier_then_warning_not_error() -> None:
    spec = load(
        "vix < 20",
        '  - {name: a, priority: 1, when: "position.pnl_pct <= params.stop"}\n'
        '  - {name: b, priority: 2, when: "position.pnl_pct <= -3"}\n',
    )
    assert [(d.code, d.severity) for d in spec.warnings] == [("shadowed-exit", "warning")]
    assert "exit 'a' holds" in spec.warnings[0].message


def test_lint_when_priorities_reverse_file_order_then_no_warning() -> None:
    spec = load(
        "vix < 20",
        '  - {name: a, priority: 2, when: "position.pnl_pct <= -2"}\n'
        '  - {name: b, priority: 1, when: "position.pnl_pct <= -3"}\n',
    )
    assert spec.warnings == ()
    assert [e.name for e in spec.exits] == ["b", "a"]


def test_lint_when_exit_covered_only_by_two_together_then_names_them_together() -> None:
    spec = load(
        "vix < 20",
        '  - {name: low, priority: 1, when: "vix < 15"}\n'
        '  - {name: high, priority: 2, when: "vix >= 15"}\n'
        '  - {name: any, priority: 3, when: "vix > 10"}\n',
    )
    assert "the exits before it" in spec.warnings[0].message


def test_lint_when_condition_never_true_then_error() -> None:
    with pytest.raises(SpecError) as info:
        load("vix > 30 and vix < 20", '  - {name: a, priority: 1, when: "vix > 1"}\n')
    assert [d.code for d in info.value.diagnostics] == ["never-true"]


def test_lint_when_two_live_values_compared_then_undecided_and_silent() -> None:
    spec = load(
        "underlying.ltp > underlying.prev_close",
        '  - {name: a, priority: 1, when: "underlying.ltp < underlying.prev_close"}\n'
        '  - {name: b, priority: 2, when: "underlying.ltp < underlying.prev_close - 10"}\n',
    )
    assert spec.warnings == ()


def test_lint_when_same_opaque_condition_repeated_then_second_is_shadowed() -> None:
    spec = load(
        "vix < 20",
        '  - {name: a, priority: 1, when: "underlying.ltp < underlying.prev_close"}\n'
        '  - {name: b, priority: 2, when: "underlying.ltp < underlying.prev_close"}\n',
    )
    assert [d.code for d in spec.warnings] == ["shadowed-exit"]


VOLUME = """name: vol
underlyings: [%s]
indicators:
  m1: {vol_avg: "sma(volume, 20)", v: volume}
direction:
  CE: vix < 30
filters:
  - {name: busy, when: "m1.volume > 1.2 * m1.prev.vol_avg"}
  - {name: calm, when: "vix < 25"}
triggers:
  - {name: go, side: CE, when: "m1.v > 0"}
exits:
  - {name: out, priority: 1, when: "time >= '15:20'"}
"""


def test_lint_when_an_index_condition_reads_volume_then_a_warning_names_each_condition() -> None:
    spec = load_rule_document(load_yaml(VOLUME % "NIFTY", "rules/vol.yaml"))
    found = [(d.code, d.severity, d.where, d.line) for d in spec.warnings]
    assert found == [
        ("index-volume", "warning", "filters[0] 'busy'", 8),
        ("index-volume", "warning", "triggers[0] 'go'", 11),
    ]
    first, second = (d.message for d in spec.warnings)
    assert first.startswith("reads m1.prev.vol_avg, m1.volume, but NIFTY is an index")
    assert second.startswith("reads m1.v, but NIFTY is an index")


def test_lint_when_a_stock_reads_volume_then_no_warning() -> None:
    spec = load_rule_document(load_yaml(VOLUME % "RELIANCE", "rules/vol.yaml"))
    assert spec.warnings == ()


def test_docs_indicator_example_when_loaded_then_the_comma_spec_stays_whole() -> None:
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[3] / "docs" / "indicators.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S)[:2]:
        assert yaml.safe_load(block)["indicators"]["m1"] == {"volume_avg": "sma(volume, 20)"}
