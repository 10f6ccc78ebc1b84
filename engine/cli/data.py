"""``engine data``: import, validate, report gaps in, repair and clean up market data.

    engine data import FILE [--symbol NIFTY] [--tf 1m] [--root DIR]   exit 1 when bars were rejected
    engine data validate FILE [--tf 1m]        exit 1 when any bar was rejected
    engine data gaps FILE [--sessions-from DAILY.csv]
    engine data repair [--root DIR] [--dry-run]
    engine data cleanup [--root DIR] [--dry-run] [--yes] [--intraday-days N] ...

Exit codes: 0 clean, 1 bars or rows were rejected (the rest was used), 2 the input or
the store could not be used (nothing was written). Times are shown in IST. Heavy imports
happen inside ``run`` so ``engine --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.data.csv_import import BarFile
    from engine.data.series import Series

_READ_OPTIONS = ("symbol", "tf", "tz", "lenient", "segment")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("import", help="validate a CSV/JSON bar file and append it to the store")
    _file_options(p)
    p.add_argument("--root", default="data", help="store folder (default: ./data)")
    p.add_argument("--fsync", action="store_true", help="fsync after writing (slower, safest)")
    p = sub.add_parser("validate", help="report what validation accepts, flags and rejects")
    _file_options(p)
    p = sub.add_parser("gaps", help="list gaps inside sessions, missing sessions, opening gaps")
    _file_options(p)
    p.add_argument(
        "--sessions-from",
        metavar="DAILY_CSV",
        help="a daily file whose dates are the sessions expected (for years the calendar "
        "does not cover, e.g. nifty_daily_2005_2026.csv)",
    )
    p.add_argument("--limit", type=int, default=50, help="gaps to list (default 50)")
    p.add_argument("--open-gap-pct", type=float, default=2.0, help="opening gap threshold, %%")
    p = sub.add_parser(
        "repair",
        help="move damaged lines of the store's bar files aside and rewrite them in time order",
        description="Check every bar file in the store. Damaged lines are moved to "
        "NAME.damaged-<UTC time> beside the file (nothing is deleted); the file is rewritten "
        "with its header and its bars in time order, each start once.",
    )
    p.add_argument("--root", default="data", help="store folder (default: ./data)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    p = sub.add_parser(
        "cleanup",
        help="apply the retention policy to the store (bars are kept unless you give a limit)",
        description="Remove stored data older than the policy's limits. By default only raw "
        "tick files older than 2 days go; bars, imported or recorded, are kept until you "
        "name a limit (--intraday-days, --daily-days). The command lists what it will remove "
        "and asks before removing it (--yes answers for scripts).",
    )
    p.add_argument("--root", default="data", help="store folder (default: ./data)")
    p.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
    p.add_argument("--yes", action="store_true", help="remove without asking")
    p.add_argument(
        "--tick-days",
        type=int,
        default=2,
        metavar="N",
        help="delete raw tick files older than N days (default: 2)",
    )
    p.add_argument(
        "--intraday-days",
        type=int,
        metavar="N",
        help="trim 1m, 5m, 15m and 1h bars older than N days (default: keep every bar)",
    )
    p.add_argument(
        "--daily-days",
        type=int,
        metavar="N",
        help="trim daily bars older than N days (default: keep every bar)",
    )


def _file_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="CSV file, or an Angel One getCandleData .json response")
    p.add_argument("--symbol", help="symbol (default: from the file's symbol column or name)")
    p.add_argument("--tf", help="timeframe: 1m, 5m, 15m, 1h, 1d (default: from the bars)")
    p.add_argument("--tz", help="zone of times written without an offset, e.g. Asia/Kolkata")
    p.add_argument(
        "--segment",
        choices=("CM", "FO"),
        default="CM",
        help="session hours to check against: CM for indices (default), FO",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="count unreadable rows as rejected instead of stopping at the first",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="reject bars whose OHLC is off by up to the tolerance too",
    )
    p.add_argument(
        "--ohlc-tolerance",
        type=float,
        default=0.05,
        help="OHLC break kept as a warning (default 0.05, one index tick)",
    )
    p.add_argument("--no-outliers", action="store_true", help="turn the outlier check off")


def run(args: argparse.Namespace) -> int:
    handler = {
        "import": _import,
        "validate": _validate,
        "gaps": _gaps,
        "repair": _repair,
        "cleanup": _cleanup,
    }
    return handler[args.action](args)


# ---------------------------------------------------------------------- shared
def _open(args: argparse.Namespace) -> tuple[BarFile, list[Series]]:
    from engine.data.series import open_series
    from engine.data.validate import ValidationConfig
    from engine.errors import UserInputError
    from engine.model.enums import Timeframe

    try:
        tf = Timeframe.parse(args.tf) if args.tf else None
    except ValueError as e:
        raise UserInputError(f"--tf: {e}") from None
    config = ValidationConfig(ohlc_tolerance=args.ohlc_tolerance, strict=args.strict)
    if args.no_outliers:
        config = dataclasses.replace(config, outlier_sigma=None)
    return open_series(
        args.file,
        symbol=args.symbol,
        timeframe=tf,
        tz=_zone(args.tz),
        lenient=args.lenient,
        segment=args.segment,
        config=config,
    )


def _zone(name: str | None) -> Any:
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from engine.errors import UserInputError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserInputError(
            f"--tz: '{name}' is not a known time zone (e.g. Asia/Kolkata)"
        ) from None


def _when(ns: int) -> str:
    from engine.model.market import ns_to_datetime
    from engine.timeutil import IST

    return ns_to_datetime(ns, IST).isoformat()


def _duration(ns: int) -> str:
    minutes = round(ns / 60e9)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _counts(counter: Any) -> str:
    return ", ".join(f"{k.value} {v}" for k, v in sorted(counter.items())) or "none"


def _headline(bar_file: BarFile, series: Series, segment: str) -> list[str]:
    how = "inferred from the bars" if bar_file.timeframe_inferred else "as given"
    return [
        f"{bar_file.path.name}: {series.symbol} {series.timeframe.value} ({how}); "
        f"layout {bar_file.layout}",
        f"{series.choice.note} ({segment} hours)"
        if not series.choice.derived
        else series.choice.note,
    ]


# ---------------------------------------------------------------------- validate
def _validate(args: argparse.Namespace) -> int:
    bar_file, all_series = _open(args)
    rejected_any = bool(bar_file.rejected)
    if len(all_series) > 3:
        _print_compact(bar_file, all_series, args.segment)
    for series in all_series if len(all_series) <= 3 else ():
        print("\n".join(_headline(bar_file, series, args.segment)))
        print("\n".join(_validation_lines(bar_file, series)))
    rejected_any = rejected_any or any(s.validation.rejected_total for s in all_series)
    if not all_series:
        print(f"{bar_file.path.name}: no bars")
    _print_problems(bar_file)
    return 1 if rejected_any else 0


def _print_compact(bar_file: BarFile, all_series: list[Series], segment: str) -> None:
    """One line per symbol, for files holding many (an option chain)."""
    tf = all_series[0].timeframe.value
    print(f"{bar_file.path.name}: {len(all_series)} symbols, {tf}; layout {bar_file.layout}")
    notes = {s.choice.note for s in all_series}
    for note in sorted(notes):
        print(note if "derived" in note else f"{note} ({segment} hours)")
    print(f"  {'symbol':<22} {'read':>6} {'accepted':>8} {'flagged':>7}  rejected")
    for s in all_series:
        v = s.validation
        print(
            f"  {s.symbol:<22} {len(s.read):>6} {len(v.accepted):>8} "
            f"{sum(v.flagged.values()):>7}  {_counts(v.rejected)}"
        )


def _validation_lines(bar_file: BarFile, series: Series) -> list[str]:
    v = series.validation
    lines = [
        f"  bars read          {len(series.read)}",
        f"  accepted           {len(v.accepted)}",
        f"  rejected           {v.rejected_total}"
        + (f" ({_counts(v.rejected)})" if v.rejected else ""),
        f"  flagged, kept      {sum(v.flagged.values())}"
        + (f" ({_counts(v.flagged)})" if v.flagged else ""),
    ]
    if bar_file.rejected:
        lines.append(f"  unreadable rows    {sum(bar_file.rejected.values())} (bad_row)")
    bars = v.accepted
    if bars:
        days = sorted({b.trading_date for b in bars})
        lines += [
            f"  first bar          {_when(bars[0].ts_event)}",
            f"  last bar           {_when(bars[-1].ts_event)}",
            f"  sessions           {len(days)} ({days[0]} .. {days[-1]})",
            f"  price range        low {min(b.low for b in bars)}"
            f"  high {max(b.high for b in bars)}",
        ]
        if not any(b.volume for b in bars):
            lines.append("  volume             0 in every bar (index data carries no volume)")
    return lines


def _print_problems(bar_file: BarFile) -> None:
    if bar_file.reordered:
        print(
            f"rows out of time order: {bar_file.reordered} (each symbol's bars were sorted by "
            "time before validation)"
        )
    if bar_file.problems:
        print(f"unreadable rows (first {len(bar_file.problems)}):")
        for message in bar_file.problems:
            print(f"  {message}")


# ---------------------------------------------------------------------- import
def _import(args: argparse.Namespace) -> int:
    from engine.data.bounds import SymbolError, check_symbol
    from engine.data.storage import BarStore
    from engine.errors import DataError, UserInputError

    root = _store_root(args.root, create=True)
    if args.symbol is not None:
        try:
            check_symbol(args.symbol.upper())
        except SymbolError as e:
            raise UserInputError(f"--symbol: {e}") from None
    bar_file, all_series = _open(args)
    for series in all_series:  # every symbol checked before anything is written
        try:
            check_symbol(series.symbol)
        except SymbolError as e:
            raise DataError(f"{e}; nothing was written", file=str(bar_file.path)) from None
    store = BarStore(root, fsync=args.fsync)
    rejected = bool(bar_file.rejected)
    for series in all_series:
        report = store.append(series.bars)
        v = series.validation
        rejected = rejected or bool(v.rejected_total)
        print(
            f"{bar_file.path.name}: {series.symbol} {series.timeframe.value} -> "
            f"{store.bar_path(series.symbol, series.timeframe)}"
        )
        if series.choice.derived:
            print(f"  {series.choice.note}")
        differing = (
            f" ({report.differing} with other values; the stored bars were kept)"
            if report.differing
            else ""
        )
        print(
            f"  read {len(series.read)}, rejected {v.rejected_total} ({_counts(v.rejected)}), "
            f"flagged and kept {sum(v.flagged.values())}, stored {report.written}, "
            f"already stored {report.skipped}{differing}"
        )
    if bar_file.skipped_other_symbols:
        print(f"  rows of other symbols skipped: {bar_file.skipped_other_symbols}")
    _print_problems(bar_file)
    return 1 if rejected else 0


def _store_root(root: str, *, create: bool) -> Any:
    """``--root`` as a Path: an existing folder (made when ``create`` and missing)."""
    import os
    from pathlib import Path

    from engine.errors import UserInputError

    path = Path(root)
    if os.path.lexists(path) and not path.is_dir():
        raise UserInputError(f"--root: '{root}' is not a folder (nothing was written)")
    if not create and not path.is_dir():
        raise UserInputError(f"--root: '{root}' is not a folder")
    return path


# ---------------------------------------------------------------------- gaps
def _gaps(args: argparse.Namespace) -> int:
    from engine.data.gaps import find_gaps

    bar_file, all_series = _open(args)
    for series in all_series:
        print("\n".join(_headline(bar_file, series, args.segment)))
        report = find_gaps(
            series.bars, series.grid, derived=series.choice.derived, open_gap_pct=args.open_gap_pct
        )
        if series.validation.rejected_total:
            print(
                f"  (left out {series.validation.rejected_total} rejected bars: "
                f"{_counts(series.validation.rejected)})"
            )
        _print_sessions(args, report, series)
        _print_gap_list(report.gaps, args.limit)
        print(f"opening gaps over {args.open_gap_pct:g}%: {len(report.opening_gaps)}")
        for g in report.opening_gaps[: args.limit]:
            print(
                f"  {g.session_date}  {g.change_pct:+.2f}%  previous close "
                f"{g.previous_close}, open {g.open}"
            )
    return 0


def _print_sessions(args: argparse.Namespace, report: Any, series: Series) -> None:
    missing = report.missing_sessions
    source = "the calendar"
    if args.sessions_from:
        missing, source = (
            _missing_from_daily(args.sessions_from, report, series),
            args.sessions_from,
        )
    if missing is None:
        print(
            f"sessions with data: {report.sessions_with_data} "
            f"({report.first_date} .. {report.last_date})"
        )
        print(
            "missing sessions: unknown (the calendar was derived from this file; pass "
            "--sessions-from DAILY.csv to compare with a list of trading dates)"
        )
        return
    print(
        f"sessions with data: {report.sessions_with_data} of "
        f"{report.sessions_with_data + len(missing)} expected "
        f"({report.first_date} .. {report.last_date})"
    )
    listed = ", ".join(d.isoformat() for d in missing) or "none"
    print(f"missing sessions ({len(missing)}, per {source}): {listed}")


def _missing_from_daily(daily_path: str, report: Any, series: Series) -> list[Any]:
    """Dates of the daily file inside the series' range that have no bars in the series."""
    from engine.data.csv_import import read_bars
    from engine.model.enums import Timeframe

    daily = read_bars(daily_path, timeframe=Timeframe.D1, lenient=True)
    expected = sorted(
        {
            b.trading_date
            for b in daily.all_bars
            if report.first_date <= b.trading_date <= report.last_date
        }
    )
    have = {b.trading_date for b in series.bars}
    return [d for d in expected if d not in have]


def _print_gap_list(gaps: list[Any], limit: int) -> None:
    if not gaps:
        print("gaps inside sessions: none")
        return
    print(f"gaps inside sessions: {len(gaps)}" + (f" (first {limit})" if len(gaps) > limit else ""))
    print(f"  {'start':<26} {'end':<26} {'duration':>10}  kind")
    for g in gaps[:limit]:
        print(f"  {_when(g.start):<26} {_when(g.end):<26} {_duration(g.duration_ns):>10}  {g.kind}")


# ---------------------------------------------------------------------- repair
def _repair(args: argparse.Namespace) -> int:
    from engine.data.storage import BarStore

    store = BarStore(_store_root(args.root, create=False))
    changed = 0
    for symbol, tf in store.series():
        report = store.repair(symbol, tf, dry_run=args.dry_run)
        if not report.changed:
            continue
        changed += 1
        what = [f"{report.kept} bars kept"]
        if report.set_aside:
            where = f" to {report.side_file}" if report.side_file else ""
            what.append(f"{report.set_aside} damaged lines moved aside{where}")
        if report.duplicates:
            what.append(f"{report.duplicates} repeated lines dropped")
        if report.reordered:
            what.append("rewritten in time order")
        if report.header_rebuilt:
            what.append("header rewritten")
        verb = "would repair" if args.dry_run else "repaired"
        print(f"{verb} {report.path}: {', '.join(what)}")
    if not changed:
        print(f"every bar file under {store.root} is whole and in time order")
    elif args.dry_run:
        print("dry run: nothing was changed")
    return 0


# ---------------------------------------------------------------------- cleanup
def _cleanup(args: argparse.Namespace) -> int:
    import sys
    from datetime import UTC, datetime

    from engine.data.retention import RetentionPolicy, apply_plan, plan_retention
    from engine.errors import UserInputError

    try:
        policy = RetentionPolicy(args.tick_days, args.intraday_days, args.daily_days)
    except ValueError as e:
        raise UserInputError(str(e)) from None
    root = _store_root(args.root, create=False)
    plan = plan_retention(root, datetime.now(UTC), policy)
    removals = [a for a in plan if a.action != "skip"]
    for a in plan:
        verb = {"delete": "will delete", "trim": "will trim", "skip": "skipped"}[a.action]
        print(f"{verb:<12} {a.path}  removed {a.removed}, kept {a.kept}: {a.reason}")
    if not removals:
        print(f"nothing to clean up under {root} (policy: {policy.describe()})")
        return 0
    lines = sum(a.removed for a in removals)
    files = f"{len(removals)} file{'s' if len(removals) != 1 else ''}"
    summary = f"{files}, {lines} bars or ticks (policy: {policy.describe()})"
    if args.dry_run:
        print(f"dry run: nothing was changed; cleanup would remove from {summary}")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserInputError(
                f"cleanup would remove from {summary}; nothing was changed: run again with "
                "--yes to remove it, or --dry-run to list it only"
            )
        answer = input(f"remove from {summary}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing was changed")
            return 0
    for a in apply_plan(root, plan):
        if a in removals:
            verb = "deleted" if a.action == "delete" else "trimmed"
            print(f"{verb:<12} {a.path}  removed {a.removed}, kept {a.kept}: {a.reason}")
        elif a.action == "skip" and a.path in {r.path for r in removals}:
            print(f"{'left alone':<12} {a.path}: {a.reason}")
    return 0
