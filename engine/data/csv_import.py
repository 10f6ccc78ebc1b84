"""Reading bars from CSV files and broker candle exports, with errors that point at the cell.

Layouts recognised from the header (names are case-insensitive, extra columns ignored):

- this project's files: ``ts,open,high,low,close,volume`` with ISO 8601 times carrying an
  offset (``2024-01-01T09:15:00+05:30``); daily files ``date,open,high,low,close,volume``;
  the option file adds ``symbol,contract,strike,type``;
- Angel One ``getCandleData`` as CSV (``timestamp,open,high,low,close,volume``) or as the
  JSON response itself (``{"data": [["2024-01-01T09:15:00+05:30", o, h, l, c, v], ...]}``);
- Zerodha Kite historical data (``date,open,high,low,close,volume[,oi]`` with
  ``2024-01-01 09:15:00+05:30``);
- separate ``date`` and ``time`` columns; Unix epoch seconds or milliseconds.

A time without a UTC offset is refused unless the caller names the zone (``tz=IST``,
``--tz Asia/Kolkata`` on the command line): a naive time is never guessed. A row that
cannot be read raises ``DataError`` naming the file, the line and the field
(``nifty.csv:1203: field 'high': 'abc' is not a number``); with ``lenient=True`` it is
counted as ``bad_row`` and reading goes on.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path

from loguru import logger

from engine.errors import DataError
from engine.model.enums import DataIssue, Timeframe
from engine.model.market import NANOS, Bar, make_bar, to_ns
from engine.timeutil import IST

__all__ = [
    "BarFile",
    "infer_timeframe",
    "read_bars",
    "read_bars_csv",
    "read_candles_json",
    "symbol_from_name",
]

log = logger.bind(category="data")

_TIME_NAMES = ("ts", "timestamp", "datetime", "date", "time")
_PRICES = ("open", "high", "low", "close")
_MAX_PROBLEMS = 20
_SPACINGS = {tf.seconds: tf for tf in Timeframe if tf.is_intraday}


@dataclass(slots=True)
class BarFile:
    """What was read from one file: bars per symbol (file order) and what was refused."""

    path: Path
    layout: str
    timeframe: Timeframe
    timeframe_inferred: bool
    bars: dict[str, list[Bar]]
    rows: int = 0
    rejected: Counter[DataIssue] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    skipped_other_symbols: int = 0

    @property
    def all_bars(self) -> list[Bar]:
        return [b for bars in self.bars.values() for b in bars]


@dataclass(frozen=True, slots=True)
class _Columns:
    time: int
    clock: int | None  # a separate time-of-day column
    prices: tuple[int, int, int, int]
    volume: int | None
    oi: int | None
    symbol: int | None
    width: int
    names: tuple[str, ...]


class _RowError(Exception):
    def __init__(self, fieldname: str, message: str) -> None:
        sep = " " if message.startswith("is ") else ": "
        super().__init__(f"field '{fieldname}'{sep}{message}")


def read_bars(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    tz: tzinfo | None = None,
    lenient: bool = False,
) -> BarFile:
    """Read a ``.csv`` file or an Angel One ``.json`` candle response."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return read_candles_json(p, symbol=symbol, timeframe=timeframe, tz=tz, lenient=lenient)
    return read_bars_csv(p, symbol=symbol, timeframe=timeframe, tz=tz, lenient=lenient)


def read_bars_csv(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    tz: tzinfo | None = None,
    lenient: bool = False,
) -> BarFile:
    """Bars from a CSV file; see the module docstring for the layouts understood."""
    p = Path(path)
    try:
        handle = p.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataError("the file is empty; a header row was expected", file=str(p))
        cols = _columns(header, p)
        rows = ((reader.line_num, row) for row in reader if row)
        return _read_rows(p, _layout(cols), cols, rows, symbol, timeframe, tz, lenient)


def read_candles_json(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    tz: tzinfo | None = None,
    lenient: bool = False,
) -> BarFile:
    """Bars from an Angel One ``getCandleData`` response saved as JSON.

    Candles are ``[timestamp, open, high, low, close, volume]``; the "line" in a message is
    the candle's 1-based position in ``data``.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg}", file=str(p), line=e.lineno) from None
    candles = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(candles, list):
        raise DataError("expected a list of candles under 'data'", file=str(p))
    cols = _Columns(0, None, (1, 2, 3, 4), 5, None, None, 5, _JSON_NAMES)
    rows = (
        (i, [str(v) for v in c] if isinstance(c, list) else [])
        for i, c in enumerate(candles, start=1)
    )
    return _read_rows(p, "Angel One getCandleData JSON", cols, rows, symbol, timeframe, tz, lenient)


_JSON_NAMES = ("timestamp", "open", "high", "low", "close", "volume")


def _columns(header: Sequence[str], path: Path) -> _Columns:
    names = tuple(h.strip().lower() for h in header)
    index = {n: i for i, n in enumerate(names)}
    time_col = next((index[n] for n in _TIME_NAMES if n in index), None)
    missing = [n for n in _PRICES if n not in index]
    if time_col is None or missing:
        want = "a time column (ts, timestamp, date or datetime)" if time_col is None else ""
        want += (" and " if want and missing else "") + (
            f"price columns {', '.join(missing)}" if missing else ""
        )
        raise DataError(f"header {','.join(header)} lacks {want}", file=str(path), line=1)
    clock = index.get("time") if names[time_col] == "date" else None
    return _Columns(
        time=time_col,
        clock=clock,
        prices=(index["open"], index["high"], index["low"], index["close"]),
        volume=index.get("volume"),
        oi=index.get("oi", index.get("open_interest")),
        symbol=index.get("symbol"),
        width=len(names),
        names=names,
    )


def _layout(cols: _Columns) -> str:
    first = cols.names[cols.time]
    if cols.symbol is not None:
        return "bars with a symbol column (ts,symbol,...,open,high,low,close,volume)"
    return {
        "ts": "ts,open,high,low,close,volume",
        "timestamp": "timestamp,open,high,low,close,volume (Angel One style)",
        "date": "date,open,high,low,close,volume (daily, or Zerodha Kite style)",
    }.get(first, f"{first},open,high,low,close,volume")


def _read_rows(
    path: Path,
    layout: str,
    cols: _Columns,
    rows: Iterable[tuple[int, list[str]]],
    symbol: str | None,
    timeframe: Timeframe | None,
    tz: tzinfo | None,
    lenient: bool,
) -> BarFile:
    default_symbol = (symbol or symbol_from_name(path)).upper()
    wanted = symbol.upper() if symbol else None
    parsed: list[tuple[str, int, bool, tuple[float, float, float, float], int, int | None]] = []
    result = BarFile(path, layout, Timeframe.M1, False, {})
    for line, row in rows:
        result.rows += 1
        try:
            rec = _parse_row(row, cols, tz, default_symbol)
        except _RowError as e:
            if not lenient:
                raise DataError(str(e), file=str(path), line=line) from None
            _note_bad_row(result, f"{path}:{line}: {e}")
            continue
        if cols.symbol is not None and wanted is not None and rec[0].upper() != wanted:
            result.skipped_other_symbols += 1
            continue
        parsed.append(rec)
    tf, inferred = _timeframe(parsed, timeframe, path)
    result.timeframe, result.timeframe_inferred = tf, inferred
    for sym, ts, _daily, (o, h, lo, c), v, oi in parsed:
        result.bars.setdefault(sym, []).append(make_bar(sym, tf, ts, o, h, lo, c, v, oi))
    return result


def symbol_from_name(path: Path) -> str:
    """``nifty_1m_2024.csv`` -> ``NIFTY``, ``india_vix_daily_2012.csv`` -> ``INDIA_VIX``."""
    words = []
    for word in path.stem.split("_"):
        if not word or word[0].isdigit() or word.lower() in ("daily", "intraday", "minute"):
            break
        words.append(word)
    return "_".join(words) or path.stem


def _note_bad_row(result: BarFile, message: str) -> None:
    result.rejected[DataIssue.BAD_ROW] += 1
    log.info("row rejected [bad_row]: {}", message)
    if len(result.problems) < _MAX_PROBLEMS:
        result.problems.append(message)


def _parse_row(
    row: list[str], cols: _Columns, tz: tzinfo | None, default_symbol: str
) -> tuple[str, int, bool, tuple[float, float, float, float], int, int | None]:
    if len(row) < cols.width:
        raise _RowError(
            cols.names[min(len(row), cols.width - 1)],
            f"the row has {len(row)} fields; the header has {cols.width}",
        )
    text = row[cols.time]
    if cols.clock is not None:
        text = f"{text.strip()}T{row[cols.clock].strip()}"
    fast = _fast_time(text)
    ts, daily = (
        (fast, False) if fast is not None else _parse_time(text.strip(), cols.names[cols.time], tz)
    )
    io, ih, il, ic = cols.prices
    try:  # the common case in one go; any trouble is re-read cell by cell for the message
        prices = (float(row[io]), float(row[ih]), float(row[il]), float(row[ic]))
        if not math.isfinite(prices[0] + prices[1] + prices[2] + prices[3]):
            raise ValueError
    except ValueError:
        names = cols.names
        prices = (
            _number(row[io], names[io]),
            _number(row[ih], names[ih]),
            _number(row[il], names[il]),
            _number(row[ic], names[ic]),
        )
    volume = 0 if cols.volume is None else _whole(row[cols.volume], "volume")
    oi = None if cols.oi is None or not row[cols.oi].strip() else _whole(row[cols.oi], "oi")
    sym = row[cols.symbol].strip() if cols.symbol is not None else default_symbol
    return sym, ts, daily, prices, volume, oi


# "YYYY-MM-DD" + offset -> that midnight in UTC ns; filled as files are read.
_MIDNIGHTS: dict[str, int] = {}


def _fast_time(text: str) -> int | None:
    """UTC ns of ``YYYY-MM-DDTHH:MM:SS+HH:MM`` (or with a space), else None (slow path)."""
    if len(text) != 25 or text[10] not in "T ":
        return None
    key = text[:10] + text[19:]
    base = _MIDNIGHTS.get(key)
    try:
        if base is None:
            midnight = datetime.fromisoformat(f"{text[:10]}T00:00:00{text[19:]}")
            if midnight.tzinfo is None:
                return None
            base = _MIDNIGHTS[key] = to_ns(midnight)
        h, m, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    except ValueError:
        return None
    if h > 23 or m > 59 or s > 59 or text[13] != ":" or text[16] != ":":
        return None
    return base + (h * 3600 + m * 60 + s) * NANOS


def _parse_time(text: str, name: str, tz: tzinfo | None) -> tuple[int, bool]:
    """UTC nanoseconds and whether the value was a bare date (a daily bar)."""
    if not text:
        raise _RowError(name, "is empty; a timestamp was expected")
    if text.isdigit():
        if len(text) == 10:
            return int(text) * NANOS, False
        if len(text) == 13:
            return int(text) * 1_000_000, False
        raise _RowError(name, f"'{text}' is neither epoch seconds (10 digits) nor milliseconds")
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return to_ns(datetime.combine(d, time(), tzinfo=IST)), True
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError(name, f"'{text}' is not an ISO 8601 date or time") from None
    if dt.tzinfo is None:
        if tz is None:
            raise _RowError(
                name,
                f"'{text}' has no UTC offset; name the zone the file is written in "
                "(e.g. --tz Asia/Kolkata); it is never guessed",
            )
        dt = dt.replace(tzinfo=tz)
    if dt.microsecond == 0:
        return int(dt.timestamp()) * NANOS, False
    return to_ns(dt), False


def _number(text: str, name: str) -> float:
    t = text.strip()
    if not t:
        raise _RowError(name, "is empty; a number was expected")
    try:
        value = float(t)
    except ValueError:
        raise _RowError(name, f"'{t}' is not a number") from None
    if not math.isfinite(value):
        raise _RowError(name, f"'{t}' is not a finite number")
    return value


def _whole(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    value = _number(text, name)
    if value != int(value):
        raise _RowError(name, f"'{text.strip()}' is not a whole number")
    return int(value)


def _timeframe(
    parsed: Sequence[tuple[str, int, bool, object, int, object]],
    given: Timeframe | None,
    path: Path,
) -> tuple[Timeframe, bool]:
    if given is not None:
        return given, False
    if parsed and all(rec[2] for rec in parsed):
        return Timeframe.D1, True
    return infer_timeframe((rec[1] for rec in parsed), path), True


def infer_timeframe(ts_ns: Iterable[int], path: Path | None = None) -> Timeframe:
    """The timeframe whose length is the most common spacing between consecutive bars."""
    spacing: Counter[int] = Counter()
    prev: int | None = None
    for ts in _sorted_unique(ts_ns):
        if prev is not None:
            spacing[(ts - prev) // NANOS] += 1
        prev = ts
    for seconds, _ in spacing.most_common(3):
        if seconds in _SPACINGS:
            return _SPACINGS[seconds]
    seen = ", ".join(f"{s} s" for s, _ in spacing.most_common(3)) or "fewer than two bars"
    raise DataError(
        f"cannot tell the bars' timeframe (most common spacing: {seen}); pass --tf",
        file=str(path) if path else None,
    )


def _sorted_unique(values: Iterable[int]) -> Iterator[int]:
    return iter(sorted(set(values)))
