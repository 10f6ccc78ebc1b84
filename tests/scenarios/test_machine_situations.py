"""The machines in the situations a careful trader worries about, on real NIFTY minutes.

A probe rule buys an ATM call (two lots) on every bar close the machines allow and sells
it three bars later, so every stage where entries are (not) allowed and every exit path
shows in the journal. Each scenario changes one thing in the world: the calendar's day
(a disaster-recovery Saturday, a 15:40 close), the feed (a gap), the broker (a session
that will expire, an exit that fills in part, an entry that never fills), the account.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from scenario_kit import MARKET, REPO, Run

from adapters.paper import PaperBroker
from engine.model.market import ns_to_datetime
from engine.model.trading import OrderFilled, OrderSide
from engine.ports import BarClosed, BrokerSessionExpiring
from engine.timeutil import IST

PROBE = """\
name: probe
description: Buys a call on every bar close the machines allow; sells it three bars later.
underlyings: [NIFTY]
indicators:
  m1: {}
  daily: {}
direction:
  CE: "daily.close > 0"
triggers:
  - {name: every_bar, side: CE, when: "m1.close > 0"}
exits:
  - {name: held_long_enough, priority: 1, when: "position.bars_held >= 3"}
sizing: {mode: fixed_lots, lots: 2}
strikes: {expiry: nearest_weekly, select: atm}
risk: {max_trades_per_day: 20, max_open_positions: 1}
"""


def ist(ns: int) -> datetime:
    return ns_to_datetime(ns, IST)


def hm(ns: int) -> str:
    return f"{ist(ns):%H:%M}"


def run(
    tmp_path: Path,
    *,
    start: str,
    end: str,
    data: Path | str = "nifty_1m_2024.csv",
    session_edits: dict[str, str] | None = None,
    position_edits: dict[str, str] | None = None,
    breakers_edits: dict[str, str] | None = None,
    broker: Any = None,
    edit: Callable[[Any], None] | None = None,
    during: Callable[[Any, Any], None] | None = None,
) -> Run:
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal

    rules = tmp_path / "probe.yaml"
    rules.write_text(PROBE, encoding="utf-8")
    machines = tmp_path / "machines"
    shutil.copytree(REPO / "machines", machines)
    for name, edits in (
        ("session", session_edits),
        ("position", position_edits),
        ("breakers", breakers_edits),
    ):
        path = machines / f"{name}.yaml"
        text = path.read_text(encoding="utf-8")
        for old, new in (edits or {}).items():
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    inputs = load_inputs(
        str(rules),
        str(MARKET / data),
        daily=str(MARKET / "nifty_daily_2005_2026.csv"),
        vix=str(MARKET / "india_vix_daily_2012_2026.csv"),
        machines=str(machines),
        start=start,
        end=end,
    )
    if edit is not None:
        edit(inputs)
    journal = Journal(None)
    engine, feed = build_engine(
        inputs, journal=journal, broker=broker or PaperBroker(), echo_notifications=False
    )
    for event in feed.events():
        engine.process(event)
        if during is not None:
            during(engine, event)
    engine.finish()
    journal.close()
    return Run(engine, list(journal.records or []))


def on(run_: Run, day: date, kind: str) -> list[dict[str, Any]]:
    return [r for r in run_.kinds(kind) if ist(r["ts"]).date() == day]


def stages(run_: Run, day: date, machine: str = "session") -> list[tuple[str, str]]:
    return [(hm(r["ts"]), r["transition"]) for r in on(run_, day, "transition")
            if r["machine"] == machine]  # fmt: skip


def entries(run_: Run, day: date) -> list[int]:
    return [r["ts"] for r in on(run_, day, "intent") if r["purpose"] == "entry"]


def held_between(run_: Run, lo: datetime, hi: datetime) -> list[Any]:
    """Trades holding a position at some instant in [lo, hi)."""
    out = []
    for t in run_.engine.ledger.trades:
        opened = t.entry_ts
        closed = t.exit_ts if t.closed else None
        if opened is None:
            continue
        if ist(opened) < hi and (closed is None or ist(closed) > lo):
            out.append(t)
    return out


def assert_clean(run_: Run) -> None:
    assert run_.kinds("invalid_trigger") == [] and run_.kinds("emergency") == []


MANY = {"max_reentries: 2 ": "max_reentries: 200 "}  # the probe trades all day ...
NO_STREAK = {"max_consecutive_losses: 3 ": "max_consecutive_losses: 300 "}  # ... losing costs


# -- split and short sessions ------------------------------------------------------------------
DR = date(2024, 3, 2)


def test_dr_saturday_when_defaults_then_each_part_ends_flat_and_nothing_enters_in_the_break(
    tmp_path: Path,
) -> None:
    r = run(tmp_path, start="2024-03-01", end="2024-03-04")
    assert stages(r, DR) == [
        ("09:00", "wake_up"), ("09:15", "market_open"), ("09:30", "cancel_pending"),
        ("09:50", "final_exit_time"), ("10:00", "part_break"), ("11:30", "part_resume"),
        ("11:30", "stop_entries"), ("12:00", "cancel_pending"), ("12:20", "final_exit_time"),
        ("12:30", "market_close"), ("12:30", "day_done"),
    ]  # fmt: skip
    # With the strategy's times (entries from 10:00, none in a part's last hour) neither
    # one-hour part is entered; the Friday before is traded as usual.
    assert entries(r, DR) == []
    assert entries(r, date(2024, 3, 1))
    assert_clean(r)


def test_dr_saturday_when_times_fit_the_parts_then_entries_only_inside_open_parts(
    tmp_path: Path,
) -> None:
    r = run(
        tmp_path,
        start="2024-03-02",
        end="2024-03-02",
        session_edits={
            "entry_window_at: '10:00'": "entry_window_at: open + 10m",
            "wind_down_at: close - 60m": "wind_down_at: close - 20m",
            "cancel_pending_at: close - 30m": "cancel_pending_at: close - 15m",
        },
        position_edits=MANY,
        breakers_edits=NO_STREAK,
    )
    made = [ist(ts).time() for ts in entries(r, DR)]
    assert made, "the probe enters whenever it may"
    for t in made:
        assert time(9, 25) <= t < time(9, 40) or time(11, 45) <= t < time(12, 10), t
    assert any(t >= time(11, 45) for t in made)  # the second part is traded too
    # every position is closed before its part's close: nothing is held over the break
    assert held_between(r, ist_at(DR, "10:00"), ist_at(DR, "11:30")) == []
    assert held_between(r, ist_at(DR, "12:30"), ist_at(DR, "23:59")) == []
    # minutes_to_close counts to the part's close: the final exits came at 09:50 and 12:20
    finals = [hm(x["ts"]) for x in on(r, DR, "transition") if x["dest"] == "final_exit"]
    assert finals == ["09:50", "12:20"]
    assert_clean(r)


def ist_at(d: date, text: str) -> datetime:
    h, m = map(int, text.split(":"))
    return datetime.combine(d, time(h, m), tzinfo=IST)


# -- the 15:40 close -------------------------------------------------------------------------
def synthetic_1540_day(tmp_path: Path, day: date, source_day: date) -> Path:
    """``source_day``'s real minutes moved to ``day``, with ten more minutes (15:30-15:39)
    that repeat the shape of the last ten (relative moves from the last close). The data
    has no day after 2026-08-03, when derivatives close at 15:40: this one is made up,
    its bars real in shape only."""
    rows = []
    with (MARKET / "nifty_1m_2024.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ts = datetime.fromisoformat(row["ts"])
            if ts.date() == source_day:
                rows.append(row)
    assert len(rows) == 375, len(rows)
    out = []
    for row in rows:
        ts = datetime.fromisoformat(row["ts"])
        out.append({**row, "ts": datetime.combine(day, ts.time(), tzinfo=IST).isoformat()})
    last_close = float(rows[-1]["close"])
    for i, row in enumerate(rows[-10:]):
        base = float(rows[-11 + i]["close"])
        scale = last_close / base
        ts = datetime.combine(day, time(15, 30 + i), tzinfo=IST)
        out.append(
            {
                "ts": ts.isoformat(),
                "volume": "0",
                **{k: f"{float(row[k]) * scale:.2f}" for k in ("open", "high", "low", "close")},
            }
        )
        last_close = float(out[-1]["close"])
    path = tmp_path / "nifty_1m_synthetic_1540.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["ts", "open", "high", "low", "close", "volume"])
        w.writeheader()
        w.writerows(out)
    return path


def test_1540_close_when_replayed_then_stages_follow_the_calendar_close(tmp_path: Path) -> None:
    day = date(2026, 8, 4)
    data = synthetic_1540_day(tmp_path, day, date(2024, 1, 9))
    r = run(tmp_path, start="2026-08-04", end="2026-08-04", data=data)
    got = dict((name, at) for at, name in stages(r, day))
    assert got["stop_entries"] == "14:40"
    assert got["cancel_pending"] == "15:10"
    assert got["final_exit_time"] == "15:30"
    assert got["market_close"] == "15:40"
    made = [ist(ts).time() for ts in entries(r, day)]
    assert made and max(made) < time(14, 40)
    assert held_between(r, ist_at(day, "15:40"), ist_at(day, "23:59")) == []
    assert_clean(r)


# -- feed outages ----------------------------------------------------------------------------
def drop(day: date, lo: str, hi: str) -> Callable[[Any], None]:
    a, b = ist_at(day, lo), ist_at(day, hi)

    def edit(inputs: Any) -> None:
        inputs.bars = [x for x in inputs.bars if not a < ist(x.ts_event) <= b]

    return edit


def test_feed_gap_of_10_minutes_when_it_returns_then_no_entries_for_15_more(
    tmp_path: Path,
) -> None:
    day = date(2024, 1, 10)
    r = run(tmp_path, start="2024-01-10", end="2024-01-10", edit=drop(day, "11:00", "11:10"),
            position_edits=MANY, breakers_edits=NO_STREAK)  # fmt: skip
    # the last bar before the gap ends at 11:01, the first after it at 11:12
    breakers = stages(r, day, "breakers")
    assert ("11:03", "data_gap") in breakers  # silent two bars: no entries
    assert ("11:12", "data_back_after_outage") in breakers
    assert ("11:27", "data_settled") in breakers
    assert all(name != "data_outage" for _, name in breakers)
    quiet = [t for t in entries(r, day) if ist_at(day, "11:01") < ist(t) < ist_at(day, "11:27")]
    assert quiet == []
    assert any(ist(t) >= ist_at(day, "11:27") for t in entries(r, day))  # and then again
    assert_clean(r)


def test_feed_gap_of_40_minutes_when_over_30_then_flat_and_halted_for_the_day(
    tmp_path: Path,
) -> None:
    day = date(2024, 1, 10)
    r = run(tmp_path, start="2024-01-10", end="2024-01-11", edit=drop(day, "11:00", "11:40"),
            position_edits=MANY, breakers_edits=NO_STREAK)  # fmt: skip
    breakers = stages(r, day, "breakers")
    assert ("11:03", "data_gap") in breakers
    assert ("11:32", "data_outage") in breakers  # silent since 11:01: over 30 minutes
    assert [e for e in entries(r, day) if ist(e) > ist_at(day, "11:00")] == []
    held = held_between(r, ist_at(day, "11:32"), ist_at(day, "23:59"))
    assert all(t.exit_ts is not None and ist(t.exit_ts) < ist_at(day, "11:45") for t in held)
    # the next morning the day halt is over
    assert entries(r, date(2024, 1, 11))
    assert_clean(r)


# -- the broker session ----------------------------------------------------------------------
def expiring_session(when: datetime) -> Callable[[Any, Any], None]:
    """The broker adapter learns at ``when`` that its login cannot be refreshed and ends 20
    minutes later; it tells the engine through the sink it was bound to."""
    told: list[int] = []

    def during(engine: Any, event: Any) -> None:
        if not told and ist(engine.now_ns) >= when:
            told.append(engine.now_ns)
            expires = engine.now_ns + 20 * 60 * 1_000_000_000
            engine.broker._sink(BrokerSessionExpiring(engine.now_ns, expires, "AB8051"))

    return during


def test_token_expiring_when_it_cannot_be_refreshed_then_flat_and_halted_before_expiry(
    tmp_path: Path,
) -> None:
    day = date(2024, 1, 10)
    r = run(tmp_path, start="2024-01-10", end="2024-01-10",
            during=expiring_session(ist_at(day, "11:00")), position_edits=MANY,
            breakers_edits=NO_STREAK)  # fmt: skip
    told = r.kinds("broker_session_expiring")
    assert len(told) == 1
    expires = told[0]["expires_at"]
    acted = r.kinds("broker_session_ending")[0]["ts"]
    assert acted == expires - 10 * 60 * 1_000_000_000
    ks = [(x["transition"], x["ts"]) for x in r.kinds("transition") if x["machine"] == "killswitch"]
    assert ks[0][0] == "auto_kill" and ks[0][1] == acted
    halted = [ts for name, ts in ks if name == "flat"]
    assert halted and halted[0] < expires  # flat and halted while orders could be sent
    assert ("broker_ending") in [x for _, x in stages(r, day)]
    assert held_between(r, ist(expires), ist_at(day, "23:59")) == []
    assert [e for e in entries(r, day) if e >= acted] == []
    assert_clean(r)


# -- a partial exit fill ---------------------------------------------------------------------
class HalfFilledExit(PaperBroker):
    """The first sell order fills half its quantity and the rest never trades."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck: str | None = None

    def market(self, symbol: str, ts: int, price: Decimal) -> None:
        for key, order in list(self._working.items()):
            intent = order.intent
            if self.stuck is None and intent.side is OrderSide.SELL and ts >= order.ts_submitted:
                half = intent.qty // 2 // intent.instrument.lot_size * intent.instrument.lot_size
                self.stuck = key
                order.filled, order.fills = half, 1
                self._positions[symbol] = self._positions.get(symbol, 0) - half
                self._emit(OrderFilled(key, f"{order.order_id}-1", half, price, ts,
                                       intent.qty - half, order.order_id))  # fmt: skip
        stuck = self._working.pop(self.stuck, None) if self.stuck else None
        super().market(symbol, ts, price)
        if stuck is not None:
            self._working[stuck.intent.key] = stuck


def test_partial_exit_fill_when_half_fills_then_partial_and_the_remainder_is_sold(
    tmp_path: Path,
) -> None:
    day = date(2024, 1, 10)
    r = run(tmp_path, start="2024-01-10", end="2024-01-10", broker=HalfFilledExit())
    pos = [x for x in r.kinds("transition") if x["machine"].startswith("position:")]
    names = [x["transition"] for x in pos]
    i = names.index("exit_partly_filled")
    assert pos[i]["source"] == "exit_pending" and pos[i]["dest"] == "partial"
    assert names[i + 1] == "remainder_timeout"  # the rest did not fill in a minute
    remainder = r.kinds("exit_remainder")
    assert len(remainder) == 1 and remainder[0]["qty"] > 0
    assert names[i + 2] == "exit" and names[i + 3] in ("exited", "stopped_out")
    first = r.trades[0]
    assert first.qty == 0 and first.sold_qty == first.bought_qty  # nothing left behind
    assert entries(r, day)
    assert_clean(r)


# -- the kill switch ---------------------------------------------------------------------------
class EntriesNeverFill(PaperBroker):
    """Buy orders rest on the book and never trade (a limit the market runs away from)."""

    def market(self, symbol: str, ts: int, price: Decimal) -> None:
        held = {k: o for k, o in self._working.items() if o.intent.side is OrderSide.BUY}
        for k in held:
            del self._working[k]
        super().market(symbol, ts, price)
        self._working.update({k: o for k, o in held.items() if k in self._orders})


def test_kill_when_an_entry_order_is_working_then_it_is_cancelled_and_trading_halts(
    tmp_path: Path,
) -> None:
    day = date(2024, 1, 10)
    killed: list[int] = []

    def during(engine: Any, event: Any) -> None:
        if not killed and type(event) is BarClosed and engine.orders.pending:
            killed.append(engine.now_ns)
            engine.operator("kill", source="cli", reason="scenario: kill during a working order")

    r = run(tmp_path, start="2024-01-10", end="2024-01-10", broker=EntriesNeverFill(),
            during=during)  # fmt: skip
    assert killed
    ks = [x["transition"] for x in r.kinds("transition") if x["machine"] == "killswitch"]
    assert ks[:4] == ["kill", "start_cancel", "cancelled", "flat"] or ks[:4] == [
        "kill", "start_cancel", "nothing_pending", "flat"]  # fmt: skip
    cancels = [x for x in r.kinds("order_cancelled") if x["ts"] >= killed[0]]
    assert cancels, "the working entry order was cancelled"
    assert [e for e in entries(r, day) if e > killed[0]] == []
    assert r.engine.machines["killswitch"].state == "halted"
    assert r.engine.orders.pending == 0 and r.engine.ledger.open_count == 0
    assert_clean(r)


def test_daily_loss_at_3_percent_when_reached_then_a_kill_the_next_morning_does_not_lift(
    tmp_path: Path,
) -> None:
    def small_account(inputs: Any) -> None:
        inputs.capital = Decimal("20000")  # the probe's costs reach 3% of this in a morning

    r = run(tmp_path, start="2024-01-10", end="2024-01-11", edit=small_account)
    kill = [x for x in r.kinds("transition")
            if x["machine"] == "killswitch" and x["transition"] == "auto_kill"]  # fmt: skip
    assert len(kill) == 1
    assert kill[0]["guard"]["reads"]["account.day_pnl_pct"] <= -3
    assert [e for e in entries(r, date(2024, 1, 10)) if e > kill[0]["ts"]] == []
    # the breakers' day halt ends at 09:00; the kill switch stays halted: no entry next day
    assert ("09:00", "new_day") in stages(r, date(2024, 1, 11), "breakers")
    assert entries(r, date(2024, 1, 11)) == []
    assert r.engine.machines["killswitch"].state == "halted"
    assert_clean(r)


def test_reentries_when_probe_runs_a_day_then_three_entries_and_minutes_to_close_per_part(
    tmp_path: Path,
) -> None:
    """Baseline for the scenarios above: on an ordinary day the probe is in the market."""
    day = date(2024, 1, 10)
    r = run(tmp_path, start="2024-01-10", end="2024-01-10")
    made = [ist(ts).time() for ts in entries(r, day)]
    assert len(made) == 3 and time(10, 0) <= made[0] < time(14, 30)
    assert_clean(r)
    _ = timedelta  # (imported for readers adapting the windows)
