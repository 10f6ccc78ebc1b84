"""Client-side rate limits, one limiter per client code for the whole process.

SmartAPI counts requests per client code (contract §11), and SEBI's retail algo framework
allows at most 10 orders a second; orders (place + modify + cancel combined) are kept at
or under 9 in any 1.25 seconds, 500 a minute and 1000 an hour however many strategies share the
client. Data calls keep their own per-route budgets and wait while an order is waiting,
so orders always go first.

A slot is reserved under a thread lock (grant times never go backwards, so a sliding
window of the last N grants is exact) and then slept for with ``anyio.sleep``, so one
limiter serves every event loop and thread of the process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import anyio

__all__ = ["ClientLimiter", "SlidingWindow", "limiter_for"]

#: A quarter second of margin on the order window: network jitter between this process and
#: the gateway can then not pack more than nine orders into any second the broker counts.
ORDER_MARGIN_S = 0.25
ORDER_WINDOWS = ((9, 1.0 + ORDER_MARGIN_S), (500, 60.0), (1000, 3600.0))
_PRIORITY_POLL_S = 0.002


class SlidingWindow:
    """At most ``limit`` grants in any ``period`` seconds. Not locked: the owner locks."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._grants: deque[float] = deque()

    def earliest(self, now: float) -> float:
        if len(self._grants) < self.limit:
            return now
        return max(now, self._grants[0] + self.period)

    def record(self, at: float) -> None:
        self._grants.append(at)
        while len(self._grants) > self.limit:
            self._grants.popleft()


class ClientLimiter:
    """The order windows plus one window per data route, for one client code."""

    def __init__(
        self,
        orders_per_s: int = 9,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        windows = ((orders_per_s, ORDER_WINDOWS[0][1]), *ORDER_WINDOWS[1:])
        self._orders = [SlidingWindow(n, p) for n, p in windows]
        self._routes: dict[str, SlidingWindow] = {}
        self._last = {"order": 0.0}
        self._lock = threading.Lock()
        self._orders_waiting = 0
        self._now = monotonic

    def _reserve(self, windows: list[SlidingWindow], lane: str) -> float:
        with self._lock:
            now = self._now()
            at = max([now, self._last.get(lane, 0.0)] + [w.earliest(now) for w in windows])
            for w in windows:
                w.record(at)
            self._last[lane] = at
            return at - now

    def _route_window(self, route: str, per_second: float) -> SlidingWindow:
        with self._lock:
            window = self._routes.get(route)
            if window is None:
                # a fractional budget (1/s) is one grant per 1/per_second seconds
                limit, period = (int(per_second), 1.0) if per_second >= 1 else (1, 1 / per_second)
                window = self._routes[route] = SlidingWindow(limit, period)
            return window

    async def order(self) -> float:
        """Wait for an order slot; returns the seconds waited."""
        with self._lock:
            self._orders_waiting += 1
        try:
            delay = self._reserve(self._orders, "order")
            if delay > 0:
                await anyio.sleep(delay)
            return delay
        finally:
            with self._lock:
                self._orders_waiting -= 1

    async def data(self, route: str, per_second: float, *, urgent: bool = False) -> float:
        """Wait for a slot of a data route, behind any waiting order unless ``urgent``."""
        waited = 0.0
        while not urgent and self._orders_waiting > 0:
            await anyio.sleep(_PRIORITY_POLL_S)
            waited += _PRIORITY_POLL_S
        delay = self._reserve([self._route_window(route, per_second)], route)
        if delay > 0:
            await anyio.sleep(delay)
        return waited + delay

    @property
    def orders_waiting(self) -> int:
        return self._orders_waiting


_registry: dict[str, ClientLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(client_code: str, orders_per_s: int = 9) -> ClientLimiter:
    """The process-wide limiter of a client code (created on first use)."""
    with _registry_lock:
        limiter = _registry.get(client_code)
        if limiter is None:
            limiter = _registry[client_code] = ClientLimiter(orders_per_s)
        return limiter
