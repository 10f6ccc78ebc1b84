"""``engine.ports.Feed`` over the SmartAPI WebSocket: ticks in, the core's events out.

Each tick of the underlying (LTP mode, exchange type ``nse_cm``) becomes a
``TickReceived`` at its exchange time, and goes through the engine's own ``BarBuilder``,
which cuts 1-minute bars on the calendar's session grid; a closed bar is handed over as a
``BarClosed`` at its end, before the tick that closed it, exactly as a replay of the same
bars orders them. Longer timeframes are built by the core's aggregator from those bars.
India VIX ticks (when subscribed) become ``VixUpdated(source="live")``.

Everything else in the link's inbox is handed over on this, the engine's, thread:

- a feed that stays connected but silent while the market is open (``FeedSilent`` from
  the WebSocket client) becomes a ``FeedOutage``; the next tick ends it in the core;
- ``BrokerSessionExpiring`` from the session keeper is passed on as it is;
- order updates from ``SmartApiBroker`` are delivered to the core's broker sink, followed
  by a ``ClockAdvanced`` so the core processes them now rather than at the next tick.

Time. The events carry exchange time, never earlier than the event before. When the
exchange time follows the wall clock (live: within two minutes of it), a quiet stretch
sends ``ClockAdvanced`` at the wall clock (less a one-second allowance for ticks still in
flight) and closes a bar whose minute has passed, so deadlines and the session's last bar
do not wait for the next tick. When it does not (a rehearsal against the simulator
replaying recorded days), time moves only with the ticks, as in a replay.

The stream ends at ``end_ns`` (exchange time), after ``idle_limit_s`` wall seconds
without a tick once ticks have flowed (the simulator's data has run out), or on
``stop()``. The open bar is closed then.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.smartapi.link import SmartApiLink
from adapters.smartapi.parsing.ticks import MODE_LTP, Packet
from adapters.smartapi.redact import adapter_logger
from adapters.smartapi.ws import FeedConnected, FeedDisconnected, FeedSilent, SmartApiFeed
from engine.data.bars import BarBuilder
from engine.data.session_grid import SessionGrid
from engine.model.market import NANOS, Bar
from engine.ports import (
    BarClosed,
    BrokerSessionExpiring,
    ClockAdvanced,
    FeedEvent,
    FeedOutage,
    TickReceived,
    VixUpdated,
)
from engine.runtime.day import DAY_NS, day_number, day_start_ns

__all__ = ["FeedCounters", "SmartApiTickFeed"]

log = adapter_logger("feed")

NSE_CM = 1
_MINUTE = 60 * NANOS
_FOLLOWS_WALL_NS = 120 * NANOS
_IN_FLIGHT_NS = NANOS


@dataclass
class FeedCounters:
    """What the feed handed over, for the run's summary and for tests."""

    ticks: int = 0
    bars: int = 0
    outages: int = 0
    connects: int = 0
    broker_updates: int = 0
    #: wall nanoseconds from a packet's arrival to the end of its processing (if measured)
    latencies_ns: list[int] = field(default_factory=list)
    #: perf_counter_ns of the first and the last measured packet's arrival
    first_arrival_ns: int = 0
    last_arrival_ns: int = 0


class SmartApiTickFeed:
    """See the module docstring."""

    def __init__(
        self,
        link: SmartApiLink,
        grid: SessionGrid,
        *,
        symbol: str,
        token: str,
        vix_token: str | None = None,
        extra: Sequence[FeedEvent] = (),
        end_ns: int | None = None,
        idle_limit_s: float | None = None,
        idle_s: float = 0.05,
        measure: bool = False,
        wall_ns: Callable[[], int] = time.time_ns,
        description: str = "",
    ) -> None:
        self.link = link
        self.grid = grid
        self.symbol = symbol
        self.token = token
        self.vix_token = vix_token
        self.end_ns = end_ns
        self.idle_limit_s = idle_limit_s
        self.idle_s = idle_s
        self.measure = measure
        self._wall_ns = wall_ns  # the wall clock (a test's own clock)
        self.counters = FeedCounters()
        self._description = description or f"SmartAPI WebSocket ticks of {symbol} ({token})"
        self._extra = deque(sorted(extra, key=lambda e: e.ts))
        self._pending: deque[Any] = deque()
        self._closed: list[Bar] = []
        self._builder = BarBuilder(symbol, grid, self._closed.append)
        self._last = 0
        self._follows_wall = False
        self._stop = threading.Event()
        self.ws: SmartApiFeed | None = None
        #: orders whose broker answer is still awaited; the end waits for them (settle_s)
        self.unsettled: Callable[[], int] = lambda: 0
        self.settle_s = 10.0

    @property
    def description(self) -> str:
        return self._description

    # -- connection ----------------------------------------------------------------------
    def connect(self) -> None:
        """Open the WebSocket (it reconnects and resubscribes by itself) and subscribe."""
        link = self.link
        session = link.session
        assert session is not None
        tokens = session.tokens
        inbox = link.inbox

        def jwt() -> Any:
            return session.tokens.jwt if session.tokens else None

        def feed_token() -> Any:
            return session.tokens.feed if session.tokens else None

        def on_packet(packet: Packet) -> None:
            inbox.put((packet, time.perf_counter_ns()))  # a plain tuple: the cheapest

        def on_event(event: Any) -> None:
            if isinstance(event, FeedSilent | FeedConnected):
                inbox.put(event)
            elif isinstance(event, FeedDisconnected):
                log.warning("market data connection lost: {}", event.reason)

        assert tokens is not None
        self.ws = SmartApiFeed(
            link.config,
            client_code=link.credentials.client_code,
            api_key=link.credentials.api_key,
            jwt=jwt,
            feed_token=feed_token,
            on_packet=on_packet,
            on_event=on_event,
            market_open=self._market_open,
        )
        ws = self.ws
        wanted = [self.token] + ([self.vix_token] if self.vix_token else [])
        link.call(lambda: ws.subscribe(MODE_LTP, NSE_CM, wanted))
        link.spawn(ws.run)

    def _market_open(self, _wall: Any) -> bool:
        """Whether silence now is an outage: the market time of the last tick is in session
        (live: the wall clock's)."""
        now = self._wall_ns() if self._follows_wall or not self._last else self._last
        return self.grid.locate(now) is not None

    def first_ts(self, timeout_s: float = 30.0) -> int:
        """Wait for the first tick of the underlying and return its exchange time (the
        engine starts on that day); what arrived meanwhile is kept for ``events``."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no tick of {self.symbol} within {timeout_s:g} s")
            try:
                item = self.link.inbox.get(timeout=left)
            except queue.Empty:
                continue
            self._pending.append(item)
            if type(item) is tuple and item[0].token == self.token:
                return int(item[0].exchange_ts_ms * 1_000_000)

    def add_extra(self, events: Sequence[FeedEvent]) -> None:
        """Events known in advance (official daily bars, daily India VIX) slotted in by
        time; ties go before the market event of the same instant, as in a replay."""
        self._extra = deque(sorted([*self._extra, *events], key=lambda e: e.ts))

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        ws = self.ws
        if ws is not None and self.link.alive:
            self.link.call(ws.close)
        self.ws = None

    # -- events --------------------------------------------------------------------------
    def events(self) -> Iterator[FeedEvent]:  # noqa: C901 - the per-tick path, inlined
        inbox = self.link.inbox
        pending = self._pending
        builder = self._builder
        rejected = builder.rejected
        closed = self._closed
        extra = self._extra
        counters = self.counters
        token, symbol, end_ns, measure = self.token, self.symbol, self.end_ns, self.measure
        wall_ns = self._wall_ns
        idle_since = time.monotonic()
        seen_ticks = False
        while not self._stop.is_set():
            if pending:
                item = pending.popleft()
            else:
                try:
                    item = inbox.get(self.idle_s)
                except queue.Empty:
                    if (
                        seen_ticks
                        and self.idle_limit_s is not None
                        and time.monotonic() - idle_since > self.idle_limit_s
                    ):
                        log.info("no tick for {:g} s: the feed's data has ended", self.idle_limit_s)
                        break
                    yield from self._quiet()
                    continue
            if type(item) is not tuple:
                yield from self._other(item)
                continue
            packet, arrived_ns = item
            if packet.token != token:
                yield from self._other_packet(packet)
                continue
            # a tick of the underlying: bars it closed, what was published by then, the tick
            seen_ticks = True
            idle_since = time.monotonic()
            exchange_ts = packet.exchange_ts_ms * 1_000_000
            self._follows_wall = abs(wall_ns() - exchange_ts) < _FOLLOWS_WALL_NS
            if end_ns is not None and exchange_ts >= end_ns:
                break
            price = packet.ltp_paise / 100
            refused = rejected.total()
            # the builder sees the exchange's time: a tick of a minute already closed is
            # late and refused, never re-stamped into the open bar
            builder.update(exchange_ts, price)
            ts = exchange_ts if exchange_ts > self._last else self._last  # events: monotone
            if closed:
                yield from self._bars_closed(ts)
            if extra and extra[0].ts <= ts:
                yield from self._extra_until(ts)
            if ts > self._last:
                self._last = ts
            if rejected.total() == refused:  # inside the session
                counters.ticks += 1
                yield TickReceived(ts, symbol, price)
                if measure:
                    counters.latencies_ns.append(time.perf_counter_ns() - arrived_ns)
                    counters.first_arrival_ns = counters.first_arrival_ns or arrived_ns
                    counters.last_arrival_ns = arrived_ns
        yield from self._flush()
        yield from self._settle()

    def _settle(self) -> Iterator[FeedEvent]:
        """After the data: the broker's answers to the last orders, while they keep coming
        (``settle_s`` at most without one).

        The final bars can send orders (the close's exits); their acceptances, fills and
        cancels still come through the inbox, and the journal should name them all.
        """
        inbox = self.link.inbox
        give_up = time.monotonic() + self.settle_s
        left = self.unsettled()
        while left and time.monotonic() < give_up and not self._stop.is_set():
            try:
                item = inbox.get(self.idle_s)
            except queue.Empty:
                item = None
            if item is not None and type(item) is not tuple:  # ticks after the end: dropped
                yield from self._other(item)
            now_left = self.unsettled()
            if now_left < left:  # the broker is answering (the order rate limit paces it)
                give_up = time.monotonic() + self.settle_s
            left = now_left
        while True:  # what the broker handed over meanwhile
            try:
                item = inbox.get(0)
            except queue.Empty:
                return
            if type(item) is not tuple:
                yield from self._other(item)

    def _other_packet(self, packet: Packet) -> Iterator[FeedEvent]:
        if packet.token == self.vix_token:
            ts = self._advance(packet.exchange_ts_ms * 1_000_000)
            yield VixUpdated(ts, packet.ltp_paise / 100, "live")

    def _other(self, item: Any) -> Iterator[FeedEvent]:
        """What is not a packet: order updates, the session, the connection's state."""
        if callable(item):
            item()
            self.counters.broker_updates += 1
            yield ClockAdvanced(self._advance(self._last))
        elif isinstance(item, BrokerSessionExpiring):
            ts = self._advance(item.ts if self._follows_wall else 0)
            expires_at = item.expires_at
            if not self._follows_wall:  # a rehearsal: market time is not the wall's, so
                # the session keeps the wall time it has left, counted from market time now
                expires_at = ts + max(item.expires_at - self._wall_ns(), 0)
            yield item._replace(ts=ts, expires_at=expires_at)
        elif isinstance(item, FeedSilent):
            self.counters.outages += 1
            ts = self._advance(self._wall_ns() if self._follows_wall else 0)
            yield FeedOutage(ts, "connected but no tick while the market is open",
                             item.silent_for_s)  # fmt: skip
        elif isinstance(item, FeedConnected):
            self.counters.connects += 1

    def _bars_closed(self, upto: int) -> Iterator[FeedEvent]:
        closed = self._closed
        while closed:
            bar = closed.pop(0)
            end = self._end_of(bar)
            bar = Bar(
                bar.symbol,
                bar.timeframe,
                bar.ts_event,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
                bar.oi,
                bar.filled,
                end,
            )  # known at its end
            yield from self._extra_until(end)
            self.counters.bars += 1
            yield BarClosed(end, self.symbol, bar, None)

    def _end_of(self, bar: Bar) -> int:
        end = bar.ts_event + _MINUTE
        located = self.grid.locate(bar.ts_event)
        if located is not None:
            end = min(end, located[0].parts[located[1]][1])
        return self._advance(end)

    def _extra_until(self, ts: int) -> Iterator[FeedEvent]:
        extra = self._extra
        while extra and extra[0].ts <= ts:
            event = extra.popleft()
            yield event._replace(ts=self._advance(event.ts))  # type: ignore[union-attr]

    def _quiet(self) -> Iterator[FeedEvent]:
        """Nothing arrived: with a live clock, close a finished minute and move time on."""
        if not self._follows_wall:
            return
        now = self._wall_ns() - _IN_FLIGHT_NS
        if now <= self._last:
            return
        self._builder.on_clock(now)
        yield from self._bars_closed(now)
        yield from self._extra_until(now)
        yield ClockAdvanced(self._advance(now))

    def _flush(self) -> Iterator[FeedEvent]:
        """The end: the open bar, then what was published by the next midnight (the last
        session's official daily bar), as a replay of the same days ends."""
        self._builder.flush()
        yield from self._bars_closed(self._last)
        if self._last:
            yield from self._extra_until(day_start_ns(day_number(self._last)) + DAY_NS)

    def _advance(self, ts: int) -> int:
        """Event times never go backwards."""
        if ts > self._last:
            self._last = ts
        return self._last

    # -- order updates from the broker, on this thread -----------------------------------------
    def deliver(self, thunk: Callable[[], None]) -> None:
        """Run ``thunk`` on the engine's thread at the next step (the broker's channel)."""
        self.link.inbox.put(thunk)
