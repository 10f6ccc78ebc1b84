"""Driving the engine through a replay as fast as it goes: the backtest's loop.

Nothing here is backtest-specific logic: it hands each feed event to ``Engine.process``
in order and calls ``finish`` at the end. Paper and live drivers differ only in pacing
(``engine.runtime.live``).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.ports import BarClosed, Feed
from engine.runtime.core import Engine

__all__ = ["replay"]


def replay(engine: Engine, feed: Feed, *, progress: Callable[[int], None] | None = None) -> None:
    process = engine.process
    if progress is None:
        for event in feed.events():
            process(event)
    else:
        bars = 0
        for event in feed.events():
            process(event)
            if type(event) is BarClosed:
                bars += 1
                if not bars & 1023:
                    progress(bars)
        progress(bars)
    engine.finish()
