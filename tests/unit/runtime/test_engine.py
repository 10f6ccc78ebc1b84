"""The engine's own promises: time never goes back, a restored machine keeps its deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from adapters.paper import PaperBroker
from engine.cli._inputs import build_engine, load_inputs
from engine.clock import SimClock
from engine.journal import Journal
from engine.machines import MachineRunner, RecordingSink, load_machine_file
from engine.model import to_ns
from engine.ports import TickReceived
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "data"


def sample_engine():  # type: ignore[no-untyped-def]
    inputs = load_inputs(
        str(REPO / "rules" / "adx.yaml"),
        str(EXAMPLES / "nifty_1m_2024-01-08_19.csv"),
        daily=str(EXAMPLES / "nifty_daily_2023-01_2024-03.csv"),
        vix=str(EXAMPLES / "india_vix_daily_2023-12_2024-03.csv"),
    )
    return build_engine(inputs, journal=Journal(None), broker=PaperBroker())


def test_engine_when_an_event_is_older_than_now_then_clamped_not_a_crash() -> None:
    engine, feed = sample_engine()
    events = iter(feed.events())
    for _ in range(50):
        engine.process(next(events))
    now = engine.now_ns
    engine.process(TickReceived(now - 3_600_000_000_000, "NIFTY", 21700.0))
    assert engine.now_ns == now  # taken as now, not an hour back
    for event in events:
        engine.process(event)
    engine.finish()
    assert engine.finished


def test_runner_when_restored_then_after_deadline_is_the_original_instant() -> None:
    spec = load_machine_file(REPO / "machines" / "position.yaml")
    entered = to_ns(datetime(2024, 1, 15, 11, 0, tzinfo=IST))
    clock = SimClock(datetime(2024, 1, 15, 11, 20, tzinfo=IST))  # restarted 20 minutes later
    runner = MachineRunner(
        spec, clock=clock, actions=RecordingSink(), state="cooldown", entered_ns=entered
    )
    assert runner.next_deadline() == entered + 30 * 60 * 1_000_000_000  # cooldown: 30m
    clock.advance(timedelta(minutes=10))
    assert [t.transition for t in runner.tick()][:1] == ["cooled_down"]


def test_broker_session_expiring_when_refreshed_later_then_the_deadline_moves() -> None:
    """BrokerSessionExpiring sets broker.session_ending a margin before the expiry; a second
    one (the adapter refreshed after all) moves it; a dead session acts at once."""
    from engine.ports import BrokerSessionExpiring

    engine, feed = sample_engine()
    events = iter(feed.events())
    for _ in range(120):  # into the first session
        engine.process(next(events))
    now = engine.now_ns
    minute = 60 * 1_000_000_000
    engine.process(BrokerSessionExpiring(now, now + 30 * minute, "refresh failed"))
    assert engine.ctx.facts["broker.session_ending"] is False
    engine.process(BrokerSessionExpiring(now, now + 90 * minute, "refreshed; new expiry"))
    engine.advance(now + 25 * minute)  # the first deadline (20 minutes) was moved away
    assert engine.ctx.facts["broker.session_ending"] is False
    engine.advance(now + 80 * minute)
    assert engine.ctx.facts["broker.session_ending"] is True
    assert engine.machines["killswitch"].state in ("triggered", "cancelling", "flattening",
                                                     "halted")  # fmt: skip
    told = [r for r in engine.journal.records if r["kind"] == "broker_session_expiring"]
    assert [r["act_at"] - r["expires_at"] for r in told] == [-10 * minute, -10 * minute]
