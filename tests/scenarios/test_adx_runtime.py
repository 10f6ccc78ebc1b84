"""The basic ADX strategy (examples/rules/adx_basic.yaml) through the runtime on real NIFTY
data: every decision checked.

January 2024 has a daily direction (CE to mid-month, then PE); February to August has
none. Scenarios change one thing in a copy of adx_basic.yaml and assert the decisions
that change, with the values the journal recorded for them.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from scenario_kit import REPO, rule_copy

from engine.data.instruments import option_symbol
from engine.model.market import ns_to_datetime
from engine.strategy.strikes import atm_strike
from engine.timeutil import IST


def ist(ns: int) -> datetime:
    return ns_to_datetime(ns, IST)


def sent(run, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in run.kinds(kind) if r.get("outcome") == "sent"]


# -- the baseline, pinned -------------------------------------------------------------------
def test_adx_when_january_2024_then_the_trades_are_the_pinned_ones(backtest, golden) -> None:
    from engine.report.backtest import trades_csv

    run = backtest()
    assert len(run.trades) == 10
    golden("runtime/adx_2024-01_trades.csv", trades_csv(run.trades))


def test_adx_when_direction_then_ce_until_mid_january_and_pe_after(backtest) -> None:
    run = backtest()
    sides = {ist(r["ts"]).date(): tuple(r["sides"]) for r in run.kinds("direction")}
    assert sides[date(2024, 1, 15)] == ("CE",)
    assert sides[date(2024, 1, 19)] == ("PE",)
    for r in run.kinds("direction"):
        assert ist(r["ts"]).time() == time(9, 15)  # decided at the open, held all day
        for cond in r["conditions"].values():
            assert set(cond["reads"]) == {
                "daily.adx", "daily.plus_di", "daily.minus_di", "params.adx_min",
            }  # fmt: skip


def test_adx_when_no_daily_trend_then_no_entry_is_ever_evaluated(backtest) -> None:
    run = backtest(start="2024-03-01", end="2024-03-31")
    assert all(r["sides"] == [] for r in run.kinds("direction"))
    assert run.kinds("entry_decision") == [] and run.trades == []


# -- triggers -------------------------------------------------------------------------------
def test_triggers_when_january_then_breakout_up_buys_calls_and_breakout_down_puts(backtest) -> None:
    run = backtest()
    entries = sent(run, "entry_decision")
    by_trigger = {(r["trigger"], r["side"]) for r in entries}
    assert by_trigger == {("breakout_up", "CE"), ("breakout_down", "PE")}
    for r in entries:
        reads = r["trigger_reads"]
        if r["trigger"] == "breakout_up":
            assert reads["m1.close"] > reads["h1.prev.high"] and reads["m5.rsi"] < 70
        else:
            assert reads["m1.close"] < reads["h1.prev.low"] and reads["m5.rsi"] > 30
        assert all(f["name"] for f in r["filters"])  # every filter's values are on record
        assert time(10, 0) <= ist(r["ts"]).time() <= time(14, 30)


def test_entries_when_decided_on_a_bar_close_then_fill_later_never_at_that_close(backtest) -> None:
    run = backtest()
    # a decision on a bar's close fills at the next bar's open (stamped with the same
    # instant, the bar boundary) or later, never at the deciding bar's close
    index = {id(r): i for i, r in enumerate(run.records)}
    decided = {r["key"]: r for r in run.kinds("intent")}
    for fill in run.kinds("order_filled"):
        intent = decided[fill["key"]]
        assert fill["ts"] >= intent["ts_decision"] and index[id(fill)] > index[id(intent)]
        decision = next(
            r
            for r in run.records
            if r["kind"] in ("entry_decision", "exit_decision") and r.get("key") == fill["key"]
        )
        premium = decision.get("premium") or decision.get("strike", {}).get("premium")
        assert premium is not None
    for trade in run.trades:
        assert trade.entry_ts >= trade.decision_ts and trade.exit_ts >= trade.exit_decision_ts


# -- strikes --------------------------------------------------------------------------------
def test_strikes_when_entering_then_atm_of_the_last_price_on_the_nearest_weekly(backtest) -> None:
    from engine.data.calendar import Calendar

    calendar = Calendar.default()
    run = backtest()
    for r in sent(run, "entry_decision"):
        s = r["strike"]
        assert s["atm"] == atm_strike(s["ltp"], 50) == s["strike"]
        day = ist(r["ts"]).date()
        assert s["expiry"] == calendar.next_expiry("NIFTY", day).date.isoformat()
        assert s["symbol"] == option_symbol(
            "NIFTY", date.fromisoformat(s["expiry"]), s["strike"], r["side"]
        )
    # 22052.1 sits between 22050 and 22100: the nearer one is taken
    assert sent(run, "entry_decision")[0]["strike"]["strike"] == 22050


# -- exits, one priority at a time ----------------------------------------------------------
def test_exit_take_profit_when_target_is_one_percent_then_it_fires_before_trend_fade(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(tmp_path, {"target_pct: 40 ": "target_pct: 1 "})
    run = backtest(rules)
    exits = sent(run, "exit_decision")
    fired = [r for r in exits if r["exit"] == "take_profit"]
    assert fired, [r["exit"] for r in exits]
    for r in fired:
        assert r["priority"] == 3 and r["reads"]["position.pnl_pct"] >= 1
        assert [c["name"] for c in r["checked"]] == ["market_close", "stop_loss"]
        assert all(c["value"] is False for c in r["checked"])


def test_exit_stop_loss_when_stop_is_tight_then_it_fires_and_cools_down(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(tmp_path, {"stop_move_pct: -1.0": "stop_move_pct: -0.05"})
    run = backtest(rules)
    fired = [r for r in sent(run, "exit_decision") if r["exit"] == "stop_loss"]
    assert fired
    for r in fired:
        assert r["reads"]["position.underlying_move_pct"] <= -0.05
        assert [c["name"] for c in r["checked"]] == ["market_close"]
    cooled = [r for r in run.kinds("transition") if r["transition"] == "stopped_out"]
    assert len(cooled) == len(fired)  # a stop-out sends the position machine to cooldown


def test_exit_market_close_when_nothing_else_fires_then_out_at_1520(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {
            "stop_move_pct: -1.0": "stop_move_pct: -50",
            "target_pct: 40 ": "target_pct: 4000 ",
            "when: \"position.side == 'CE' and m5.close < m5.ema9 or position.side == 'PE' "
            'and m5.close > m5.ema9"': 'when: "position.pnl_pct > 100000"',
        },
    )
    run = backtest(rules)
    assert run.trades
    for trade in run.trades:
        decided = ist(trade.exit_decision_ts)
        assert decided.time() == time(15, 20) and decided.date() == ist(trade.entry_ts).date()
        assert trade.exit_reason in ("market_close", "session: enter final_exit")


# -- risk checks ----------------------------------------------------------------------------
def test_risk_when_two_trades_today_then_the_third_is_refused_with_its_values(backtest) -> None:
    run = backtest()
    refused = [r for r in run.kinds("entry_decision") if r["outcome"] == "refused"]
    assert refused
    for r in refused:
        assert r["refused_by"] == "risk: MAX_TRADES_PER_DAY"
        check = next(c for c in r["checks"] if c["code"] == "MAX_TRADES_PER_DAY")
        assert check["values"] == {"trades_today": 2, "limit": 2}
    for r in sent(run, "entry_decision"):
        assert all(c["passed"] for c in r["checks"])
        assert {c["code"] for c in r["checks"]} >= {
            "ENTRIES_ALLOWED", "MAX_OPEN_POSITIONS", "OPPOSITE_SIDE_HELD", "LOT_MULTIPLE",
            "TICK_SIZE", "FREEZE_QUANTITY", "PRICE_BAND", "MAX_PREMIUM_PER_ORDER",
            "MAX_LOSS_PER_DAY", "MAX_TRADES_PER_DAY",
        }  # fmt: skip


def test_risk_when_premium_cap_is_tiny_then_every_entry_is_refused(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path, {"max_premium_per_order_inr: 50000": "max_premium_per_order_inr: 1000"}
    )
    run = backtest(rules)
    decisions = run.kinds("entry_decision")
    assert decisions and run.trades == []
    for r in decisions:
        check = next(c for c in r["checks"] if c["code"] == "MAX_PREMIUM_PER_ORDER")
        assert check["passed"] is False and Decimal(check["values"]["outlay"]) > 1000


# -- orders ---------------------------------------------------------------------------------
def test_orders_when_every_submit_is_retried_then_no_second_order(backtest) -> None:
    from adapters.paper import PaperBroker

    class RetryingBroker(PaperBroker):
        """Sends every order twice, as an adapter retrying after a lost reply would."""

        submitted = 0

        def submit(self, intent):  # type: ignore[no-untyped-def]
            RetryingBroker.submitted += 1
            super().submit(intent)
            super().submit(intent)

    normal = backtest()
    retried = backtest(broker=RetryingBroker())
    assert RetryingBroker.submitted == len(retried.kinds("intent"))
    assert len(retried.kinds("order_accepted")) == len(retried.kinds("intent"))
    assert [t.fills for t in retried.trades] == [t.fills for t in normal.trades]


# -- time and information ---------------------------------------------------------------------
def test_look_ahead_when_the_future_is_perturbed_then_decisions_up_to_then_are_identical(
    backtest,
) -> None:
    from engine.model.market import make_bar, to_ns

    cut = to_ns(datetime(2024, 1, 16, 12, 0, tzinfo=IST))

    def perturb(inputs) -> None:  # type: ignore[no-untyped-def]
        def moved(b):  # type: ignore[no-untyped-def]
            k = 1.03
            return make_bar(b.symbol, b.timeframe, b.ts_event, b.open * k, b.high * k,
                            b.low * k, b.close * k, b.volume)  # fmt: skip

        inputs.bars = [b if b.ts_event < cut else moved(b) for b in inputs.bars]
        inputs.daily = [b if b.trading_date < date(2024, 1, 16) else moved(b) for b in inputs.daily]
        inputs.vix_daily = [
            b if b.trading_date < date(2024, 1, 16) else moved(b) for b in inputs.vix_daily
        ]

    base = backtest()
    changed = backtest(feed_filter=perturb)
    before = [r for r in base.records if r.get("ts", 0) < cut]
    assert before == [r for r in changed.records if r.get("ts", 0) < cut]
    assert len(before) > 100
    assert base.records != changed.records  # the perturbation did change the future


def test_determinism_when_run_twice_then_journals_are_byte_identical(
    backtest, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    backtest(journal=a)
    backtest(journal=b)
    assert a.read_bytes() == b.read_bytes()


def test_parity_when_replayed_as_paper_then_same_trades_and_same_journal(backtest) -> None:
    from scenario_kit import MARKET

    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal
    from engine.runtime.live import run_paced

    base = backtest()
    inputs = load_inputs(
        str(REPO / "examples" / "rules" / "adx_basic.yaml"),
        str(MARKET / "nifty_1m_2024.csv"),
        daily=str(MARKET / "nifty_daily_2005_2026.csv"),
        vix=str(MARKET / "india_vix_daily_2012_2026.csv"),
        start="2024-01-01",
        end="2024-01-31",
    )
    journal = Journal(None)
    engine, feed = build_engine(
        inputs, journal=journal, broker=PaperBroker(), durable=True, echo_notifications=False
    )
    run_paced(engine, feed, speed=0)
    assert [(t.trade_id, t.fills, t.exit_reason) for t in engine.ledger.trades] == [
        (t.trade_id, t.fills, t.exit_reason) for t in base.engine.ledger.trades
    ]
    assert journal.records == base.records


@pytest.mark.slow
def test_session_machine_when_2024_then_awake_on_every_trading_day(backtest) -> None:
    from engine.data.calendar import Calendar

    run = backtest(start=None, end=None)
    opened = {
        ist(r["ts"]).date()
        for r in run.kinds("transition")
        if r["machine"] == "session" and r["transition"] == "market_open"
    }
    sessions = {s.date for s in Calendar.default().sessions(date(2024, 1, 1), date(2024, 8, 23))}
    assert opened == sessions
    assert run.kinds("invalid_trigger") == [] and run.kinds("emergency") == []
    # every action a transition asked for comes after that transition in the journal
    for i, r in enumerate(run.records):
        if r["kind"] == "action":
            before = [x for x in run.records[:i] if x["kind"] == "transition"]
            assert before and before[-1]["machine"] == r["machine"]
    json.dumps(run.records)  # the journal is plain JSON


# -- the 15-minute strategy on BANKNIFTY 2018-2023 --------------------------------------------
def test_adx_15m_when_banknifty_2018_2023_then_trades_only_on_directional_days(backtest) -> None:
    run = backtest(
        REPO / "rules" / "adx_15m.yaml",
        data="banknifty_15m_2018_2023.csv",
        start=None,
        end=None,
        daily=None,
    )
    direction = {ist(r["ts"]).date(): set(r["sides"]) for r in run.kinds("direction")}
    assert sum(1 for sides in direction.values() if sides) > 550  # directional days
    assert len(run.trades) > 50
    for trade in run.trades:
        day = ist(trade.decision_ts).date()
        assert trade.instrument.kind.value in direction[day]
        assert trade.instrument.underlying == "BANKNIFTY" and trade.instrument.strike % 100 == 0
        # BANKNIFTY lots were 25 until the contracts expiring 2023-07-20, 15 after
        expected = 25 if trade.instrument.expiry <= date(2023, 7, 20) else 15
        assert trade.instrument.lot_size == expected
    entries = sent(run, "entry_decision")
    assert {r["strike"]["expiry_kind"] for r in entries} <= {"weekly", "monthly"}
    assert run.kinds("invalid_trigger") == [] and run.kinds("emergency") == []
