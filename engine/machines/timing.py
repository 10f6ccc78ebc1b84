"""Durations and clock times of timed transitions, resolved on the engine clock.

``after: 30m`` fires once the machine has been in the source state that long; ``at:``
fires when the clock passes a time of the trading day, written absolute (``'15:20'``) or
relative to that day's session (``open + 45m``, ``close - 20m``, ``close``), so a Muhurat
hour or a Budget Sunday runs the same machine with its own hours. Nothing here reads the
wall clock: instants come from the runner's ``Clock``, so replays are deterministic.

A session may have several trading parts (the disaster-recovery Saturdays of 2024 ran
09:15-10:00 and 11:30-12:30), so a relative time names one instant per part: ``open``
and ``close`` are every part's open and close, ``break`` the close of a part another part
follows, and ``resume`` the open of a part after a break. On a one-part day ``open`` and
``close`` are the day's, and ``break`` and ``resume`` never happen. The runner takes the
first instant after the machine entered the state.

Resolution needs the day's session only for relative times; it answers ``None`` (the
transition cannot fire that day) when the day is not a session or its hours are not
published, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from engine.model.market import to_ns
from engine.timeutil import IST, parse_clock_time

__all__ = [
    "ClockTime",
    "Duration",
    "SessionLike",
    "SessionSource",
    "parse_clock_spec",
    "parse_duration",
]

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_RELATIVE = re.compile(r"^(open|close|break|resume)(?:\s*([+-])\s*(\S+))?$")
_ANCHORS = ("clock", "open", "close", "break", "resume")


class SessionLike(Protocol):
    """What timing needs from a trading session (``engine.data.calendar.Session``)."""

    @property
    def hours_known(self) -> bool: ...

    @property
    def open(self) -> time: ...

    @property
    def close(self) -> time: ...


class SessionSource(Protocol):
    """A calendar: the session of a date, or None when the market is closed."""

    def session(self, d: date) -> SessionLike | None: ...


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time written as '30m', '1h', '90s' or '1h30m'."""

    seconds: int
    text: str

    @property
    def ns(self) -> int:
        return self.seconds * 1_000_000_000

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    def __str__(self) -> str:
        return self.text


def parse_duration(text: str) -> Duration:
    """'30m', '5m', '1h', '90s', '1h30m' -> Duration; ValueError saying what is expected."""
    compact = text.strip().replace(" ", "")
    m = _DURATION.match(compact)
    if not compact or m is None or not any(m.groups()):
        raise ValueError(
            f"'{text}' is not a duration; write a number with a unit: '90s', '30m', '1h' or '1h30m'"
        )
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        raise ValueError(f"'{text}' is a zero duration; it must be longer than 0 seconds")
    if seconds > 7 * 86400:
        raise ValueError(f"'{text}' is longer than a week; machine timers are for within-day waits")
    return Duration(seconds, text.strip())


@dataclass(frozen=True, slots=True)
class ClockTime:
    """A time of the trading day: absolute ('15:20') or relative to the session's parts."""

    text: str
    anchor: str  # "clock" | "open" | "close" | "break" | "resume"
    clock: time | None = None  # for anchor "clock"
    offset_s: int = 0  # signed seconds from the anchor

    def __post_init__(self) -> None:
        if self.anchor not in _ANCHORS:
            raise ValueError(f"anchor must be one of {_ANCHORS}, not {self.anchor!r}")

    @property
    def relative(self) -> bool:
        return self.anchor != "clock"

    def resolve(self, day: date, calendar: SessionSource | None) -> datetime | None:
        """The first aware IST instant on ``day``, or None when it cannot be known that day."""
        instants = self.resolve_all(day, calendar)
        return instants[0] if instants else None

    def resolve_all(self, day: date, calendar: SessionSource | None) -> tuple[datetime, ...]:
        """Every instant on ``day``, in time order (one per part it anchors to; none when
        the day is not a session, its hours are not published, or it has no such part)."""
        if self.anchor == "clock":
            assert self.clock is not None
            return (datetime.combine(day, self.clock, tzinfo=IST),)
        if calendar is None:
            return ()
        session = calendar.session(day)
        if session is None or not session.hours_known:
            return ()
        parts = tuple(getattr(session, "segments", ())) or ((session.open, session.close),)
        if self.anchor == "open":
            bases = [lo for lo, _ in parts]
        elif self.anchor == "close":
            bases = [hi for _, hi in parts]
        elif self.anchor == "break":
            bases = [hi for _, hi in parts[:-1]]
        else:  # resume
            bases = [lo for lo, _ in parts[1:]]
        offset = timedelta(seconds=self.offset_s)
        return tuple(sorted(datetime.combine(day, b, tzinfo=IST) + offset for b in bases))

    def resolve_ns(self, day: date, calendar: SessionSource | None) -> int | None:
        instant = self.resolve(day, calendar)
        return None if instant is None else to_ns(instant)

    def resolve_all_ns(self, day: date, calendar: SessionSource | None) -> tuple[int, ...]:
        return tuple(to_ns(i) for i in self.resolve_all(day, calendar))

    def __str__(self) -> str:
        return self.text


def parse_clock_spec(text: str) -> ClockTime:
    """'09:00', 'open', 'close - 20m', 'open + 45m' -> ClockTime; ValueError otherwise."""
    stripped = text.strip()
    m = _RELATIVE.match(stripped)
    if m is not None:
        anchor, sign, amount = m.groups()
        offset = 0
        if sign is not None:
            try:
                offset = parse_duration(amount).seconds
            except ValueError as e:
                raise ValueError(f"'{text}': {e}") from None
            if sign == "-":
                offset = -offset
        return ClockTime(stripped, anchor, None, offset)
    try:
        clock = parse_clock_time(stripped)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time of the trading day; write 'HH:MM' ('15:20'), "
            "'open', 'close', or a session-relative time such as 'close - 20m' "
            "('break' and 'resume' for the parts of a split session)"
        ) from None
    return ClockTime(stripped, "clock", clock, 0)
