"""WebSocket 2.0 market data client (contract §7): auth headers, subscriptions, ticks.

- Handshake headers ``Authorization`` (the bare JWT: the docs say "jwt auth token" and the
  JS SDK sends it bare; ``Bearer`` also works per §7.1 ⚠), ``x-api-key``,
  ``x-client-code``, ``x-feed-token``. Tokens are read from providers on every connect,
  so a refreshed session is picked up by the next reconnect.
- Heartbeat: the documented text ``ping`` every ``heartbeat_s`` (the server answers
  ``pong``); protocol-level pings are off. No frame at all for three heartbeats means the
  connection is dead: it is closed and opened again.
- Every subscription is remembered and **all of them are sent again after every
  reconnect** (the official Python SDK forgets them).
- A connection that stays up but delivers no tick for ``silence_timeout_s`` while
  ``market_open(now)`` is true (as after the early-morning token rollover) is reported as
  ``FeedSilent`` and reconnected.
- Reconnects back off with full jitter between ``reconnect_base_s`` and
  ``reconnect_max_s``; the backoff starts again after a connection that delivered ticks.
- A malformed or truncated binary frame is counted (``stats.malformed``), logged and
  reported as ``PacketRejected``; it never ends the connection.
"""

from __future__ import annotations

import json
import random
import secrets as _random_ids
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from adapters.smartapi.config import SmartApiConfig
from adapters.smartapi.http import backoff_delay
from adapters.smartapi.parsing.ticks import Packet, PacketError, decode
from adapters.smartapi.redact import adapter_logger
from adapters.smartapi.secrets import Secret

__all__ = [
    "FeedConnected",
    "FeedDisconnected",
    "FeedEvent",
    "FeedSilent",
    "FeedStats",
    "PacketRejected",
    "SmartApiFeed",
    "subscribe_message",
]

log = adapter_logger("feed")

SUBSCRIBE, UNSUBSCRIBE = 1, 0
_DEAD_AFTER_HEARTBEATS = 3
_LOG_FIRST_MALFORMED = 20


@dataclass(frozen=True)
class FeedConnected:
    at: datetime
    attempt: int
    subscriptions: int


@dataclass(frozen=True)
class FeedDisconnected:
    at: datetime
    reason: str


@dataclass(frozen=True)
class FeedSilent:
    """Connected, but no tick for ``silent_for_s`` while the market was open: a feed outage."""

    at: datetime
    silent_for_s: float


@dataclass(frozen=True)
class PacketRejected:
    at: datetime
    reason: str
    size: int


FeedEvent = FeedConnected | FeedDisconnected | FeedSilent | PacketRejected


@dataclass
class FeedStats:
    packets: int = 0
    malformed: int = 0
    connects: int = 0
    silent: int = 0
    errors: int = 0  # error replies from the server (E1001, E1002)


def subscribe_message(action: int, mode: int, tokens: Iterable[tuple[int, str]]) -> str:
    """The JSON text of one (un)subscribe request for ``(exchange_type, token)`` pairs."""
    by_exchange: dict[int, list[str]] = {}
    for exchange_type, token in tokens:
        by_exchange.setdefault(exchange_type, []).append(token)
    return json.dumps(
        {
            "correlationID": _random_ids.token_hex(5),
            "action": action,
            "params": {
                "mode": mode,
                "tokenList": [
                    {"exchangeType": ex, "tokens": toks} for ex, toks in sorted(by_exchange.items())
                ],
            },
        }
    )


async def _close_quietly(ws: ClientConnection) -> None:
    """Close even when the feed is being cancelled, so no socket is left open."""
    with anyio.move_on_after(1.0, shield=True):
        try:
            await ws.close()
        except Exception:  # the connection is already broken: drop it
            pass
    ws.transport.abort()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _always_open(_: datetime) -> bool:
    return True


class SmartApiFeed:
    """One market-data connection that keeps itself alive. Run ``run()`` in a task."""

    def __init__(
        self,
        config: SmartApiConfig,
        *,
        client_code: str,
        api_key: Secret,
        jwt: Callable[[], Secret | None],
        feed_token: Callable[[], Secret | None],
        on_packet: Callable[[Packet], Any],
        on_event: Callable[[FeedEvent], Any] | None = None,
        market_open: Callable[[datetime], bool] = _always_open,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.client_code = client_code
        self._api_key = api_key
        self._jwt = jwt
        self._feed_token = feed_token
        self._on_packet = on_packet
        self._on_event = on_event or (lambda event: None)
        self._market_open = market_open
        self._clock = clock
        self._rng = rng or random.Random()
        self.stats = FeedStats()
        #: mode -> {(exchange_type, token)}: everything to (re)subscribe
        self.subscriptions: dict[int, set[tuple[int, str]]] = {}
        self._ws: ClientConnection | None = None
        self._scope: anyio.CancelScope | None = None

    # -- subscriptions -------------------------------------------------------------

    async def subscribe(self, mode: int, exchange_type: int, tokens: Iterable[str]) -> None:
        pairs = {(exchange_type, str(t)) for t in tokens}
        self.subscriptions.setdefault(mode, set()).update(pairs)
        await self._send(subscribe_message(SUBSCRIBE, mode, sorted(pairs)))

    async def unsubscribe(self, mode: int, exchange_type: int, tokens: Iterable[str]) -> None:
        pairs = {(exchange_type, str(t)) for t in tokens}
        self.subscriptions.get(mode, set()).difference_update(pairs)
        await self._send(subscribe_message(UNSUBSCRIBE, mode, sorted(pairs)))

    async def _send(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            return  # sent on the next connect with everything else
        try:
            await ws.send(text)
        except ConnectionClosed:
            pass  # the reconnect resubscribes

    async def _resubscribe(self, ws: ClientConnection) -> None:
        for mode, pairs in sorted(self.subscriptions.items()):
            if pairs:
                await ws.send(subscribe_message(SUBSCRIBE, mode, sorted(pairs)))

    # -- running -------------------------------------------------------------------

    async def wait_connected(self, connects: int = 1, timeout_s: float = 10.0) -> None:
        """Wait until the feed has connected ``connects`` times in all (tests, health checks)."""
        with anyio.fail_after(timeout_s):
            while self.stats.connects < connects or self._ws is None:
                await anyio.sleep(0.01)

    async def close(self) -> None:
        if self._scope is not None:
            self._scope.cancel()

    async def run(self) -> None:
        """Connect, stream, and reconnect until ``close()``."""
        attempt = 0
        with anyio.CancelScope() as scope:
            self._scope = scope
            while True:
                delivered, reason = await self._connection(attempt)
                self._emit(FeedDisconnected(self._clock(), reason))
                attempt = 0 if delivered else attempt + 1
                delay = backoff_delay(
                    attempt, self.config.reconnect_base_s, self.config.reconnect_max_s, self._rng
                )
                log.warning("feed disconnected ({}); reconnecting in {:.2f} s", reason, delay)
                await anyio.sleep(delay)

    def _headers(self) -> dict[str, str]:
        jwt, feed = self._jwt(), self._feed_token()
        return {
            "Authorization": jwt.reveal() if jwt else "",
            "x-api-key": self._api_key.reveal(),
            "x-client-code": self.client_code,
            "x-feed-token": feed.reveal() if feed else "",
        }

    async def _connection(self, attempt: int) -> tuple[bool, str]:
        """One connection's life; returns (ticks were delivered, why it ended)."""
        before = self.stats.packets
        ws: ClientConnection | None = None
        try:
            ws = await connect(
                self.config.ws_url,
                additional_headers=self._headers(),
                ping_interval=None,
                open_timeout=self.config.timeout_s,
                close_timeout=1,
                max_size=2**20,
                compression=None,
                proxy=None,
            )
            self._ws = ws
            self.stats.connects += 1
            await self._resubscribe(ws)
            count = sum(len(p) for p in self.subscriptions.values())
            self._emit(FeedConnected(self._clock(), attempt, count))
            log.info("feed connected; {} subscriptions sent", count)
            reason = await self._stream(ws)
        except InvalidStatus as e:
            message = e.response.headers.get("x-error-message", "")
            reason = f"handshake refused: HTTP {e.response.status_code} {message}".strip()
        except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as e:
            reason = f"{type(e).__name__}: {e}"[:200]
        finally:
            self._ws = None
            if ws is not None:
                await _close_quietly(ws)
        return self.stats.packets > before, reason

    async def _stream(self, ws: ClientConnection) -> str:
        state = {"frame": self._clock(), "tick": self._clock(), "reason": "closed by server"}
        async with anyio.create_task_group() as tg:

            async def reader() -> None:
                try:
                    async for message in ws:
                        state["frame"] = self._clock()
                        if isinstance(message, bytes):
                            if self._packet(message):
                                state["tick"] = state["frame"]
                        else:
                            self._text(message)
                except ConnectionClosed as e:
                    state["reason"] = f"connection closed ({e.rcvd.code if e.rcvd else 'no'} close)"
                tg.cancel_scope.cancel()

            async def heartbeat() -> None:
                while True:
                    await anyio.sleep(self.config.heartbeat_s)
                    await self._send("ping")

            async def watchdog() -> None:
                step = min(1.0, self.config.silence_timeout_s / 4, self.config.heartbeat_s / 2)
                while True:
                    await anyio.sleep(step)
                    now = self._clock()
                    idle = (now - state["frame"]).total_seconds()
                    if idle > _DEAD_AFTER_HEARTBEATS * self.config.heartbeat_s:
                        state["reason"] = f"no frame for {idle:.1f} s"
                        break
                    quiet = (now - state["tick"]).total_seconds()
                    if quiet > self.config.silence_timeout_s and self._market_open(now):
                        self.stats.silent += 1
                        self._emit(FeedSilent(now, quiet))
                        log.error("feed silent for {:.1f} s while the market is open", quiet)
                        state["reason"] = f"silent for {quiet:.1f} s"
                        break
                tg.cancel_scope.cancel()

            tg.start_soon(reader)
            tg.start_soon(heartbeat)
            tg.start_soon(watchdog)
        return str(state["reason"])

    def _packet(self, frame: bytes) -> bool:
        try:
            packet = decode(frame)
        except PacketError as e:
            self.stats.malformed += 1
            n = self.stats.malformed
            if n <= _LOG_FIRST_MALFORMED or n % 1000 == 0:
                log.warning("{} (malformed packets so far: {})", e, n)
            self._emit(PacketRejected(self._clock(), e.reason, e.size))
            return False
        self.stats.packets += 1
        self._on_packet(packet)
        return True

    def _text(self, text: str) -> None:
        if text == "pong":
            return
        try:
            reply = json.loads(text)
        except ValueError:
            log.warning("feed sent unexpected text ({} characters)", len(text))
            return
        if isinstance(reply, dict) and reply.get("errorCode"):
            self.stats.errors += 1
            log.error("feed error {}: {}", reply.get("errorCode"), reply.get("errorMessage"))

    def _emit(self, event: FeedEvent) -> None:
        try:
            self._on_event(event)
        except Exception as e:  # a listener's failure must not stop the feed
            log.exception("feed event listener failed on {}: {}", type(event).__name__, e)
