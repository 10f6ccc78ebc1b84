"""Validated series in the cache: the accepted bars as packed columns, and their counts.

An entry is a JSON header (per series: symbol, timeframe, how many bars, the rejected and
flagged counts) followed by the columns of every series as little-endian arrays: start
times (int64 ns), open, high, low, close (float64), volume (int64). Rebuilding 58,000 bars
from it takes a few tens of milliseconds; parsing and validating the CSV takes a second.
Series with open interest or filled bars are not cached (they are rare, and their extra
fields would need columns of their own).
"""

from __future__ import annotations

import json
import sys
from array import array
from collections import Counter
from pathlib import Path

from engine.cache import cache_key, read_entry, write_entry
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.data.validate import ValidationReport
from engine.model.enums import DataIssue, Timeframe
from engine.model.market import Bar, make_bar

__all__ = ["read_cached", "write_cached"]

_KIND = "series"
_COLUMNS = (
    ("q", "ts"),
    ("d", "open"),
    ("d", "high"),
    ("d", "low"),
    ("d", "close"),
    ("q", "volume"),
)


def _calendar_bytes() -> list[bytes]:
    from engine.data.calendar import Calendar

    folder = Path(Calendar.default().origin)
    return [p.read_bytes() for p in sorted(folder.glob("*.csv"))]


def _key(raw: bytes, segment: str) -> str:
    return cache_key(_KIND, [raw, segment.encode(), *_calendar_bytes()])


def read_cached(raw: bytes, segment: str):  # type: ignore[no-untyped-def]
    from engine.data.series import Series

    blob = read_entry(_KIND, _key(raw, segment))
    if blob is None:
        return None
    try:
        size = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + size])
        offset = 8 + size
        out = []
        for item in header["series"]:
            n = item["bars"]
            columns = []
            for code, _ in _COLUMNS:
                col = array(code)
                width = col.itemsize * n
                col.frombytes(blob[offset : offset + width])
                if len(col) != n:
                    return None  # cut short: never a series with fewer bars than the file
                if sys.byteorder != "little":
                    col.byteswap()
                offset += width
                columns.append(col)
            tf = Timeframe(item["timeframe"])
            symbol = item["symbol"]
            bars = [
                make_bar(symbol, tf, t, o, h, lo, c, v)
                for t, o, h, lo, c, v in zip(*columns, strict=True)
            ]
            choice = choose_calendar([b.ts_event for b in bars], tf.seconds)
            report = ValidationReport(
                bars,
                Counter({DataIssue(k): v for k, v in item["rejected"].items()}),
                Counter({DataIssue(k): v for k, v in item["flagged"].items()}),
            )
            out.append(
                Series(symbol, tf, bars, report, choice, SessionGrid(choice.calendar, segment))
            )
        return out
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable entry is ignored and written again


def write_cached(raw: bytes, segment: str, series) -> None:  # type: ignore[no-untyped-def]
    items = []
    body = bytearray()
    for s in series:
        bars: list[Bar] = s.bars
        if any(b.oi is not None or b.filled for b in bars):
            return
        items.append(
            {
                "symbol": s.symbol,
                "timeframe": s.timeframe.value,
                "bars": len(bars),
                "rejected": {k.value: v for k, v in s.validation.rejected.items()},
                "flagged": {k.value: v for k, v in s.validation.flagged.items()},
            }
        )
        for code, field in _COLUMNS:
            col = array(code, (getattr(b, "ts_event" if field == "ts" else field) for b in bars))
            if sys.byteorder != "little":
                col.byteswap()
            body += col.tobytes()
    header = json.dumps({"series": items}).encode()
    write_entry(_KIND, _key(raw, segment), len(header).to_bytes(8, "little") + header + bytes(body))
