"""``engine indicators``: bars of a data file, resampled, with indicator values beside them.

    engine indicators --data nifty_1m_2024.csv --tf 1h \\
        --with 'adx(14),plus_di(14),minus_di(14),rsi(14),ema(9)' \\
        [--from 2024-03-01 --to 2024-03-31] [--csv]

The file is validated first (rejected bars are left out, as everywhere), resampled to
``--tf`` along the session, and each indicator is computed over the *whole* resampled
series before ``--from``/``--to`` pick the rows, so the first rows shown are not warm-up.
CSV columns: ``ts`` (ISO 8601, IST offset), ``open, high, low, close, volume``, then one
column per indicator named as written; a cell is empty while the indicator warms up.
Notes (calendar used, bars left out) go to stderr with ``--csv`` so stdout stays pure CSV.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.data.series import Series
    from engine.model.market import Bar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE", help="bar file (CSV or JSON)")
    parser.add_argument(
        "--tf",
        default=None,
        help="timeframe to show: 1m, 5m, 15m, 1h, 1d (default: the file's own)",
    )
    parser.add_argument(
        "--with",
        dest="specs",
        default="",
        metavar="SPECS",
        help="indicators, comma separated: 'adx(14),rsi(14),sma(volume, 20)'",
    )
    parser.add_argument("--from", dest="start", metavar="DATE", help="first date shown (IST)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last date shown (IST)")
    parser.add_argument("--csv", action="store_true", help="write CSV instead of a table")
    parser.add_argument("--symbol", help="which symbol, for files holding several")
    parser.add_argument("--tz", help="zone of times written without an offset")
    parser.add_argument(
        "--segment",
        choices=("CM", "FO"),
        default="CM",
        help="session hours: CM for indices (default), FO",
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError

    specs = _parse_specs(args.specs)
    series = _series(args)
    bars, notes = _bars(series, args.tf)
    values = _compute(specs, bars)
    first, last = _range(args.start, "--from"), _range(args.end, "--to")
    rows = [i for i, b in enumerate(bars) if _inside(b, first, last)]
    if not rows and bars:
        raise UserInputError(
            f"no {bars[0].timeframe.value} bars between {args.start or 'the start'} and "
            f"{args.end or 'the end'}; the data runs {bars[0].trading_date} .. "
            f"{bars[-1].trading_date}"
        )
    names = [name for name, _ in specs]
    if args.csv:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        _write_csv(bars, values, names, rows)
    else:
        for note in notes:
            print(f"# {note}")
        _write_table(bars, values, names, rows)
    return 0


def split_specs(text: str) -> list[str]:
    """Split at commas outside parentheses: ``adx(14),sma(volume, 20)`` -> two specs."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        depth += (ch == "(") - (ch == ")")
        current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _parse_specs(text: str) -> list[tuple[str, Any]]:
    from engine.errors import UserInputError
    from engine.indicators import parse_indicator_spec

    out = []
    for written in split_specs(text):
        try:
            out.append((written, parse_indicator_spec(written)))
        except ValueError as e:
            raise UserInputError(f"--with: {e}") from None
    return out


def _series(args: argparse.Namespace) -> Series:
    from engine.cli.data import _zone
    from engine.data.series import open_series
    from engine.errors import UserInputError

    bar_file, all_series = open_series(
        args.data, symbol=args.symbol, tz=_zone(args.tz), segment=args.segment
    )
    if not all_series:
        raise UserInputError(
            f"{args.data}: no bars" + (f" for symbol {args.symbol}" if args.symbol else "")
        )
    if len(all_series) > 1:
        names = ", ".join(s.symbol for s in all_series[:5])
        raise UserInputError(
            f"{args.data} holds {len(all_series)} symbols ({names} ...); pick one with --symbol"
        )
    return all_series[0]


def _bars(series: Series, tf_text: str | None) -> tuple[list[Bar], list[str]]:
    from engine.data.resample import resample
    from engine.errors import UserInputError
    from engine.model.enums import Timeframe

    notes = []
    if series.choice.derived:
        notes.append(series.choice.note)
    v = series.validation
    if v.rejected_total:
        reasons = ", ".join(f"{k.value} {n}" for k, n in sorted(v.rejected.items()))
        notes.append(f"left out {v.rejected_total} bars that failed validation ({reasons})")
    try:
        tf = Timeframe.parse(tf_text) if tf_text else series.timeframe
    except ValueError as e:
        raise UserInputError(f"--tf: {e}") from None
    bars = series.bars
    if tf is not series.timeframe:
        if tf.nanos < series.timeframe.nanos:
            raise UserInputError(
                f"--tf {tf.value}: the file holds {series.timeframe.value} "
                "bars; a shorter timeframe cannot be made from them"
            )
        result = resample(bars, tf, series.grid)
        bars = result.bars
        if result.counts:
            reasons = ", ".join(f"{k.value} {n}" for k, n in sorted(result.counts.items()))
            notes.append(
                f"{tf.value} bars discarded while resampling: {reasons} "
                "(more than 10 minutes of the bar without data)"
            )
    if bars and not any(b.volume for b in bars):
        notes.append("volume is 0 in every bar (index data carries no volume)")
    return bars, notes


def _compute(specs: list[tuple[str, Any]], bars: list[Bar]) -> dict[str, Any]:
    import numpy as np

    from engine.indicators import compute_batch_set

    if not specs:
        return {}
    cols = [
        np.fromiter((getattr(b, f) for b in bars), dtype=np.float64, count=len(bars))
        for f in ("open", "high", "low", "close", "volume")
    ]
    return compute_batch_set({name: spec for name, spec in specs}, *cols)


def _range(text: str | None, option: str) -> Any:
    if text is None:
        return None
    from datetime import date, datetime

    from engine.errors import UserInputError

    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"{option}: '{text}' is not a date (YYYY-MM-DD) or an ISO time"
        ) from None


def _inside(bar: Bar, first: Any, last: Any) -> bool:
    from datetime import datetime

    for bound, ok in ((first, lambda a, b: a >= b), (last, lambda a, b: a <= b)):
        if bound is None:
            continue
        if isinstance(bound, datetime):
            if bound.tzinfo is None:
                from engine.timeutil import IST

                bound = bound.replace(tzinfo=IST)
            if not ok(bar.start, bound):
                return False
        elif not ok(bar.trading_date, bound):
            return False
    return True


def _cell(value: float) -> str:
    return "" if value != value else repr(round(float(value), 6))


def _write_csv(bars: list[Bar], values: dict[str, Any], names: list[str], rows: list[int]) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["ts", "open", "high", "low", "close", "volume", *names])
    for i in rows:
        b = bars[i]
        writer.writerow(
            [
                b.start_ist.isoformat(),
                repr(b.open),
                repr(b.high),
                repr(b.low),
                repr(b.close),
                b.volume,
                *(_cell(values[n][i]) for n in names),
            ]
        )


def _write_table(
    bars: list[Bar], values: dict[str, Any], names: list[str], rows: list[int]
) -> None:
    widths = [max(10, len(n)) for n in names]
    head = f"{'ts (IST)':<17} {'open':>10} {'high':>10} {'low':>10} {'close':>10} {'volume':>9}"
    print(head + "".join(f" {n:>{w}}" for n, w in zip(names, widths, strict=True)))
    for i in rows:
        b = bars[i]
        cells = "".join(
            f" {'-' if values[n][i] != values[n][i] else f'{values[n][i]:.2f}':>{w}}"
            for n, w in zip(names, widths, strict=True)
        )
        print(
            f"{b.start_ist:%Y-%m-%d %H:%M} {b.open:>10.2f} {b.high:>10.2f} {b.low:>10.2f} "
            f"{b.close:>10.2f} {b.volume:>9}{cells}"
        )
