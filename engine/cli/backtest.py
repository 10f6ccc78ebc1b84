"""``engine backtest RULES --data PATH``: replay history through the engine, report the result.

The rules must validate (every error is printed and nothing runs otherwise). The run
goes through exactly the code path of paper and live trading, with a replay feed, the
simulated clock and the paper broker's fill table. It prints the summary and writes
``summary.json``, ``trades.csv`` and ``journal.jsonl`` into ``--out`` (default: a new
folder under ``runs/``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rules", metavar="RULES", help="the strategy's rule file")
    parser.add_argument("--data", required=True, help="intraday bars of the underlying (CSV)")
    parser.add_argument("--daily", help="official daily bars (direction reads these)")
    parser.add_argument("--vix", help="India VIX, daily or 1-minute (CSV)")
    parser.add_argument("--options", help="real option bars; modelled premiums fill the gaps")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first session (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last session (YYYY-MM-DD)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: runs/<new>)")
    parser.add_argument("--machines", metavar="DIR", help="machine files (default: shipped)")
    parser.add_argument("--capital", metavar="INR", help="capital in rupees (default 500000)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--no-bar-records",
        action="store_true",
        help="journal decisions only, not every bar's evaluation (engine explain --at, "
        "--rule and --near-misses then know less)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar even on a terminal"
    )


def _out_dir(args: argparse.Namespace, rule_name: str) -> Path:
    from engine.errors import UserInputError

    if args.out:
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UserInputError(f"--out {out}: exists and is not an empty folder")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"backtest-{rule_name}-{stamp}"
        n = 1
        while out.exists():
            n += 1
            out = Path("runs") / f"backtest-{rule_name}-{stamp}-{n}"
    out.mkdir(parents=True, exist_ok=True)
    return out


class _Progress:
    """A one-line progress bar on stderr, only on a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        pct = done * 100 // max(self.total, 1)
        if pct != self.shown:
            self.shown = pct
            bar = "#" * (pct // 4)
            print(f"\r[{bar:<25}] {pct:3d}% of {self.total:,} bars", end="", file=sys.stderr)

    def done(self) -> None:
        if self.enabled:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal
    from engine.report.backtest import build_report, trades_csv
    from engine.runtime.backtest import replay
    from engine.safe_files import open_folder

    inputs = load_inputs(
        args.rules,
        args.data,
        daily=args.daily,
        vix=args.vix,
        options=args.options,
        machines=args.machines,
        start=args.start,
        end=args.end,
        capital=args.capital,
    )
    out = _out_dir(args, inputs.rules.name)
    from engine.journal.source import rules_source

    header = {"mode": "backtest", "rule": inputs.rules.name, "inputs": inputs.files,
              **rules_source(args.rules)}  # fmt: skip
    from adapters.paper import PaperBroker

    with Journal(out / "journal.jsonl", header=header) as journal:
        engine, feed = build_engine(
            inputs,
            journal=journal,
            broker=PaperBroker(),
            echo_notifications=False,
            record_bars=not args.no_bar_records,
        )
        progress = _Progress(len(inputs.bars), not args.no_progress and not args.json)
        replay(engine, feed, progress=progress)
        progress.done()
        report = build_report(
            engine.ledger.trades,
            capital=engine.capital,
            sessions=engine.sessions,
            bars=engine.bars,
            warmup_sessions=max((t.warmup_sessions for t in engine.traders), default=0),
            starved=_starved(engine),
            premiums=_premiums(engine),
            inputs={**inputs.files, "capital": str(inputs.capital)},
            notes=inputs.notes,
        )
        journal.write({"kind": "summary", "ts": engine.now_ns, **report.to_dict()})
    with open_folder(out) as folder:
        folder.write_atomic("trades.csv", trades_csv(report.trades))
        folder.write_atomic("summary.json", report.to_json())
    if args.json:
        print(report.to_json(), end="")
    else:
        for t in report.trades:
            print(
                f"{t.trade_id} {t.instrument.symbol} x{t.lots} "
                f"entry {t.entry_price:.2f} exit {t.exit_price:.2f} "
                f"[{t.exit_reason}] net {t.net_pnl:,.2f}"
            )
        print(report.render())
        print(f"written to {out}/ (summary.json, trades.csv, journal.jsonl)")
    return 0


def _starved(engine: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for trader in engine.traders:
        for name, count in trader.starved.items():
            out[name] = out.get(name, 0) + count
    return out


def _premiums(engine: Any) -> str:
    sources = engine.premium_sources
    if not sources:
        return "none priced"
    if set(sources) == {"model"}:
        return "modelled (Black-Scholes with India VIX as volatility; no option prices in the data)"
    if set(sources) == {"market"}:
        return "market (real option bars)"
    return (
        f"market where bars exist ({sources.get('market', 0):,} quotes), modelled elsewhere "
        f"({sources.get('model', 0):,} quotes)"
    )
