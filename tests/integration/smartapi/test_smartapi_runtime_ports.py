"""The SmartAPI ports on the simulator, in process: the broker under lost and slow replies,
and the feed through the runtime across a dropped and a silent connection."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.paper import PaperBroker
from adapters.smartapi.instruments import InstrumentMaster
from adapters.smartapi.link import SmartApiLink
from adapters.smartapi.runtime_broker import SmartApiBroker
from adapters.smartapi.runtime_feed import SmartApiTickFeed
from adapters.smartapi.runtime_instruments import MasterInstruments
from adapters.smartapi.simulator import Fault, Simulator
from engine.cli._inputs import load_live_inputs, make_engine, published_events
from engine.clock import SimClock
from engine.data.calendar import Calendar
from engine.data.session_grid import SessionGrid
from engine.journal import Journal
from engine.model.enums import Timeframe
from engine.model.trading import (
    BrokerEvent,
    OptionKind,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderPurpose,
    OrderSide,
)
from engine.runtime.day import day_number, day_start_ns
from engine.runtime.live import run_paced

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "engine" / "sample_data"
DAY = date(2024, 3, 1)


@pytest.fixture
def link_to(client_config: Any, creds: Any) -> Iterator[Callable[..., SmartApiLink]]:
    links: list[SmartApiLink] = []

    def make(sim: Simulator, **changes: Any) -> SmartApiLink:
        link = SmartApiLink(client_config(sim, **changes), creds)
        link.start()
        links.append(link)
        return link

    yield make
    for link in links:
        link.stop()


# -- the broker ----------------------------------------------------------------------------
class _Desk:
    """The engine's side of the broker: a sink on this thread, fed from the link's inbox."""

    def __init__(self, link: SmartApiLink) -> None:
        self.link = link
        self.events: list[BrokerEvent] = []
        self.broker = SmartApiBroker(link, link.inbox.put, poll_s=0.05)
        self.broker.bind(self.events.append, SimClock(day_start_ns(day_number(0)) + 1))

    def until(self, done: Callable[[list[BrokerEvent]], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self.events):
            assert time.monotonic() < deadline, f"waited in vain; events so far: {self.events}"
            try:
                item = self.link.inbox.get(timeout=0.05)
            except queue.Empty:
                continue
            if callable(item):
                item()


def _intent(inst: Any, key: str, price: Decimal) -> OrderIntent:
    return OrderIntent(key=key, rule="test", underlying="NIFTY", instrument=inst,
                       side=OrderSide.BUY, purpose=OrderPurpose.ENTRY, qty=inst.lot_size,
                       limit_price=price, ts_decision=1, reason="test")  # fmt: skip


def _contract(sim: Simulator) -> Any:
    master = InstrumentMaster.from_json(httpx.get(sim.instruments_url).json())
    instruments = MasterInstruments(master, Calendar.default(), DAY)
    assert instruments.mismatches == []  # the simulator's master follows the calendar
    expiry = instruments.expiries("NIFTY", DAY)[0].date
    strike = int(master.strikes("NIFTY", expiry)[10])
    return instruments.option("NIFTY", expiry, strike, OptionKind.CE, DAY)


def _kinds(events: list[BrokerEvent], key: str) -> list[str]:
    return [e.kind for e in events if e.key == key]


def test_broker_when_replies_are_lost_or_late_then_every_order_placed_once(
    start_sim: Any, link_to: Any
) -> None:
    sim = start_sim(ticks_per_s=100.0)
    desk = _Desk(link_to(sim))
    inst = _contract(sim)
    assert inst.token and inst.lot_size == 50
    tick = inst.tick_size

    # A resting buy whose reply is lost: found by its tag, accepted, never sent again.
    sim.faults.inject("place_order", Fault.LOST_REPLY)
    resting = _intent(inst, "restingorder0001", tick)
    desk.broker.submit(resting)
    desk.until(lambda ev: "accepted" in _kinds(ev, resting.key))
    desk.broker.submit(resting)  # the engine asking twice changes nothing
    # Modify with a lost reply: read back, not resent; cancel with a late reply: done once.
    sim.faults.inject("modify_order", Fault.LOST_REPLY)
    desk.broker.modify(resting.key, price=tick * 2)
    row = next(o for o in sim.orders() if o["ordertag"] == resting.key)
    assert Decimal(row["price"]) == tick * 2
    sim.faults.inject("cancel_order", Fault.SLOW, delay_s=1.0)
    desk.broker.cancel(resting.key)
    desk.until(lambda ev: "cancelled" in _kinds(ev, resting.key))

    # A marketable buy whose reply comes after the client gave up: found, then filled.
    sim.faults.inject("place_order", Fault.SLOW, delay_s=1.0)
    price = Decimal(sim.price(inst.token)) / 100 * 2
    crossing = _intent(inst, "crossingorder002", price.quantize(tick))
    desk.broker.submit(crossing)
    desk.until(lambda ev: "filled" in _kinds(ev, crossing.key))

    tags = sorted(o["ordertag"] for o in sim.orders())
    assert tags == sorted([resting.key, crossing.key])
    assert _kinds(desk.events, resting.key) == ["accepted", "cancelled"]
    assert _kinds(desk.events, crossing.key) == ["accepted", "filled"]
    fill = next(e for e in desk.events if isinstance(e, OrderFilled))
    assert fill.qty == inst.lot_size and fill.remaining == 0 and fill.price <= crossing.limit_price
    assert isinstance(desk.events[0], OrderAccepted) and isinstance(desk.events[1], OrderCancelled)
    assert desk.broker.reconcile() == [f"position {inst.symbol}: the broker holds 50"]


# -- the feed through the runtime -------------------------------------------------------------
def test_runtime_when_feed_dropped_then_silent_then_resubscribed_and_outage_journaled(
    start_sim: Any, link_to: Any, tmp_path: Path
) -> None:
    sim = start_sim(ticks_per_s=500.0, loop=False, wait_for_subscriber=True)
    link = link_to(sim)
    grid = SessionGrid(Calendar.default())
    feed = SmartApiTickFeed(link, grid, symbol="NIFTY", token="99926000", idle_limit_s=1.5)
    feed.connect()
    first = feed.first_ts()
    inputs = load_live_inputs(
        "rules/adx.yaml", DAY, daily=str(SAMPLE / "nifty_daily_2023-01_2024-03.csv"),
        vix=str(SAMPLE / "india_vix_daily_2024-03.csv"),
    )  # fmt: skip
    feed.add_extra(published_events(inputs, grid))
    faults = {300: sim.drop_feed, 700: lambda: sim.silence_feed(1.2)}
    seen = {"events": 0}

    def poll(engine: Any) -> None:
        seen["events"] += 1
        fault = faults.pop(seen["events"], None)
        if fault is not None:
            fault()

    with Journal(tmp_path / "journal.jsonl") as journal:
        start = day_start_ns(day_number(first))
        engine = make_engine(inputs, grid=grid, start_ns=start, source=Timeframe.M1,
                             journal=journal, broker=PaperBroker())  # fmt: skip
        run_paced(engine, feed, speed=0, poll=poll)
    feed.close()
    lines = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert feed.ws is None and faults == {}
    assert feed.counters.connects >= 3  # the first, after the drop, after the silence
    kinds = [r["kind"] for r in records]
    assert kinds.count("feed_outage") >= 1  # the silence (and the end of the replay's data)
    outage = kinds.index("feed_outage")
    assert "data_resumed" in kinds[outage:]  # ticks came back: everything was resubscribed
    paused = [r for r in records if r["kind"] == "transition" and r["machine"] == "breakers"
              and r["transition"] == "data_gap"]  # fmt: skip
    # the breakers pause on the outage (the drop's lost minutes are a gap of their own)
    assert any(p["ts"] == records[outage]["ts"] for p in paused)
    assert feed.counters.ticks > 600  # the stream went on after both faults


# -- the live gates ------------------------------------------------------------------------
def _start_at(sim: Simulator, link: SmartApiLink, day: date, ip: Any) -> Any:
    from engine.cli._smartapi_run import _Start

    grid = SessionGrid(Calendar.default())
    master = InstrumentMaster.from_json(httpx.get(sim.instruments_url).json())
    span = grid.span(day)
    days = day.toordinal() - date(1970, 1, 1).toordinal()
    first = span.open_ns if span is not None else day_start_ns(days)
    return _Start(first, day, False, master, grid.calendar, grid, "NIFTY", ip)


def test_live_gates_when_each_fails_then_each_reason_named(start_sim: Any, link_to: Any) -> None:
    from adapters.smartapi.auth import check_static_ip
    from engine.cli._smartapi_run import live_gates

    sim = start_sim()
    link = link_to(sim)
    broker = SmartApiBroker(link, link.inbox.put)
    clean_ip = check_static_ip("203.0.113.7", "203.0.113.7")
    assert live_gates(link, broker, _start_at(sim, link, DAY, clean_ip)) == []

    holiday = date(2024, 1, 26)  # Republic Day: no session
    problems = live_gates(link, broker, _start_at(sim, link, holiday, clean_ip))
    assert problems == ["the calendar has no session on 2024-01-26: the market is closed"]

    other_ip = check_static_ip("203.0.113.7", "198.51.100.2")
    problems = live_gates(link, broker, _start_at(sim, link, DAY, other_ip))
    assert len(problems) == 1 and "registered static IP 203.0.113.7" in problems[0]


def test_live_gates_when_the_session_ends_soon_then_refused(start_sim: Any, link_to: Any) -> None:
    from adapters.smartapi.auth import check_static_ip
    from engine.cli._smartapi_run import live_gates

    sim = start_sim(token_lifetime_s=60.0)  # shorter than the refresh margin of ten minutes
    link = link_to(sim)
    start = _start_at(sim, link, DAY, check_static_ip(None, None))
    problems = live_gates(link, SmartApiBroker(link, link.inbox.put), start)
    assert problems == ["the broker session is about to expire"]
