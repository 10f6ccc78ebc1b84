"""Trading days read off a data file's own bars, for history the calendar files do not cover.

The 2009 NIFTY file opens at 09:55 and one day (2009-05-18) has two bars only: a calendar
built from weekday rules or today's hours would be wrong for both. Here every IST date
with bars is a session; it opens at its first bar's start and closes at its last bar's
start plus the bar length; a stretch of more than ``MAX_GAP_SECONDS`` without bars inside
a day splits it into separate trading parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from engine.errors import DataError
from engine.timeutil import IST

__all__ = ["MAX_GAP_SECONDS", "day_parts_from_ns", "day_parts_from_timestamps"]

MAX_GAP_SECONDS = 30 * 60
_DAY = 24 * 3600
_IST_OFFSET = timedelta(hours=5, minutes=30)  # IST has had no daylight saving since 1945
_EPOCH_DATE = date(1970, 1, 1)

Parts = tuple[tuple[time, time], ...]


def day_parts_from_timestamps(ts: Iterable[datetime], bar_seconds: int) -> dict[date, Parts]:
    """Each IST date with bars -> its trading parts (start inclusive, end exclusive)."""
    if bar_seconds <= 0:
        raise ValueError(f"bar_seconds must be positive; it was {bar_seconds}")
    seconds: dict[date, set[int]] = {}
    for t in ts:
        offset = t.utcoffset()
        if offset is None:
            raise ValueError(f"naive datetime {t.isoformat()} was given; an aware one is required")
        local = t if offset == _IST_OFFSET else t.astimezone(IST)
        day = seconds.setdefault(local.date(), set())
        day.add(local.hour * 3600 + local.minute * 60 + local.second)
    if not seconds:
        raise DataError("no bars were given; a calendar cannot be derived from nothing")
    return {d: _parts(sorted(secs), bar_seconds) for d, secs in sorted(seconds.items())}


def day_parts_from_ns(ts_ns: Iterable[int], bar_seconds: int) -> dict[date, Parts]:
    """``day_parts_from_timestamps`` for bar starts as UTC nanoseconds, by integer arithmetic.

    A data file's series is already in nanoseconds; building a datetime per bar only to
    read its IST date and clock costs more than the rest of loading a cached file.
    """
    if bar_seconds <= 0:
        raise ValueError(f"bar_seconds must be positive; it was {bar_seconds}")
    offset = int(_IST_OFFSET.total_seconds())
    seconds: dict[int, set[int]] = {}
    for t in ts_ns:
        local = t // 1_000_000_000 + offset
        day, sec = divmod(local, _DAY)
        found = seconds.get(day)
        if found is None:
            seconds[day] = found = set()
        found.add(sec)
    if not seconds:
        raise DataError("no bars were given; a calendar cannot be derived from nothing")
    return {
        _EPOCH_DATE + timedelta(days=d): _parts(sorted(secs), bar_seconds)
        for d, secs in sorted(seconds.items())
    }


def _parts(starts: list[int], bar_seconds: int) -> Parts:
    out: list[tuple[time, time]] = []
    begin, end = starts[0], starts[0] + bar_seconds
    for s in starts[1:]:
        if s - end > MAX_GAP_SECONDS:
            out.append((_clock(begin), _clock(end)))
            begin = s
        if s + bar_seconds > end:  # starts are sorted, so this is the usual case
            end = s + bar_seconds
    out.append((_clock(begin), _clock(end)))
    return tuple(out)


def _clock(seconds: int) -> time:
    if seconds >= _DAY:  # a bar that ends at midnight
        return time.max
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
