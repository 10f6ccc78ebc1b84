"""One SmartAPI connection for the runtime: an event loop thread, the login session, and the
inbox through which everything the broker says reaches the engine's thread.

The engine is synchronous and single-threaded; the adapter is async. ``SmartApiLink``
runs the adapter on an asyncio loop in a background thread. The engine's thread calls
into it (``call`` waits for an answer, ``spawn`` does not), and every answer that must
reach the engine (ticks, order updates, a session that cannot be renewed) is put in
``inbox``, which the feed drains on the engine's thread (``runtime_feed``). So the core is
only ever entered from one thread, and a broker event is processed like any other event.

Session validity: after login, ``keep_alive`` refreshes the tokens before they expire and
logs out at ``logout_at`` (SEBI's framework expects every session closed before the next
trading day). When the session can be neither refreshed nor renewed, the listeners hear it
while it is still valid and ``BrokerSessionExpiring`` goes into the inbox.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.smartapi.auth import Profile, SessionPolicy, SessionRefreshFailed, SmartApiSession
from adapters.smartapi.config import SmartApiConfig
from adapters.smartapi.http import SmartApiHttp
from adapters.smartapi.market import SmartApiMarket
from adapters.smartapi.orders import SmartApiOrders
from adapters.smartapi.redact import adapter_logger
from adapters.smartapi.secrets import Credentials
from engine.model.market import NANOS
from engine.ports import BrokerSessionExpiring

__all__ = ["Inbox", "SmartApiLink"]

log = adapter_logger("broker")
T = TypeVar("T")


class Inbox:
    """Many producers, one consumer. ``deque`` appends and pops are atomic, so the consumer
    sleeps only when the inbox is empty, on a bare lock a producer releases: at ten
    thousand ticks a second the lock and condition of ``queue.Queue`` (or of
    ``threading.Event``) cost as much as the engine's work on a tick. A stale release
    wakes the consumer for nothing; it looks again and sleeps on."""

    __slots__ = ("_items", "_signal", "_waiting")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._signal = threading.Lock()
        self._signal.acquire()  # held while there is nothing to signal
        self._waiting = False

    def put(self, item: Any) -> None:
        self._items.append(item)
        if self._waiting:
            self._waiting = False
            try:
                self._signal.release()
            except RuntimeError:  # released already: the consumer is being woken
                pass

    def get(self, timeout: float | None = None) -> Any:
        """The oldest item; ``queue.Empty`` after ``timeout`` seconds without one."""
        items = self._items
        if items:
            return items.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._waiting = True
            if items:
                self._waiting = False
                return items.popleft()
            left = -1.0 if deadline is None else deadline - time.monotonic()
            if deadline is not None and left <= 0:
                self._waiting = False
                raise queue.Empty
            self._signal.acquire(timeout=left)
            self._waiting = False
            if items:
                return items.popleft()

    def __len__(self) -> int:
        return len(self._items)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ns(t: datetime) -> int:
    return int(t.timestamp() * NANOS)


class SmartApiLink:
    """Loop thread, REST client, session, order and market calls; see the module docstring."""

    def __init__(
        self,
        config: SmartApiConfig,
        credentials: Credentials,
        *,
        policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.policy = policy
        self.clock = clock
        self.inbox = Inbox()
        self.http: SmartApiHttp | None = None
        self.session: SmartApiSession | None = None
        self.orders: SmartApiOrders | None = None
        self.market: SmartApiMarket | None = None
        self.profile: Profile | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tasks: list[Future[Any]] = []
        self._tasks_lock = threading.Lock()  # both threads spawn

    # -- life ----------------------------------------------------------------------------
    def start(self) -> Profile:
        """Start the loop thread and log in (raises the login's ``BrokerError``)."""
        self._thread = threading.Thread(target=self._run, name="smartapi", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SmartAPI event loop did not start")
        self.profile = self.call(self._open)
        return self.profile

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _open(self) -> Profile:
        c = self.credentials
        self.http = SmartApiHttp(self.config, client_code=c.client_code, api_key=c.api_key)
        self.session = SmartApiSession(self.http, c, policy=self.policy, clock=self.clock)
        self.session.on_refresh_failed(self._refresh_failed)
        self.orders = SmartApiOrders(self.http)
        self.market = SmartApiMarket(self.http)
        return await self.session.login()

    def keep_alive(self, logout_at: datetime) -> None:
        """Refresh the session before each expiry and log out at ``logout_at`` (a task)."""
        assert self.session is not None
        session = self.session
        self.spawn(lambda: session.keep_alive(logout_at))

    def _refresh_failed(self, event: SessionRefreshFailed) -> None:
        self.inbox.put(BrokerSessionExpiring(_ns(event.at), _ns(event.expires_at), event.reason))

    def stop(self, *, logout: bool = True) -> None:
        """Log out (unless told not to), close the client, end the loop thread."""
        if self._loop is None:
            return
        with self._tasks_lock:
            tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        try:
            self.call(lambda: self._close(logout), timeout=self.config.timeout_s * 3)
        except Exception as e:  # the process is ending: say why, do not mask the cause
            log.warning("closing the SmartAPI session failed: {}", e)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    async def _close(self, logout: bool) -> None:
        if logout and self.session is not None and self.session.tokens is not None:
            await self.session.logout()
        if self.http is not None:
            await self.http.aclose()

    # -- calls from the engine's thread ------------------------------------------------------
    def call(self, make: Callable[[], Awaitable[T]], *, timeout: float | None = None) -> T:
        """Run ``make()`` on the loop and wait for its result (or its exception)."""
        return self.spawn(make).result(timeout)

    def spawn(self, make: Callable[[], Awaitable[T]]) -> Future[T]:
        """Run ``make()`` on the loop; returns at once."""
        if self._loop is None:
            raise RuntimeError("the SmartAPI link is not started")

        async def run() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        with self._tasks_lock:
            self._tasks = [t for t in self._tasks if not t.done()]
            self._tasks.append(future)
        return future

    @property
    def alive(self) -> bool:
        return self._loop is not None
