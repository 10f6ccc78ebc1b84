"""Two rule files on NIFTY over real January 2024 data: the portfolio holds at most one
position per underlying, refused like any risk check and journaled with its values."""

from __future__ import annotations

from pathlib import Path

from scenario_kit import MARKET, rule_copy


def _run(rules: list[Path]):  # type: ignore[no-untyped-def]
    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal
    from engine.runtime.backtest import replay
    from engine.spec.rules import load_rule_file

    inputs = load_inputs(
        str(rules[0]),
        str(MARKET / "nifty_1m_2024.csv"),
        daily=str(MARKET / "nifty_daily_2005_2026.csv"),
        vix=str(MARKET / "india_vix_daily_2012_2026.csv"),
        start="2024-01-01",
        end="2024-01-31",
    )
    journal = Journal(None)
    engine, feed = build_engine(
        inputs,
        journal=journal,
        broker=PaperBroker(),
        echo_notifications=False,
        extra_rules=[load_rule_file(r) for r in rules[1:]],
    )
    replay(engine, feed)
    journal.close()
    return engine, list(journal.records or [])


def test_portfolio_when_two_rule_files_trade_nifty_then_never_two_positions_at_once(
    tmp_path: Path,
) -> None:
    files = []
    for name, trigger_level in (("adx-a", "m5.rsi < 70"), ("adx-b", "m5.rsi < 75")):
        (tmp_path / name).mkdir()
        files.append(
            rule_copy(
                tmp_path / name,
                {
                    "name: adx-trend": f"name: {name}",
                    "m5.rsi < 70": trigger_level,
                    "max_open_positions: 1": "max_open_positions: 5",
                },
            )
        )
    engine, records = _run(files)
    decisions = [r for r in records if r["kind"] == "entry_decision"]
    refused = [r for r in decisions if r.get("refused_by") == "risk: POSITIONS_PER_UNDERLYING"]
    assert refused, "the second rule file wanted NIFTY while the first held it"
    for r in refused:
        check = next(c for c in r["checks"] if c["code"] == "POSITIONS_PER_UNDERLYING")
        assert check["values"] == {"underlying": "NIFTY", "held": 1, "limit": 1}
    for r in decisions:
        assert any(c["code"] == "POSITIONS_PER_UNDERLYING" for c in r.get("checks", []))
    # never two trades of different rule files held over the same instant
    trades = [t for t in engine.ledger.trades if t.entry_ts is not None]
    assert {t.rule for t in trades} == {"adx-a", "adx-b"}
    for a in trades:
        for b in trades:
            if a is not b and a.rule != b.rule:
                assert a.exit_ts is not None and b.exit_ts is not None
                assert a.exit_ts <= b.decision_ts or b.exit_ts <= a.decision_ts
