"""Deadlines on the engine clock: a heap of (instant, sequence, callback).

The core never polls. Everything that must happen at a time (a machine's ``after:`` or
``at:``, the session open's direction, the cancel of pending orders before the close, the
start of a day) is a deadline here; ``due(now)`` hands them back in time order (ties in
the order they were set), and the runtime runs each one to completion before the next.
A deadline can be cancelled by its handle; cancelled ones are skipped when they surface.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Deadline", "Timers"]

_NEVER = 1 << 62


@dataclass(order=True, slots=True)
class Deadline:
    at: int
    seq: int
    callback: Callable[[int], None] = field(compare=False)
    label: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """Deadlines in time order; ``next_at`` is the earliest one still pending."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[Deadline] = []
        self._seq = 0

    def at(self, when: int, callback: Callable[[int], None], label: str = "") -> Deadline:
        """Run ``callback(when)`` once the clock reaches ``when``."""
        self._seq += 1
        deadline = Deadline(when, self._seq, callback, label)
        heapq.heappush(self._heap, deadline)
        return deadline

    @property
    def next_at(self) -> int:
        """The earliest pending deadline (a far-future instant when there is none)."""
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        return heap[0].at if heap else _NEVER

    def pop_due(self, now: int) -> Deadline | None:
        """The earliest deadline at or before ``now``, removed; None when none is due."""
        heap = self._heap
        while heap:
            top = heap[0]
            if top.cancelled:
                heapq.heappop(heap)
                continue
            if top.at > now:
                return None
            return heapq.heappop(heap)
        return None

    def __len__(self) -> int:
        return sum(1 for d in self._heap if not d.cancelled)
