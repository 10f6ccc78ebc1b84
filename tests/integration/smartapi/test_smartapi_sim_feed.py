"""The WebSocket feed against the simulator: ticks in every mode, resubscription after a
reconnect, a silent feed detected, malformed packets survived, a refused handshake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from adapters.smartapi.auth import SmartApiSession
from adapters.smartapi.convert import TickConverter
from adapters.smartapi.parsing.ticks import LtpPacket, QuotePacket, SnapQuotePacket
from adapters.smartapi.secrets import Secret
from adapters.smartapi.ws import (
    FeedConnected,
    FeedDisconnected,
    FeedSilent,
    PacketRejected,
    SmartApiFeed,
)

pytestmark = pytest.mark.anyio

NIFTY = "99926000"


@asynccontextmanager
async def running_feed(
    config, creds, make_http, *, feed_token: Callable[[Any], Secret] | None = None
) -> AsyncIterator[tuple[SmartApiFeed, list[Any], list[Any]]]:  # type: ignore[no-untyped-def]
    packets: list[Any] = []
    events: list[Any] = []
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        await session.login()
        token = feed_token or (lambda s: s.tokens.feed)
        feed = SmartApiFeed(
            config, client_code=creds.client_code, api_key=creds.api_key,
            jwt=lambda: session.tokens.jwt, feed_token=lambda: token(session),
            on_packet=packets.append, on_event=events.append,
        )  # fmt: skip
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed.run)
            try:
                yield feed, packets, events
            finally:
                await feed.close()


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    with anyio.fail_after(timeout_s):
        while not predicate():
            await anyio.sleep(0.02)


def option_token(sim) -> str:  # type: ignore[no-untyped-def]
    return next(iter(sim.contracts))


async def test_feed_when_subscribed_in_three_modes_then_packets_of_each(
    sim, config, creds, make_http
) -> None:
    opt = option_token(sim)
    async with running_feed(config, creds, make_http) as (feed, packets, _):
        await feed.subscribe(1, 1, [NIFTY])
        await feed.subscribe(2, 1, ["99926017"])
        await feed.subscribe(3, 2, [opt])
        await feed.wait_connected()
        await wait_for(lambda: {type(p) for p in packets} >= {LtpPacket, QuotePacket,
                                                             SnapQuotePacket})  # fmt: skip
    snap = next(p for p in packets if isinstance(p, SnapQuotePacket))
    assert snap.token == opt and snap.best_bid_paise < snap.ltp_paise < snap.best_ask_paise
    ltp = next(p for p in packets if isinstance(p, LtpPacket))
    tick = TickConverter({(1, NIFTY): "NIFTY"})(ltp)
    assert tick is not None and 20000 < tick.ltp < 25000 and tick.ts_exchange is not None


async def test_feed_when_connection_dropped_then_reconnects_and_resubscribes_everything(
    sim, config, creds, make_http
) -> None:
    opt = option_token(sim)
    async with running_feed(config, creds, make_http) as (feed, packets, events):
        await feed.subscribe(1, 1, [NIFTY])
        await feed.subscribe(3, 2, [opt])
        await feed.wait_connected()
        await wait_for(lambda: len(sim.feed_clients) == 1 and len(packets) > 4)
        before = next(iter(sim.feed_clients)).subscriptions
        assert sim.drop_feed() == 1
        await feed.wait_connected(2)
        await wait_for(lambda: bool(sim.feed_clients) and next(iter(
            sim.feed_clients)).subscriptions == before)  # fmt: skip
        seen = len(packets)
        await wait_for(lambda: {p.token for p in packets[seen:]} == {NIFTY, opt})
    assert before == {(1, 1, NIFTY), (3, 2, opt)}
    assert any(isinstance(e, FeedDisconnected) for e in events)
    assert [e.subscriptions for e in events if isinstance(e, FeedConnected)] == [2, 2]


async def test_feed_when_connected_but_silent_then_reported_and_reconnected(
    sim, config, creds, make_http
) -> None:
    async with running_feed(config, creds, make_http) as (feed, packets, events):
        await feed.subscribe(1, 1, [NIFTY])
        await feed.wait_connected()
        await wait_for(lambda: len(packets) > 2)
        sim.silence_feed(2.0)
        await wait_for(lambda: any(isinstance(e, FeedSilent) for e in events))
        sim.resume_feed()
        await feed.wait_connected(2)
        seen = len(packets)
        await wait_for(lambda: len(packets) > seen + 2)
    silent = next(e for e in events if isinstance(e, FeedSilent))
    assert silent.silent_for_s >= config.silence_timeout_s and feed.stats.silent >= 1


async def test_feed_when_silent_outside_market_hours_then_not_reported(
    sim, client_config, creds, make_http
) -> None:
    config = client_config(sim)
    packets: list[Any] = []
    events: list[Any] = []
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        await session.login()
        feed = SmartApiFeed(
            config, client_code=creds.client_code, api_key=creds.api_key,
            jwt=lambda: session.tokens.jwt, feed_token=lambda: session.tokens.feed,
            on_packet=packets.append, on_event=events.append, market_open=lambda now: False,
        )  # fmt: skip
        sim.silence_feed(5.0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed.run)
            await feed.subscribe(1, 1, [NIFTY])
            await anyio.sleep(config.silence_timeout_s * 2)
            await feed.close()
    assert not any(isinstance(e, FeedSilent) for e in events) and feed.stats.connects == 1


async def test_feed_when_truncated_and_garbage_packets_then_counted_and_streaming_goes_on(
    sim, config, creds, make_http
) -> None:
    async with running_feed(config, creds, make_http) as (feed, packets, events):
        await feed.subscribe(1, 1, [NIFTY])
        await feed.wait_connected()
        await wait_for(lambda: len(sim.feed_clients) == 1 and len(packets) > 1)
        good = sim.packet(3, 1, NIFTY)
        sim.send_malformed([good[:200], b"\x01\x02garbage", b"", b"\x07" * 51])
        seen = len(packets)
        await wait_for(lambda: feed.stats.malformed == 4 and len(packets) > seen + 2)
    reasons = [e.reason for e in events if isinstance(e, PacketRejected)]
    assert reasons[0].startswith("truncated: mode 3 (SNAP_QUOTE) needs 379 bytes, 200")
    assert feed.stats.connects == 1


async def test_feed_when_feed_token_wrong_then_handshake_refused_with_reason(
    sim, config, creds, make_http
) -> None:
    bad = Secret("not-a-feed-token")
    async with running_feed(config, creds, make_http, feed_token=lambda s: bad) as (
        feed, _, events,
    ):  # fmt: skip
        await wait_for(lambda: any(isinstance(e, FeedDisconnected) for e in events))
    reason = next(e.reason for e in events if isinstance(e, FeedDisconnected))
    assert "401" in reason and "Invalid Feed Token" in reason
    assert feed.stats.connects == 0


async def test_feed_when_unsubscribed_then_token_stops(sim, config, creds, make_http) -> None:
    opt = option_token(sim)
    async with running_feed(config, creds, make_http) as (feed, packets, _):
        await feed.subscribe(1, 1, [NIFTY])
        await feed.subscribe(1, 2, [opt])
        await feed.wait_connected()
        await wait_for(lambda: {p.token for p in packets} == {NIFTY, opt})
        await feed.unsubscribe(1, 2, [opt])
        await wait_for(lambda: next(iter(sim.feed_clients)).subscriptions == {(1, 1, NIFTY)})
        seen = len(packets)
        await wait_for(lambda: len(packets) > seen + 5)
    assert {p.token for p in packets[seen:]} == {NIFTY}
    assert feed.subscriptions == {1: {(1, NIFTY)}}
