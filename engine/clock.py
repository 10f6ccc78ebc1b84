"""One clock abstraction for live, paper and backtest: the only way the core reads time.

Everything that depends on time (timed machine transitions, session stages, cooldowns)
asks a ``Clock``, never ``datetime.now()``. Live and paper run on the ``WallClock``; a
backtest or a test runs on a ``SimClock`` that moves only when told to, so a replay of the
same data takes the same transitions at the same instants, byte for byte.

Times are aware UTC datetimes at the edges and ``int`` nanoseconds since the epoch on the
hot path, as everywhere else in the engine (``engine.model.market``).
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from engine.model.market import ns_to_datetime, to_ns

__all__ = ["Clock", "SimClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """What the core needs from a clock: the current instant, two ways."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        ...

    def now_ns(self) -> int:
        """The current instant in nanoseconds since the Unix epoch (UTC)."""
        ...


class WallClock:
    """The system's real-time clock (live and paper trading)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_ns(self) -> int:
        return _time.time_ns()


class SimClock:
    """A clock that moves only when told to (backtests, replays, tests).

    It never goes backwards: ``set`` to an earlier instant raises ``ValueError``, because
    a machine that saw time run backwards could fire a timed transition twice.
    """

    def __init__(self, start: datetime | int) -> None:
        self._ns = start if isinstance(start, int) else to_ns(start)

    def now(self) -> datetime:
        return ns_to_datetime(self._ns)

    def now_ns(self) -> int:
        return self._ns

    def set(self, ts: datetime | int) -> None:
        """Move to ``ts`` (an aware datetime or epoch nanoseconds), not earlier than now."""
        ns = ts if isinstance(ts, int) else to_ns(ts)
        if ns < self._ns:
            raise ValueError(
                f"the simulated clock cannot go back from {self.now().isoformat()} "
                f"to {ns_to_datetime(ns).isoformat()}"
            )
        self._ns = ns

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by a timedelta or a number of seconds; return the new instant."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError(f"the simulated clock cannot go back ({seconds} s was given)")
        self._ns += round(seconds * 1_000_000_000)
        return self.now()
