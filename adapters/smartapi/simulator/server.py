"""The simulator: REST and WebSocket servers, the replayed market and the account.

``Simulator(options).start()`` binds both servers on loopback (port 0 picks free ports),
starts the HTTP server on its own thread and the WebSocket server plus the replay on an
asyncio loop in another; ``stop()`` ends both. ``rest_url``, ``ws_url`` and
``instruments_url`` are what a client's configuration needs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import serve

from adapters.smartapi.parsing.ticks import (
    DepthLevel,
    LtpPacket,
    QuotePacket,
    SnapQuotePacket,
    encode,
    snap_quote_depth,
)
from adapters.smartapi.simulator import api as api_calls
from adapters.smartapi.simulator.exchange import Exchange
from adapters.smartapi.simulator.faults import Fault, FaultPlan
from adapters.smartapi.simulator.fills import FillFunction, fill_at_next_tick_with_limit_crossing
from adapters.smartapi.simulator.http_server import MASTER_PATH, make_http_server
from adapters.smartapi.simulator.market import (
    INDEX_TOKENS,
    MarketTick,
    OptionContract,
    build_master,
    day_of,
    load_bars,
    load_vix,
    model_premium_paise,
    replay,
    underlying_of,
)
from adapters.smartapi.simulator.sessions import SessionStore, SimCredentials
from adapters.smartapi.simulator.ws_server import FeedClient, handshake_check, serve_client
from engine.data.calendar import Calendar
from engine.model.market import Bar
from engine.timeutil import IST

__all__ = ["SimCredentials", "Simulator", "SimulatorOptions"]


@dataclass(frozen=True)
class SimulatorOptions:
    data: Path
    host: str = "127.0.0.1"
    port: int = 0
    ws_port: int = 0
    vix: Path | None = None
    start: date | None = None
    sessions: int | None = 1
    ticks_per_s: float = 20.0
    loop: bool = True
    token_lifetime_s: float | None = None
    enforce_rate_limits: bool = True
    strikes_each_side: int = 10
    #: start the replay when the first client subscribes (a rehearsal sees every tick)
    wait_for_subscriber: bool = False


def _find_vix(data: Path) -> Path | None:
    found = sorted(data.parent.glob("india_vix_daily*.csv"))
    return found[-1] if found else None


@dataclass
class Quote:
    """Last price and the day's open/high/low of one token, and the previous close."""

    price: int
    open: int
    high: int
    low: int
    prev_close: int
    day: date

    def update(self, price: int, day: date) -> None:
        if day != self.day:
            self.prev_close, self.day = self.price, day
            self.open = self.high = self.low = price
        self.price = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)


@dataclass
class SimRecord:
    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    at: float = 0.0  # time.monotonic() when the request arrived


class Simulator:
    def __init__(
        self,
        options: SimulatorOptions,
        credentials: SimCredentials | None = None,
        *,
        fill: FillFunction = fill_at_next_tick_with_limit_crossing,
        calendar: Calendar | None = None,
    ) -> None:
        self.options = options
        self.credentials = credentials or SimCredentials()
        self.sessions = SessionStore(self.credentials, options.token_lifetime_s)
        self.faults = FaultPlan()
        self.lock = threading.RLock()
        self.bars: list[Bar] = load_bars(options.data, options.start, options.sessions)
        if not self.bars:
            raise ValueError(f"{options.data} has no bars from {options.start}")
        self.underlying = underlying_of(options.data)
        self.vix = load_vix(options.vix or _find_vix(options.data))
        first = self.bars[0]
        self.master_rows, contracts = build_master(
            calendar or Calendar.default(), self.underlying, first.trading_date, first.open,
            options.strikes_each_side, self.bars[-1].trading_date,
        )  # fmt: skip
        self.contracts: dict[str, OptionContract] = {c.token: c for c in contracts}
        self.exchange = Exchange(contracts, fill)
        self.requests: list[SimRecord] = []
        self.feed_clients: set[FeedClient] = set()
        self.ticks_sent = 0
        self.seq = 0
        self.now_ms = first.ts_event // 1_000_000
        self.quotes: dict[str, Quote] = {}
        self._silent_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: list[threading.Thread] = []
        self._http = make_http_server(self, options.host, options.port)
        self._ws_ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.ws_port = 0
        self._update(MarketTick(self.now_ms, round(first.open * 100), 0))

    # -- addresses -------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.options.host}:{self.ws_port}/smart-stream"

    @property
    def instruments_url(self) -> str:
        return self.rest_url + MASTER_PATH

    # -- life ------------------------------------------------------------------------

    def start(self) -> Simulator:
        http = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sim-http",
            daemon=True,
        )
        ws = threading.Thread(target=self._run_loop, name="sim-ws", daemon=True)
        self._threads = [http, ws]
        http.start()
        ws.start()
        if not self._ws_ready.wait(10):
            raise RuntimeError("the simulator's WebSocket server did not start")
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_loop(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def check(connection: Any, request: Any) -> Any:
            return handshake_check(self, connection, request)

        async with serve(
            lambda ws: serve_client(self, ws), self.options.host, self.options.ws_port,
            process_request=check, ping_interval=None, compression=None,
        ) as server:  # fmt: skip
            self.ws_port = server.sockets[0].getsockname()[1]
            self._ws_ready.set()
            task = asyncio.create_task(self._replay())
            await self._stop.wait()
            task.cancel()

    # -- the market -------------------------------------------------------------------

    def price(self, token: str) -> int | None:
        with self.lock:
            quote = self.quotes.get(token)
            if quote is not None:
                return quote.price
            contract = self.contracts.get(token)
            if contract is None:
                return None
            return self._option_price(contract)

    def _option_price(self, c: OptionContract) -> int:
        spot = self.quotes[INDEX_TOKENS[self.underlying][0]].price
        vol = self.vix.get(day_of(self.now_ms), 20.0) / 100
        return model_premium_paise(c, spot, self.now_ms, vol)

    def _set(self, token: str, price: int, day: date) -> None:
        quote = self.quotes.get(token)
        if quote is None:
            self.quotes[token] = Quote(price, price, price, price, price, day)
        else:
            quote.update(price, day)

    def _update(self, tick: MarketTick) -> set[str]:
        """Move the market to ``tick``; returns the tokens whose price was set."""
        with self.lock:
            self.seq += 1
            self.now_ms = tick.ts_ms
            day = day_of(tick.ts_ms)
            long_token, short_token, _ = INDEX_TOKENS[self.underlying]
            changed = {long_token, short_token}
            for token in changed:
                self._set(token, tick.price_paise, day)
            vix = self.vix.get(day)
            if vix is not None:
                for token in INDEX_TOKENS["INDIA VIX"][:2]:
                    self._set(token, round(vix * 100), day)
                    changed.add(token)
            wanted = {t for c in self.feed_clients for _, _, t in c.subscriptions}
            wanted |= self.exchange.open_tokens()
            now = datetime.fromtimestamp(tick.ts_ms / 1000, IST)
            for token in wanted & self.contracts.keys():
                self._set(token, self._option_price(self.contracts[token]), day)
                changed.add(token)
            for token in self.exchange.open_tokens():
                self.exchange.on_price(token, self.quotes[token].price, self.seq, now)
            return changed

    def packet(self, mode: int, exchange_type: int, token: str) -> bytes | None:
        quote = self.quotes.get(token)
        if quote is None:
            return None
        seq = self.seq if exchange_type != 1 else 0
        head = (exchange_type, token, seq, self.now_ms, quote.price)
        if mode == 1:
            return encode(LtpPacket(1, *head))
        ohlc = (quote.open, quote.high, quote.low, quote.prev_close)
        if mode == 2:
            return encode(QuotePacket(2, *head, 0, quote.price, 0, 0.0, 0.0, *ohlc))
        tick = self.contracts[token].tick_paise if token in self.contracts else 0
        if tick:
            bids = [DepthLevel(1, 500, quote.price - tick * (i + 1), 5) for i in range(5)]
            asks = [DepthLevel(0, 500, quote.price + tick * (i + 1), 5) for i in range(5)]
            depth = snap_quote_depth(bids + asks)
        else:
            depth = (0,) * 40
        return encode(
            SnapQuotePacket(
                3,
                *head,
                0,
                quote.price,
                0,
                0.0,
                0.0,
                *ohlc,
                self.now_ms // 1000,
                0,
                0.0,
                depth,
                quote.price * 2,
                tick,
                quote.high,
                quote.low,
            )  # fmt: skip
        )

    async def _replay(self) -> None:
        interval = 1.0 / self.options.ticks_per_s
        loop = asyncio.get_running_loop()
        while self.options.wait_for_subscriber and not any(
            c.subscriptions for c in self.feed_clients
        ):
            await asyncio.sleep(0.01)
        next_at = loop.time()
        for tick in replay(self.bars, self.options.loop):
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            changed = self._update(tick)
            if time.monotonic() < self._silent_until:
                continue
            for client in list(self.feed_clients):
                for mode, ex, token in sorted(client.subscriptions):
                    if token not in changed:
                        continue
                    frame = self.packet(mode, ex, token)
                    if frame is not None:
                        await self._send(client, frame)

    async def _send(self, client: FeedClient, frame: bytes | str) -> None:
        try:
            await client.ws.send(frame)
            self.ticks_sent += 1
        except Exception:  # a client that went away is dropped by its own handler
            pass

    # -- REST --------------------------------------------------------------------------

    def record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.requests.append(SimRecord(method, path, headers, time.monotonic()))

    def api(self, route: str, body: dict[str, Any], suffix: str, jwt: str,
            fault: Fault | None) -> dict[str, Any]:  # fmt: skip
        with self.lock:
            return api_calls.answer(self, route, body, suffix, jwt, fault)

    def expire_sessions(self) -> None:
        self.sessions.expire_all()

    # -- feed faults ---------------------------------------------------------------------

    def _in_loop(self, make: Callable[[], Any]) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(make(), self._loop).result(5)

    def drop_feed(self) -> int:
        """Abort every WebSocket connection (no close frame); returns how many."""
        clients = list(self.feed_clients)

        async def drop() -> None:
            for c in clients:
                c.ws.transport.abort()

        self._in_loop(drop)
        return len(clients)

    def silence_feed(self, seconds: float = 3600.0) -> None:
        """Keep connections open and answering pings, but send no tick for ``seconds``."""
        self._silent_until = time.monotonic() + seconds

    def resume_feed(self) -> None:
        self._silent_until = 0.0

    def send_malformed(self, frames: list[bytes]) -> None:
        """Put these binary frames on every connection, in order."""
        clients = list(self.feed_clients)

        async def send() -> None:
            for c in clients:
                for frame in frames:
                    await self._send(c, frame)

        self._in_loop(send)

    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            return [o.row() for o in self.exchange.orders.values()]
