"""Time zones and clock-time helpers: stored times are UTC, session logic is IST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

__all__ = ["IST", "UTC", "ist_datetime", "parse_clock_time", "to_ist", "to_utc"]

IST = ZoneInfo("Asia/Kolkata")


def to_utc(ts: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is refused (naive times are bugs here)."""
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()} was given; an aware one is required")
    return ts.astimezone(UTC)


def to_ist(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()} was given; an aware one is required")
    return ts.astimezone(IST)


def ist_datetime(d: date, t: time) -> datetime:
    """The aware IST instant for a trading date and a wall-clock time."""
    return datetime.combine(d, t, tzinfo=IST)


def parse_clock_time(text: str) -> time:
    """'HH:MM' or 'HH:MM:SS' (24-hour) to a time; ValueError with the reason otherwise."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"'{text}' is not a time of day; expected 'HH:MM' or 'HH:MM:SS'")
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= s <= 59):
        raise ValueError(f"'{text}' is not a valid time of day")
    return time(h, m, s)
