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

Input is bounded (``bounds``): a file that is not UTF-8 (UTF-16, binary), a line over
64 KiB, a field the ``csv`` module refuses, a JSON document nested too deeply or holding a
number of thousands of digits is refused with the file and line; a time outside the
years 1990-2099, a timestamp in digits that are not ASCII (``²²²²``), a time of day with
a sign in it (``10:-9:00``), a price beyond 1e9 or a volume beyond 1e15 is a bad row.
Rows may come in any order: each symbol's bars are sorted by time (stable) before they
are returned, and ``BarFile.reordered`` counts the rows that were out of order.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import IO

from engine.data.bounds import (
    EARLIEST_NS,
    FIRST_YEAR,
    LAST_YEAR,
    LATEST_NS,
    MAX_LINE_CHARS,
    MAX_PRICE,
    MAX_VOLUME,
    PRICE_LIMIT,
    VOLUME_LIMIT,
    shown,
)
from engine.errors import DataError
from engine.logs import category_logger
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

log = category_logger("data")

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
    reordered: int = 0  # rows earlier than the row before them (same symbol); sorted

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
    _refuse_other_encodings(p)
    try:
        handle = p.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    with handle:
        reader = csv.reader(_bounded_lines(handle, p))
        try:
            header = next(reader, None)
            if header is None:
                raise DataError("the file is empty; a header row was expected", file=str(p))
            cols = _columns(header, p)
            rows = ((reader.line_num, row) for row in reader if row)
            return _read_rows(p, _layout(cols), cols, rows, symbol, timeframe, tz, lenient)
        except csv.Error as e:
            raise DataError(_csv_problem(e), file=str(p), line=reader.line_num) from None
        except OSError as e:
            raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None


_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _refuse_other_encodings(path: Path) -> None:
    """A UTF-16 or UTF-32 byte-order mark: say so on line 1 instead of decoding garbage."""
    try:
        with path.open("rb") as f:
            start = f.read(4)
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(path)) from None
    for bom, name in _BOMS:
        if start[: len(bom)] == bom:
            raise DataError(
                f"the file is {name} text (it starts with a {name} byte-order mark); "
                "save it as UTF-8 and read it again",
                file=str(path),
                line=1,
            )


def _bounded_lines(handle: IO[str], path: Path) -> Iterator[str]:
    """The file's lines for the ``csv`` reader, each at most ``MAX_LINE_CHARS`` long."""
    no = 0
    while True:
        try:
            line = handle.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        if not line:
            return
        no += 1
        if "\0" in line:
            raise DataError(
                "the line holds NUL bytes: a binary file, or UTF-16 text without a "
                "byte-order mark; save it as UTF-8 CSV",
                file=str(path),
                line=no,
            )
        if len(line) > MAX_LINE_CHARS:
            raise DataError(
                f"the line is longer than {MAX_LINE_CHARS} characters; a bar file's lines "
                "are short: this is not a bar file",
                file=str(path),
                line=no,
            )
        yield line


def _not_utf8(path: Path) -> DataError:
    """Where the first byte that is not UTF-8 is (line and column), found in the bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                at = e.start
                line += block.count(b"\n", 0, at)
                column = at - (block.rfind(b"\n", 0, at) + 1) + 1
                if block.rfind(b"\n", 0, at) < 0 and line == 1:
                    column += offset
                return DataError(
                    f"the file is not UTF-8 text (byte 0x{block[at]:02x} at column {column}); "
                    "save it as UTF-8 and read it again",
                    file=str(path),
                    line=line,
                )
            line += block.count(b"\n")
            offset = len(block) - (block.rfind(b"\n") + 1)
    return DataError("the file is not UTF-8 text; save it as UTF-8", file=str(path))


def _csv_problem(e: csv.Error) -> str:
    text = str(e)
    if "NUL" in text:
        return (
            "the line holds NUL bytes: a binary file, or UTF-16 text without a byte-order "
            "mark; save it as UTF-8 CSV"
        )
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit()} characters; not a bar file"
    return f"not a readable CSV line ({text})"


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
    _refuse_other_encodings(p)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    doc = _load_json(data, p)
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
_LONG_NUMBER = re.compile(rb"[0-9]{300,}")


def _load_json(data: bytes, path: Path) -> object:
    """The JSON document, or DataError with the line for every way it can be unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8",
            file=str(path),
            line=line,
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg}", file=str(path), line=e.lineno) from None
    except RecursionError:
        raise DataError(
            "the JSON is nested too deeply to be a candle response",
            file=str(path),
            line=_deep_line(text),
        ) from None
    except ValueError:  # an integer of more digits than Python converts
        m = _LONG_NUMBER.search(data)
        line = data.count(b"\n", 0, m.start()) + 1 if m else None
        raise DataError(
            "a number has thousands of digits; not a candle response", file=str(path), line=line
        ) from None


def _deep_line(text: str, limit: int = 200) -> int | None:
    """The line where brackets first nest ``limit`` deep (strings skipped)."""
    depth, line, in_string, escaped = 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        elif in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth >= limit:
                return line
        elif ch in "]}":
            depth -= 1
    return None


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
        raise DataError(
            f"header {shown(','.join(header), 80)} lacks {want}", file=str(path), line=1
        )
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
    for sym, bars in result.bars.items():
        late = sum(1 for a, b in zip(bars, bars[1:], strict=False) if b.ts_event < a.ts_event)
        if late:
            result.reordered += late
            bars.sort(key=_start)  # stable: rows with one start keep their file order
            log.info("{}: {} rows of {} were out of time order; sorted", path, late, sym)
    return result


def _start(bar: Bar) -> int:
    return bar.ts_event


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
    top = MAX_PRICE
    try:  # the common case in one go; any trouble is re-read cell by cell for the message
        prices = (float(row[io]), float(row[ih]), float(row[il]), float(row[ic]))
        o, h, lo, c = prices
        if not (-top <= o <= top and -top <= h <= top and -top <= lo <= top and -top <= c <= top):
            raise ValueError  # NaN fails every comparison
    except ValueError:
        names = cols.names
        prices = (
            _number(row[io], names[io], top),
            _number(row[ih], names[ih], top),
            _number(row[il], names[il], top),
            _number(row[ic], names[ic], top),
        )
    volume = 0 if cols.volume is None else _whole(row[cols.volume], "volume")
    oi = None if cols.oi is None or not row[cols.oi].strip() else _whole(row[cols.oi], "oi")
    sym = row[cols.symbol].strip() if cols.symbol is not None else default_symbol
    return sym, ts, daily, prices, volume, oi


# "YYYY-MM-DD" + offset -> that midnight in UTC ns; filled as files are read.
_MIDNIGHTS: dict[str, int] = {}


_FAST_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}", re.ASCII
)


def _fast_time(text: str) -> int | None:
    """UTC ns of ``YYYY-MM-DDTHH:MM:SS+HH:MM`` (or with a space) in ASCII digits within the
    years the engine handles, else None (the slow path decides, and says what is wrong)."""
    if len(text) != 25 or not _FAST_TIME.fullmatch(text):
        return None
    key = text[:10] + text[19:]
    base = _MIDNIGHTS.get(key)
    if base is None:
        if not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
            return None
        try:
            midnight = datetime.fromisoformat(f"{text[:10]}T00:00:00{text[19:]}")
        except ValueError:
            return None
        base = _MIDNIGHTS[key] = to_ns(midnight)
    h, m, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if h > 23 or m > 59 or s > 59:
        return None
    return base + (h * 3600 + m * 60 + s) * NANOS


def _parse_time(text: str, name: str, tz: tzinfo | None) -> tuple[int, bool]:
    """UTC nanoseconds and whether the value was a bare date (a daily bar)."""
    if not text:
        raise _RowError(name, "is empty; a timestamp was expected")
    if not text.isascii():  # int() and fromisoformat() accept other digits ('²', '٣')
        raise _RowError(name, f"{shown(text, 40)} is not an ISO 8601 date or time")
    if text.isdigit():
        return _epoch(text, name), False
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            if not FIRST_YEAR <= d.year <= LAST_YEAR:
                raise _RowError(name, f"{shown(text, 40)} is {_outside_years()}")
            return to_ns(datetime.combine(d, time(), tzinfo=IST)), True
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError(name, f"{shown(text, 40)} is not an ISO 8601 date or time") from None
    if not FIRST_YEAR <= dt.year <= LAST_YEAR:
        raise _RowError(name, f"{shown(text, 40)} is {_outside_years()}")
    if dt.tzinfo is None:
        if tz is None:
            raise _RowError(
                name,
                f"{shown(text, 40)} has no UTC offset; name the zone the file is written in "
                "(e.g. --tz Asia/Kolkata); it is never guessed",
            )
        dt = dt.replace(tzinfo=tz)
    if dt.microsecond == 0:
        return int(dt.timestamp()) * NANOS, False
    return to_ns(dt), False


def _epoch(text: str, name: str) -> int:
    """UTC ns of Unix seconds (10 ASCII digits) or milliseconds (13)."""
    if len(text) not in (10, 13):
        raise _RowError(
            name, f"{shown(text, 40)} is neither epoch seconds (10 digits) nor milliseconds"
        )
    ns = int(text) * (NANOS if len(text) == 10 else 1_000_000)
    if not EARLIEST_NS <= ns < LATEST_NS:
        raise _RowError(name, f"{shown(text, 40)} is {_outside_years()}")
    return ns


def _outside_years() -> str:
    return f"outside the years the engine handles ({FIRST_YEAR}-{LAST_YEAR})"


def _number(text: str, name: str, limit: float) -> float:
    """A finite number no larger than ``limit`` in absolute value."""
    t = text.strip()
    if not t:
        raise _RowError(name, "is empty; a number was expected")
    try:
        value = float(t)
    except ValueError:
        raise _RowError(name, f"{shown(t, 40)} is not a number") from None
    if not math.isfinite(value):
        raise _RowError(name, f"{shown(t, 40)} is not a finite number")
    if abs(value) > limit:
        raise _RowError(
            name,
            f"{shown(t, 40)} is beyond the largest the engine accepts "
            f"({PRICE_LIMIT if limit == MAX_PRICE else VOLUME_LIMIT})",
        )
    return value


def _whole(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:  # "12.0", "1e3", or not a number (the message says which)
        number = _number(text, name, MAX_VOLUME)
        if number != int(number):
            raise _RowError(name, f"{shown(text.strip(), 40)} is not a whole number") from None
        return int(number)
    if abs(value) > MAX_VOLUME:
        raise _RowError(
            name,
            f"{shown(text.strip(), 40)} is beyond the largest the engine accepts ({VOLUME_LIMIT})",
        )
    return value


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
