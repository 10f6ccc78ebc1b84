"""Driving the engine in real time: a feed paced by the wall clock, stopped gracefully.

The engine's time is always the events' time; this driver only decides *when* the next
event is handed over. A replay at ``speed`` N hands an event over when N times the
market time since the previous one has passed on the wall clock (a long quiet stretch,
such as a night, is waited for at most ``max_wait_s``); ``speed`` 0 does not wait at all.

Stopping: the first Ctrl+C (or ``stop()``) sends ``sigint`` to the kill switch, which
cancels working orders and flattens; the driver keeps handing over events, unpaced,
until the kill switch is halted (or the data ends), so exits can fill. A second Ctrl+C
stops at once. Either way ``Engine.finish`` closes the books and the journal is flushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.logs import category_logger
from engine.model.market import NANOS
from engine.ports import Feed
from engine.runtime.core import Engine

__all__ = ["PacedRun", "run_paced"]

log = category_logger("runtime")


@dataclass(slots=True)
class PacedRun:
    """What happened: events handed over, and whether and how it was stopped."""

    events: int = 0
    stopped: str = ""  # "" | "graceful" | "immediate"
    halted: bool = False


class _Stop:
    def __init__(self) -> None:
        self.requests = 0


def run_paced(
    engine: Engine,
    feed: Feed,
    *,
    speed: float,
    max_wait_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    poll: Callable[[Engine], None] | None = None,
) -> PacedRun:
    """Hand ``feed``'s events to ``engine`` in real time; see the module docstring."""
    result = PacedRun()
    stop = _Stop()
    last_ts: int | None = None
    events = feed.events()
    try:
        for event in events:
            if stop.requests == 0 and speed > 0 and last_ts is not None:
                wait = (event.ts - last_ts) / NANOS / speed
                _wait(min(wait, max_wait_s), sleep, stop)
            last_ts = event.ts
            if stop.requests == 0 and poll is not None:
                poll(engine)
            engine.process(event)
            result.events += 1
            if stop.requests and _halted(engine):
                break
    except KeyboardInterrupt:
        stop.requests += 1
        result.stopped = "graceful"
        _stop_gracefully(engine)
        try:
            for event in events:
                engine.process(event)
                result.events += 1
                if _halted(engine):
                    break
        except KeyboardInterrupt:
            result.stopped = "immediate"
            log.warning("second interrupt: stopping at once")
    result.halted = _halted(engine)
    engine.finish()
    return result


def _wait(seconds: float, sleep: Callable[[float], None], stop: _Stop) -> None:
    if seconds > 0:
        sleep(seconds)


def _stop_gracefully(engine: Engine) -> None:
    """The first interrupt: the kill switch's sigint (cancel, flatten, halt)."""
    log.warning("interrupted: cancelling orders and closing positions before stopping")
    engine.operator("sigint")


def _halted(engine: Engine) -> bool:
    ks = engine.machines.runners.get("killswitch")
    return ks is not None and ks.state == "halted"
