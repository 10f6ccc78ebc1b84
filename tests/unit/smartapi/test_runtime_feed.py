"""The SmartAPI feed's events without a network: ticks into bars and ticks, in a replay's
order; a live clock that closes the minute and moves time on; the inbox's other items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from adapters.smartapi.link import Inbox
from adapters.smartapi.parsing.ticks import LtpPacket
from adapters.smartapi.runtime_feed import SmartApiTickFeed
from adapters.smartapi.ws import FeedSilent
from engine.data.calendar import Calendar
from engine.data.session_grid import SessionGrid
from engine.model.enums import Timeframe
from engine.model.market import NANOS
from engine.ports import (
    BarClosed,
    BrokerSessionExpiring,
    ClockAdvanced,
    FeedOutage,
    TickReceived,
    VixUpdated,
)
from engine.timeutil import IST

TOKEN, VIX = "99926000", "99926017"
GRID = SessionGrid(Calendar.default())


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(f"2024-03-01T{text}").replace(tzinfo=IST).timestamp()) * NANOS


def _packet(token: str, at: str, rupees: float) -> tuple[LtpPacket, int]:
    return LtpPacket(1, 1, token, 0, _ns(at) // 1_000_000, round(rupees * 100)), 0


class _Link:
    """The part of ``SmartApiLink`` the feed's events read: the inbox."""

    def __init__(self) -> None:
        self.inbox = Inbox()


class _Wall:
    def __init__(self, at: str) -> None:
        self.ns = _ns(at)

    def __call__(self) -> int:
        return self.ns


def _feed(wall: _Wall, **kwargs: Any) -> tuple[SmartApiTickFeed, Inbox]:
    link = _Link()
    feed = SmartApiTickFeed(link, GRID, symbol="NIFTY", token=TOKEN, vix_token=VIX,  # type: ignore[arg-type]
                            idle_s=0.001, wall_ns=wall, **kwargs)  # fmt: skip
    return feed, link.inbox


def _take(events: Iterator[Any], n: int) -> list[Any]:
    return [next(events) for _ in range(n)]


def test_feed_when_ticks_of_a_replayed_day_then_bars_before_the_tick_that_closed_them() -> None:
    wall = _Wall("00:00:00")  # far from the ticks' time: time moves with the ticks only
    feed, inbox = _feed(wall, idle_limit_s=0.01)
    for at, price in (("09:15:00", 100.0), ("09:15:30", 101.5), ("09:16:00", 99.0),
                      ("08:00:00", 50.0), ("09:16:10", 99.5)):  # fmt: skip
        inbox.put(_packet(TOKEN, at, price))
    inbox.put(_packet(VIX, "09:16:20", 14.25))
    events = list(feed.events())
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TickReceived", "TickReceived", "BarClosed", "TickReceived",
                     "TickReceived", "VixUpdated", "BarClosed"]  # fmt: skip
    first_bar = events[2]
    assert isinstance(first_bar, BarClosed) and first_bar.ts == _ns("09:16:00")
    bar = first_bar.bar
    assert (bar.open, bar.high, bar.low, bar.close) == (100.0, 101.5, 100.0, 101.5)
    assert bar.timeframe is Timeframe.M1 and bar.ts_init == first_bar.ts
    # the 08:00 tick is late (its minute is closed): refused, not re-stamped as a price now
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert events[3] == TickReceived(_ns("09:16:00"), "NIFTY", 99.0)
    assert events[5] == VixUpdated(_ns("09:16:20"), 14.25, "live")
    assert feed.counters.ticks == 4 and feed.counters.bars == 2


def test_feed_when_the_ticks_follow_the_wall_clock_then_quiet_closes_the_minute() -> None:
    wall = _Wall("10:00:05")
    feed, inbox = _feed(wall)
    inbox.put(_packet(TOKEN, "10:00:00", 200.0))
    events = feed.events()
    assert next(events) == TickReceived(_ns("10:00:00"), "NIFTY", 200.0)
    wall.ns = _ns("10:01:02")  # a quiet minute passes
    bar, clock = _take(events, 2)
    assert isinstance(bar, BarClosed) and bar.ts == _ns("10:01:00")
    assert clock == ClockAdvanced(_ns("10:01:01"))  # less a second for ticks in flight
    feed.stop()


def test_feed_when_other_items_arrive_then_outage_session_alarm_and_broker_update() -> None:
    wall = _Wall("11:00:00")
    feed, inbox = _feed(wall)
    inbox.put(_packet(TOKEN, "11:00:00", 300.0))
    delivered: list[str] = []
    inbox.put(lambda: delivered.append("fill"))
    inbox.put(FeedSilent(datetime.now(IST), 31.0))
    inbox.put(BrokerSessionExpiring(_ns("11:00:00"), _ns("11:05:00"), "refresh refused"))
    events = feed.events()
    tick, after_update, outage, alarm = _take(events, 4)
    assert isinstance(tick, TickReceived) and delivered == ["fill"]
    assert after_update == ClockAdvanced(_ns("11:00:00"))
    assert isinstance(outage, FeedOutage) and outage.silent_for_s == 31.0
    assert alarm == BrokerSessionExpiring(_ns("11:00:00"), _ns("11:05:00"), "refresh refused")
    assert feed.counters.outages == 1 and feed.counters.broker_updates == 1
    feed.stop()


def test_feed_when_data_ends_with_an_order_unanswered_then_its_answer_still_handed_over() -> None:
    wall = _Wall("00:00:00")  # a replay: time moves with the ticks only
    feed, inbox = _feed(wall, idle_limit_s=0.01)
    told: list[str] = []
    waiting = [1]  # one order whose acceptance has not reached the engine
    feed.unsettled = lambda: waiting[0]
    inbox.put(_packet(TOKEN, "09:15:00", 100.0))

    def accepted() -> None:
        told.append("accepted")
        waiting[0] = 0

    def answer_later() -> Iterator[Any]:
        events = feed.events()
        for event in events:
            if isinstance(event, BarClosed):  # the data has ended and the bar is flushed
                inbox.put(accepted)  # the broker's answer arrives after the end
            yield event

    kinds = [type(e).__name__ for e in answer_later()]
    assert told == ["accepted"]
    assert kinds[-1] == "ClockAdvanced"  # the answer went through the engine after the data


def test_feed_when_data_ends_and_the_broker_never_answers_then_the_wait_is_bounded() -> None:
    feed, inbox = _feed(_Wall("00:00:00"), idle_limit_s=0.01)
    feed.unsettled = lambda: 1
    feed.settle_s = 0.05
    inbox.put(_packet(TOKEN, "09:15:00", 100.0))
    assert [type(e).__name__ for e in feed.events()] == ["TickReceived", "BarClosed"]


def test_feed_when_rehearsal_session_expires_then_wall_time_left_counts_from_market_time() -> None:
    wall = _Wall("00:00:00")  # a rehearsal: the ticks' market time is not the wall's
    feed, inbox = _feed(wall)
    inbox.put(_packet(TOKEN, "11:00:00", 300.0))
    left = 90 * NANOS  # the session has 90 s of wall time left
    inbox.put(BrokerSessionExpiring(wall.ns, wall.ns + left, "refresh refused"))
    events = feed.events()
    tick, alarm = _take(events, 2)
    assert isinstance(tick, TickReceived)
    assert alarm == BrokerSessionExpiring(
        _ns("11:00:00"), _ns("11:00:00") + left, "refresh refused"
    )
    feed.stop()
