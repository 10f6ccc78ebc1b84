"""Replay feeds: stored history turned into the market events a live feed would deliver.

``ReplayFeed`` merges the underlying's bars, the official daily bars and India VIX into
one time-ordered stream of ``engine.ports`` events, each at the instant it would have
been known: an intraday bar at its end, an official daily bar and a daily VIX close from
the next day on. ``bar_path`` turns a bar into the ticks inside it (documented in
docs/backtesting.md), so exits run tick by tick in backtests too.
"""

from adapters.replay.feed import ReplayFeed, bar_path

__all__ = ["ReplayFeed", "bar_path"]
