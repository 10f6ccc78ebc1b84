"""Where bars and ticks are kept: JSON Lines files under one root, plus a ring buffer.

Layout under ``root`` (``data/`` by default)::

    timeframes/NIFTY/1m.jsonl     one file per symbol and timeframe
    timeframes/NIFTY/1d.jsonl
    raw/NIFTY_20240101.jsonl      raw ticks, one file per symbol and IST trading date

A bar file starts with a header record naming its schema, symbol and timeframe; each
following line is one bar, compact so 58,000 bars load in a fraction of a second::

    {"schema":"engine.bars/1","symbol":"NIFTY","timeframe":"1m"}
    {"t":1704080700,"o":21727.75,"h":21737.35,"l":21701.8,"c":21712.0,"v":0}

``t`` is the bar's start in Unix seconds (UTC); ``oi`` (open interest) and ``f`` (1: a
filled bar) appear only when set. Tick lines hold ``t`` (local receive time) and ``x``
(exchange time) in Unix nanoseconds, ``p`` (last price), and ``b``, ``a``, ``q``, ``oi``
when known. Torn last lines are handled as ``_jsonl`` describes.

**Every valid bar once, in time order.** ``BarStore.append`` takes the series file's
exclusive lock *before* it reads anything of the file, then merges the new bars in by
their start. A bar whose start is already stored is skipped and counted (the stored bar
is kept; one with other values is counted apart); bars later than every stored one are
appended; bars that fall before or between stored ones make the whole file be rewritten
in time order (a temporary file synced and renamed over it, under the same lock). So a
second import of a file stores nothing, older history imported after newer history is
all stored, a file in reverse order stores every bar, and two imports running at once
store each bar exactly once.

**Damage.** A stored line that is not a valid bar record (not JSON, a missing field, a
start outside the years in ``bounds``, a price that is not a positive number up to
``bounds.MAX_PRICE``, NaN, ``1e400``, a second bar with the same start and other values)
can only come from outside. ``load`` stops with the file and line, or skips it with
``skip_corrupt=True``. ``append`` adds nothing to a damaged file (a ``DataError`` names
the line) rather than guess which bars it holds. ``repair`` (``engine data repair``)
moves damaged lines to ``NAME.damaged-<UTC time>`` beside the file, so nothing is
deleted, and rewrites the file in time order.

**Files.** Symbols are checked before a file name is built from one (``bounds``), and
every read and write goes through ``engine.safe_files``: no link below the root is
followed, rewrites are atomic, temporary names are random. Recent bars for the strategy
live in memory in a ``RingBuffer``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from engine.data._jsonl import (
    RECORD_ERRORS,
    append_lines,
    last_line,
    parse_jsonl,
    record_problem,
    repair_tail,
)
from engine.data.bounds import (
    EARLIEST_S,
    FIRST_YEAR,
    LAST_YEAR,
    LATEST_S,
    MAX_PRICE,
    MAX_VOLUME,
    PRICE_LIMIT,
    VOLUME_LIMIT,
    check_symbol,
    shown,
    symbol_problem,
)
from engine.errors import DataError, FileAccessError
from engine.model.enums import Timeframe
from engine.model.market import BAR_SLOT_SETTERS, NANOS, Bar, Tick, ist_date_of
from engine.safe_files import Folder, open_folder

__all__ = [
    "BAR_SCHEMA",
    "TICK_SCHEMA",
    "AppendReport",
    "BarStore",
    "RepairReport",
    "RingBuffer",
    "StoreRead",
    "TickStore",
    "load_bar_file",
]

BAR_SCHEMA = "engine.bars/1"
TICK_SCHEMA = "engine.ticks/1"
DAMAGED_SUFFIX = ".damaged-"
T = TypeVar("T")


@dataclass(slots=True)
class StoreRead(Generic[T]):
    """What a load returned and every warning about the file (torn tail, skipped lines)."""

    items: list[T]
    path: Path
    warnings: list[str] = field(default_factory=list)
    torn_line: int | None = None
    corrupt_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AppendReport:
    written: int
    skipped: int  # bars whose start was already stored (the stored bar is kept)
    differing: int = 0  # of the skipped, those whose stored bar has other values


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What ``repair`` found in one series file and did (or would do, in a dry run)."""

    path: Path
    kept: int  # bars in the file afterwards
    set_aside: int  # damaged lines moved to ``side_file``
    duplicates: int  # lines repeating a stored bar exactly, dropped
    reordered: bool  # the bars were not in time order
    header_rebuilt: bool = False  # the first line was not the file's header
    side_file: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.set_aside or self.duplicates or self.reordered or self.header_rebuilt)


@dataclass(slots=True)
class _Scan:
    """A bar file's body, line by line: valid records by start, and damaged lines."""

    records: dict[int, bytes] = field(default_factory=dict)  # start (s) -> line
    lines: dict[int, int] = field(default_factory=dict)  # start (s) -> line number
    damaged: list[tuple[int, bytes, str]] = field(default_factory=list)
    duplicates: int = 0
    in_order: bool = True
    last: int | None = None


def _header_line(symbol: str, tf: Timeframe) -> str:
    return f'{{"schema":"{BAR_SCHEMA}","symbol":"{symbol}","timeframe":"{tf.value}"}}'


class BarStore:
    """Bars per symbol and timeframe under ``root/timeframes``."""

    def __init__(self, root: str | Path = "data", *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def bar_path(self, symbol: str, timeframe: Timeframe) -> Path:
        return self.root / "timeframes" / check_symbol(symbol) / f"{timeframe.value}.jsonl"

    # ------------------------------------------------------------------ listing
    def series(self) -> list[tuple[str, Timeframe]]:
        """Every (symbol, timeframe) with a file, sorted. Links are not followed."""
        found = []
        folder = _walk(self.root, "timeframes")
        if folder is None:
            return []
        with folder:
            for name in folder.names():
                if symbol_problem(name) is not None or folder.kind(name) != "folder":
                    continue
                with folder.child(name) as inner:
                    for file in inner.names():
                        tf = _timeframe_of(file)
                        if tf is not None and inner.kind(file) == "file":
                            found.append((name, tf))
        return found

    def last_ts(self, symbol: str, timeframe: Timeframe) -> int | None:
        """Start (UTC ns) of the latest valid bar stored, or None."""
        items = self.load(symbol, timeframe, skip_corrupt=True).items
        return items[-1].ts_event if items else None

    # ------------------------------------------------------------------ writing
    def append(self, bars: Iterable[Bar]) -> AppendReport:
        """Merge bars (any symbols, timeframes and order) into their series files.

        Every bar is checked and every symbol validated before any file is touched.
        """
        groups: dict[tuple[str, Timeframe], dict[int, str]] = {}
        repeated = 0
        for bar in bars:
            lines = groups.get((bar.symbol, bar.timeframe))
            if lines is None:
                lines = groups[(bar.symbol, bar.timeframe)] = {}
                check_symbol(bar.symbol)
            t, line = _bar_line(bar)
            if t in lines:
                repeated += 1
            else:
                lines[t] = line
        written, skipped, differing = 0, repeated, 0
        for (symbol, tf), lines in groups.items():
            w, s, d = self._merge(symbol, tf, sorted(lines.items()))
            written, skipped, differing = written + w, skipped + s, differing + d
        return AppendReport(written, skipped, differing)

    def _merge(
        self, symbol: str, tf: Timeframe, new: list[tuple[int, str]]
    ) -> tuple[int, int, int]:
        name, path = f"{tf.value}.jsonl", self.bar_path(symbol, tf)
        convert = _bar_converter(symbol, tf)
        with (
            open_folder(self.root, "timeframes", symbol, create=True) as folder,
            folder.open_locked(name) as f,
        ):
            size = repair_tail(f, path, f.seek(0, os.SEEK_END), _readable(convert))
            if size == 0:
                self._write(f, 0, [_header_line(symbol, tf)] + [line for _, line in new], path)
                return len(new), 0, 0
            self._check_header(f, path, symbol, tf)
            last = _last_start(f, size, convert)
            if last is not None and new[0][0] > last:  # the common case: later bars
                self._write(f, size, [line for _, line in new], path)
                return len(new), 0, 0
            f.seek(0)
            data = f.read(size)
            scan = _scan(data[data.index(b"\n") + 1 :], convert, first_line=2)
            if scan.damaged:
                raise self._damaged(path, scan)
            fresh = [(t, line) for t, line in new if t not in scan.records]
            differing = sum(
                1 for t, line in new if t in scan.records and scan.records[t] != line.encode()
            )
            if fresh and scan.in_order and (scan.last is None or fresh[0][0] > scan.last):
                self._write(f, size, [line for _, line in fresh], path)
            elif fresh:
                merged = {t: line.decode("utf-8") for t, line in scan.records.items()}
                merged.update(fresh)
                body = [_header_line(symbol, tf)] + [merged[t] for t in sorted(merged)]
                folder.write_atomic(name, "".join(line + "\n" for line in body), fsync=True)
            return len(fresh), len(new) - len(fresh), differing

    def _write(self, f: IO[bytes], at: int, lines: list[str], path: Path) -> None:
        try:
            f.seek(at)
            f.write("".join(line + "\n" for line in lines).encode("utf-8"))
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        except OSError as e:  # a full disk, say: nothing half written is left behind
            try:
                f.truncate(at)
            except OSError:
                pass  # a torn tail at worst, which the next append or load handles
            raise FileAccessError(f"cannot write {path}: {e.strerror}", path=str(path)) from None

    def _check_header(self, f: IO[bytes], path: Path, symbol: str, tf: Timeframe) -> None:
        f.seek(0)
        first = f.read(4096).split(b"\n", 1)[0]
        problem = _header_problem(first, symbol, tf)
        if problem is not None:
            raise DataError(
                f"{problem}; nothing was added: {self._repair_hint()}", file=str(path), line=1
            )

    def _damaged(self, path: Path, scan: _Scan) -> DataError:
        no, raw, reason = scan.damaged[0]
        count = len(scan.damaged)
        return DataError(
            f"the store file has {count} damaged line{'s' if count > 1 else ''}, the first "
            f"here ({reason}): {shown(raw)}; nothing was added, so no bar is skipped or "
            f"stored twice: {self._repair_hint()}, then import again",
            file=str(path),
            line=no,
        )

    def _repair_hint(self) -> str:
        return (
            f"run 'engine data repair --root {self.root}' to move damaged lines aside "
            "(nothing is deleted) and rewrite the file in time order"
        )

    # ------------------------------------------------------------------ reading
    def load(
        self, symbol: str, timeframe: Timeframe, *, skip_corrupt: bool = False
    ) -> StoreRead[Bar]:
        """Every bar stored for the series (an empty list when there is no file)."""
        path = self.bar_path(symbol, timeframe)
        name = path.name
        folder = _walk(self.root, "timeframes", symbol)
        if folder is None:
            return StoreRead([], path)
        with folder:
            if folder.kind(name) is None:
                return StoreRead([], path)
            data = folder.read_bytes(name)
        hint = self._repair_hint() + ", or load with skip_corrupt=True"
        return _load_bytes(data, path, symbol, timeframe, skip_corrupt, hint)

    # ------------------------------------------------------------------ repair
    def repair(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> RepairReport:
        """Move damaged lines of one series file aside and rewrite it in time order."""
        path = self.bar_path(symbol, timeframe)
        name = path.name
        folder = _walk(self.root, "timeframes", symbol)
        if folder is None:
            return RepairReport(path, 0, 0, 0, False)
        with folder:
            if folder.kind(name) is None:
                return RepairReport(path, 0, 0, 0, False)
            with folder.open_locked(name, create=False) as f:
                return self._repair_locked(folder, f, path, symbol, timeframe, dry_run, now)

    def _repair_locked(
        self,
        folder: Folder,
        f: IO[bytes],
        path: Path,
        symbol: str,
        tf: Timeframe,
        dry_run: bool,
        now: datetime | None,
    ) -> RepairReport:
        data = f.read()
        first, _, rest = data.partition(b"\n")
        problem = _header_problem(first, symbol, tf)
        if problem is not None and _is_header(first):
            raise DataError(f"{problem}; repair leaves the file alone", file=str(path), line=1)
        has_header = problem is None
        convert = _bar_converter(symbol, tf)
        scan = _scan(rest if has_header else data, convert, first_line=2 if has_header else 1)
        report = RepairReport(
            path,
            len(scan.records),
            len(scan.damaged),
            scan.duplicates,
            not scan.in_order,
            header_rebuilt=not has_header,
        )
        if not report.changed or dry_run:
            return report
        side = None
        if scan.damaged:
            stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = b"".join(raw + b"\n" for _, raw, _ in scan.damaged)
            side = folder.write_atomic(f"{path.name}{DAMAGED_SUFFIX}{stamp}", kept, fsync=True)
        body = [_header_line(symbol, tf).encode()]
        body += [scan.records[t] for t in sorted(scan.records)]
        folder.write_atomic(path.name, b"".join(line + b"\n" for line in body), fsync=True)
        return dataclasses.replace(report, side_file=side)


def _walk(root: Path, *parts: str) -> Folder | None:
    """``root/parts...`` opened without following links below ``root``; None if missing."""
    if not os.path.lexists(root):
        return None
    folder = open_folder(root)
    try:
        for part in parts:
            if folder.kind(part) is None:
                folder.close()
                return None
            inner = folder.child(part)
            folder.close()
            folder = inner
    except BaseException:
        folder.close()
        raise
    return folder


def _timeframe_of(file_name: str) -> Timeframe | None:
    if not file_name.endswith(".jsonl"):
        return None
    try:
        return Timeframe(file_name[: -len(".jsonl")])
    except ValueError:
        return None


def _is_header(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except RECORD_ERRORS:
        return False
    return isinstance(record, dict) and "schema" in record


def _header_problem(line: bytes, symbol: str, tf: Timeframe) -> str | None:
    try:
        header: Any = json.loads(line)
    except RECORD_ERRORS:
        header = None
    if not isinstance(header, dict) or "schema" not in header:
        return f"the first line is not a bar file header: {shown(line)}"
    if header.get("schema") != BAR_SCHEMA:
        return f"the header names schema {shown(str(header.get('schema')), 40)}, not {BAR_SCHEMA}"
    if (header.get("symbol"), header.get("timeframe")) != (symbol, tf.value):
        return (
            f"the header says symbol {shown(str(header.get('symbol')), 40)} timeframe "
            f"{shown(str(header.get('timeframe')), 20)}; {symbol!r} {tf.value!r} was expected"
        )
    return None


def _readable(convert: Callable[[Any], Bar]) -> Callable[[bytes], bool]:
    """Whether a last line without its newline is whole: a header or a valid bar."""

    def check(line: bytes) -> bool:
        try:
            record = json.loads(line)
            if isinstance(record, dict) and "schema" in record:
                return True
            convert(record)
        except RECORD_ERRORS:
            return False
        return True

    return check


def _last_start(f: IO[bytes], size: int, convert: Callable[[Any], Bar]) -> int | None:
    """Start (s) of the bar on the file's last line; None if it is a header or damaged."""
    _, line = last_line(f, size)
    try:
        return convert(json.loads(line)).ts_event // NANOS
    except RECORD_ERRORS:
        return None


def _scan(data: bytes, convert: Callable[[Any], Bar], *, first_line: int) -> _Scan:
    """Every line of a bar file's body (``data`` starts at line ``first_line``); a last
    line without its newline is judged like any other."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    scan = _Scan()
    records = _records(lines)
    for index, raw in enumerate(lines):
        if not raw.strip():
            continue
        no = first_line + index
        try:
            record = records[index] if records is not None else json.loads(raw)
            t = convert(record).ts_event // NANOS
        except RECORD_ERRORS as e:
            scan.damaged.append((no, raw, record_problem(e)))
            continue
        if t in scan.records:
            if scan.records[t] == raw:
                scan.duplicates += 1
                scan.in_order = False
            else:
                scan.damaged.append(
                    (no, raw, f"a second bar with the start of line {scan.lines[t]}")
                )
            continue
        if scan.last is not None and t < scan.last:
            scan.in_order = False
        scan.records[t], scan.lines[t] = raw, no
        scan.last = t if scan.last is None else max(scan.last, t)
    return scan


def _records(lines: list[bytes]) -> list[Any] | None:
    """Every line parsed in one ``json.loads`` call (blank ones as None), or None when any
    line is not JSON (the caller then parses line by line to say which)."""
    body = [line if line.strip() else b"null" for line in lines]
    try:
        records = json.loads(b"[" + b",".join(body) + b"]")
    except RECORD_ERRORS:
        return None
    return records if isinstance(records, list) and len(records) == len(lines) else None


def load_bar_file(
    path: Path, symbol: str, timeframe: Timeframe, *, skip_corrupt: bool = False
) -> StoreRead[Bar]:
    """Read one bar file; its header must agree with ``symbol`` and ``timeframe``."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(path)) from None
    hint = "fix or remove the line, or load with skip_corrupt=True"
    return _load_bytes(data, Path(path), symbol, timeframe, skip_corrupt, hint)


def _load_bytes(
    data: bytes, path: Path, symbol: str, timeframe: Timeframe, skip_corrupt: bool, hint: str
) -> StoreRead[Bar]:
    read = parse_jsonl(
        data, path, _bar_converter(symbol, timeframe), skip_corrupt=skip_corrupt, hint=hint
    )
    header = read.header or {}
    if header and (header.get("symbol"), header.get("timeframe")) != (symbol, timeframe.value):
        raise DataError(
            f"the header says symbol {header.get('symbol')!r} timeframe "
            f"{header.get('timeframe')!r}; {symbol!r} {timeframe.value!r} was expected",
            file=str(path),
            line=1,
        )
    items = read.items
    if any(a.ts_event >= b.ts_event for a, b in zip(items, items[1:], strict=False)):
        items = _in_time_order(items)
        message = (
            f"{path}: bars out of time order or repeated; returned in order, the first bar "
            f"of each start kept ({len(read.items) - len(items)} left out); 'engine data "
            "repair' rewrites the file in order"
        )
        read.warnings.append(message)
    return StoreRead(items, path, read.warnings, read.torn_line, read.corrupt_lines)


def _in_time_order(bars: list[Bar]) -> list[Bar]:
    seen: set[int] = set()
    out = []
    for bar in sorted(bars, key=lambda b: b.ts_event):
        if bar.ts_event not in seen:
            seen.add(bar.ts_event)
            out.append(bar)
    return out


def _bar_converter(symbol: str, timeframe: Timeframe) -> Callable[[Any], Bar]:
    """Record -> Bar, the loader's inner loop; raises on a record outside ``bounds``.

    Bars are built through the slot setters (no frozen ``__setattr__`` detour) with every
    setter bound to a local name: this is what keeps 58,000 bars under half a second.
    Same result as ``Bar(...)``.
    """
    new, n = object.__new__, NANOS
    s_sym, s_tf, s_ts, s_o, s_h, s_l, s_c, s_v, s_oi, s_f, s_init = BAR_SLOT_SETTERS
    lo_t, hi_t, top, most = EARLIEST_S, LATEST_S, MAX_PRICE, MAX_VOLUME

    def convert(r: Any) -> Bar:
        t = r["t"]
        if t.__class__ is not int or not lo_t <= t < hi_t:
            raise ValueError(
                f"'t' {str(t)[:24]} is not a bar start in seconds from {FIRST_YEAR} to {LAST_YEAR}"
            )
        v = r["v"]
        o, h, lo, c = float(r["o"]), float(r["h"]), float(r["l"]), float(r["c"])
        if not (0.0 < o <= top and 0.0 < h <= top and 0.0 < lo <= top and 0.0 < c <= top):
            raise ValueError(f"a price is not a positive number up to {PRICE_LIMIT}")
        if v.__class__ is not int or not 0 <= v <= most:
            raise ValueError(f"'v' {str(v)[:24]} is not a whole number from 0 to {VOLUME_LIMIT}")
        b = new(Bar)
        s_sym(b, symbol)
        s_tf(b, timeframe)
        s_ts(b, t * n)
        s_o(b, o)
        s_h(b, h)
        s_l(b, lo)
        s_c(b, c)
        s_v(b, v)
        if len(r) == 6:
            s_oi(b, None)
            s_f(b, False)
        else:
            oi = r.get("oi")
            if oi is not None and (oi.__class__ is not int or not 0 <= oi <= most):
                raise ValueError(
                    f"'oi' {str(oi)[:24]} is not a whole number from 0 to {VOLUME_LIMIT}"
                )
            s_oi(b, oi)
            s_f(b, bool(r.get("f", False)))
        s_init(b, 0)
        return b

    return convert


def _bar_line(bar: Bar) -> tuple[int, str]:
    """The bar's start in seconds and its line; ValueError for a bar the store would not
    read back (every bar from validation passes)."""
    t, rest = divmod(bar.ts_event, NANOS)
    if rest:
        raise ValueError(f"bar start {bar.ts_event} ns is not a whole second")
    if not EARLIEST_S <= t < LATEST_S:
        raise ValueError(f"bar start {bar.ts_event} ns is outside {FIRST_YEAR}-{LAST_YEAR}")
    o, h, lo, c = bar.open, bar.high, bar.low, bar.close
    if not math.isfinite(o + h + lo + c):
        raise ValueError(f"bar at {bar.start_ist.isoformat()} has a non-finite price")
    if not (
        0 < o <= MAX_PRICE and 0 < h <= MAX_PRICE and 0 < lo <= MAX_PRICE and 0 < c <= MAX_PRICE
    ):
        raise ValueError(
            f"bar at {bar.start_ist.isoformat()} has a price outside 0 < price <= {PRICE_LIMIT}"
        )
    volume = int(bar.volume)
    if not 0 <= volume <= MAX_VOLUME or (bar.oi is not None and not 0 <= bar.oi <= MAX_VOLUME):
        raise ValueError(f"bar at {bar.start_ist.isoformat()} has a volume or oi out of range")
    o, h, lo, c = float(o), float(h), float(lo), float(c)
    line = f'{{"t":{t},"o":{o!r},"h":{h!r},"l":{lo!r},"c":{c!r},"v":{volume}'
    if bar.oi is not None:
        line += f',"oi":{int(bar.oi)}'
    if bar.filled:
        line += ',"f":1'
    return t, line + "}"


class TickStore:
    """Raw ticks per symbol and IST date under ``root/raw``."""

    def __init__(self, root: str | Path = "data", *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def tick_path(self, symbol: str, day: date) -> Path:
        return self.root / "raw" / f"{check_symbol(symbol)}_{day:%Y%m%d}.jsonl"

    def append(self, ticks: Iterable[Tick]) -> int:
        """Append ticks, each to the file of its symbol and IST date; returns the count."""
        groups: dict[tuple[str, str], list[str]] = {}
        for tick in ticks:
            name = self.tick_path(tick.symbol, ist_date_of(tick.ts_event)).name
            groups.setdefault((tick.symbol, name), []).append(_tick_line(tick))
        if not groups:
            return 0
        with open_folder(self.root, "raw", create=True) as folder:
            for (symbol, name), lines in groups.items():
                header = f'{{"schema":"{TICK_SCHEMA}","symbol":"{symbol}"}}'
                append_lines(folder, name, lines, header=header, fsync=self.fsync)
        return sum(len(v) for v in groups.values())

    def load(self, symbol: str, day: date, *, skip_corrupt: bool = False) -> StoreRead[Tick]:
        path = self.tick_path(symbol, day)
        folder = _walk(self.root, "raw")
        if folder is None:
            return StoreRead([], path)
        with folder:
            if folder.kind(path.name) is None:
                return StoreRead([], path)
            data = folder.read_bytes(path.name)

        def convert(r: Any) -> Tick:
            ltp = float(r["p"])
            if not 0.0 < ltp <= MAX_PRICE:
                raise ValueError(f"a price is not a positive number up to {PRICE_LIMIT}")
            return Tick(
                symbol,
                ltp,
                int(r["t"]),
                r.get("x"),
                r.get("b"),
                r.get("a"),
                int(r.get("q", 0)),
                r.get("oi"),
            )

        read = parse_jsonl(data, path, convert, skip_corrupt=skip_corrupt)
        return StoreRead(read.items, path, read.warnings, read.torn_line, read.corrupt_lines)


def _tick_line(tick: Tick) -> str:
    for value in (tick.ltp, tick.bid, tick.ask):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"tick of {tick.symbol} at {tick.ts_init} has a non-finite price")
    parts = [f'"t":{int(tick.ts_init)}']
    if tick.ts_exchange is not None:
        parts.append(f'"x":{int(tick.ts_exchange)}')
    parts.append(f'"p":{float(tick.ltp)!r}')
    for key, value in (("b", tick.bid), ("a", tick.ask)):
        if value is not None:
            parts.append(f'"{key}":{float(value)!r}')
    if tick.volume:
        parts.append(f'"q":{int(tick.volume)}')
    if tick.oi is not None:
        parts.append(f'"oi":{int(tick.oi)}')
    return "{" + ",".join(parts) + "}"


class RingBuffer(Generic[T]):
    """The last ``capacity`` items: O(1) append, ``[-1]`` is the newest, ``[0]`` the oldest."""

    __slots__ = ("_capacity", "_items", "_next", "_size")

    def __init__(self, capacity: int, items: Iterable[T] = ()) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1; it was {capacity}")
        self._capacity = capacity
        self._items: list[T | None] = [None] * capacity
        self._next = 0
        self._size = 0
        self.extend(items)

    @property
    def capacity(self) -> int:
        return self._capacity

    def append(self, item: T) -> None:
        self._items[self._next] = item
        self._next = (self._next + 1) % self._capacity
        if self._size < self._capacity:
            self._size += 1

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> T:
        size = self._size
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"ring buffer index out of range (holding {size} items)")
        return self._items[(self._next - size + index) % self._capacity]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[T]:
        for i in range(self._size):
            yield self[i]

    def to_list(self) -> list[T]:
        return list(self)

    def clear(self) -> None:
        self._items = [None] * self._capacity
        self._next = self._size = 0

    def __repr__(self) -> str:
        return f"RingBuffer(capacity={self._capacity}, size={self._size})"
