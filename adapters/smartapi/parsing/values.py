"""Lenient readers for the broker's numbers and times (contract §4.3, §12.11).

The docs' samples print the same field as a number in one place and a string in another
(``"194.00"``, ``194``, ``"- 2235.80"``, ``"-1"``); these readers accept all of them and
turn anything unreadable into a default rather than an exception.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.timeutil import IST

__all__ = ["to_date", "to_decimal", "to_int", "to_ist_datetime"]


def to_decimal(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).replace(" ", "").replace(",", "")
    if not text:
        return default
    try:
        result = Decimal(text)
    except InvalidOperation:
        return default
    return result if result.is_finite() else default


def to_int(value: Any, default: int = 0) -> int:
    number = to_decimal(value, Decimal(default))
    return int(number)


def to_ist_datetime(value: Any) -> datetime | None:
    """``"20-Oct-2020 13:10:59"`` (IST) or an ISO string with offset; None when empty."""
    text = str(value or "").strip()
    if not text:
        return None
    for fmt in ("%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=IST)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)


def to_date(value: Any) -> date | None:
    """``"28NOV2024"`` (the instrument master's expiry) or ``"2024-11-28"``."""
    text = str(value or "").strip()
    if not text:
        return None
    for fmt in ("%d%b%Y", "%Y-%m-%d", "%d-%b-%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            pass
    return None
