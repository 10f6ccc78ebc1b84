"""Faults a test can inject into the simulator, one call or one event at a time.

REST faults are queued per route name (``"place_order"``, ``"*"`` for any route) and
each is consumed by the next matching request:

=================  ==========================================================
SESSION_EXPIRED    every token of the client stops working (AG8001 from now on)
WRONG_TOTP         the next login is refused as a bad TOTP (AB1050)
RATE_LIMIT_429     HTTP 429, nothing processed
RATE_LIMIT_403     HTTP 403 with the plain-text rate-limit body, nothing processed
EMPTY_BODY         processed, then an empty HTTP 200 reply
SERVER_ERROR       HTTP 500 with a plain-text body, nothing processed
SLOW               wait ``delay_s`` (longer than the client's timeout), then process
                   and reply (to a client that has usually given up)
LOST_REPLY         processed (an order is accepted), then the connection is closed
                   without a reply
=================  ==========================================================

WebSocket faults act on the live connections: ``drop_feed`` aborts them, ``silence_feed``
keeps them open and answering pings but sends no tick, ``send_truncated`` and
``send_garbage`` put malformed binary frames on the wire.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultPlan", "Injected"]


class Fault(StrEnum):
    SESSION_EXPIRED = "session_expired"
    WRONG_TOTP = "wrong_totp"
    RATE_LIMIT_429 = "rate_limit_429"
    RATE_LIMIT_403 = "rate_limit_403"
    EMPTY_BODY = "empty_body"
    SERVER_ERROR = "server_error"
    SLOW = "slow"
    LOST_REPLY = "lost_reply"


@dataclass(frozen=True)
class Injected:
    fault: Fault
    delay_s: float = 0.0


class FaultPlan:
    """Queued REST faults, thread-safe (the HTTP server answers on many threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Injected]] = {}
        self.fired: list[tuple[str, Fault]] = []

    def inject(self, route: str, fault: Fault, *, times: int = 1, delay_s: float = 0.0) -> None:
        with self._lock:
            q = self._queues.setdefault(route, deque())
            q.extend(Injected(Fault(fault), delay_s) for _ in range(times))

    def take(self, route: str) -> Injected | None:
        with self._lock:
            for key in (route, "*"):
                q = self._queues.get(key)
                if q:
                    injected = q.popleft()
                    self.fired.append((route, injected.fault))
                    return injected
        return None

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())
