"""``engine run RULES --paper``: trade a strategy on paper, event by event, as it happens.

Without broker credentials the market data is a replay of the real sample data bundled in
``examples/data/`` (a banner says so), paced by ``--speed``; orders go to the paper broker
with the same fill table as a backtest. Entries, exits, fills, P&L and machine transitions
are printed as they happen and journaled (order events are on disk before the next step).
Ctrl+C stops gracefully: the kill switch cancels working orders and closes positions, the
journal is flushed and the summary printed; a second Ctrl+C stops at once.

With SmartAPI credentials (the OS keyring or the ``SMARTAPI_*`` variables, see ``engine
login``) and no ``--data``, the market data is SmartAPI's WebSocket instead and orders
still go to the paper broker (``engine.cli._smartapi_run``).

Live trading needs explicit intent: ``--live``, ``mode: live`` in the run config
(``--config``), and a typed confirmation (or ``--i-understand-live-trading`` for an
unattended start); then the gates of ``_smartapi_run.live_gates`` must all pass.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "sample_data"  # examples/data, in the wheel too
SAMPLE = {
    "data": "nifty_1m_2024-01-08_19.csv",
    "daily": "nifty_daily_2023-01_2024-03.csv",
    "vix": "india_vix_daily_2023-12_2024-03.csv",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rules", metavar="RULES", help="the strategy's rule file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--paper", action="store_true", help="paper trading (the default)")
    mode.add_argument("--live", action="store_true", help="real orders (needs explicit intent)")
    parser.add_argument("--data", help="bars to replay (default: the bundled sample)")
    parser.add_argument("--daily", help="official daily bars for the replay")
    parser.add_argument("--vix", help="India VIX for the replay")
    parser.add_argument(
        "--speed", type=float, default=6000.0,
        help="market time per wall-clock time (default 6000: a session in 4 s; 0: no waiting)",
    )  # fmt: skip
    parser.add_argument("--out", metavar="DIR", help="run folder (default: runs/<new>)")
    parser.add_argument("--machines", metavar="DIR", help="machine files (default: shipped)")
    parser.add_argument("--capital", metavar="INR", help="capital in rupees (default 500000)")
    parser.add_argument(
        "--workdir", default=".", help="folder watched for EMERGENCY_STOP (default: here)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--config", metavar="FILE", help="run config (YAML): mode, outward_ip, product, logout_at"
    )
    parser.add_argument(
        "--i-understand-live-trading", dest="live_confirmed", action="store_true",
        help="with --live: start without the interactive confirmation",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError

    if args.speed < 0:
        raise UserInputError("--speed must be 0 (as fast as possible) or more")
    if args.live:
        return _live(args)
    if args.config:  # read even when the replay will not use it: a typo is an error
        from engine.cli._smartapi_run import load_run_config

        load_run_config(args.config)
    credentials = None if args.data else _credentials()
    if credentials is None:
        return _paper(args)
    from engine.cli._smartapi_run import run_smartapi

    return run_smartapi(args, credentials, live=False)


def _credentials() -> Any:
    """SmartAPI credentials when any are configured (all four then), else None."""
    from adapters.smartapi.secrets import ENV_VARS, MissingCredentialsError, load_credentials

    try:
        return load_credentials()
    except MissingCredentialsError as e:
        if len(e.missing) == len(ENV_VARS):
            return None
        raise


def _live(args: argparse.Namespace) -> int:
    """Real orders: the run config must say so, the operator must confirm, then the gates."""
    import sys

    from engine.cli._smartapi_run import load_run_config, run_smartapi
    from engine.errors import UserInputError

    if not args.config or load_run_config(args.config).mode != "live":
        raise UserInputError(
            "--live needs a run config that says 'mode: live' (--config FILE): live trading "
            "sends real orders and is never a default"
        )
    if args.data:
        raise UserInputError("--live trades on the broker's market data; --data is a replay")
    from adapters.smartapi.secrets import load_credentials

    credentials = load_credentials()
    if not args.live_confirmed:
        if not sys.stdin.isatty():
            raise UserInputError(
                "--live asks for a typed confirmation; without a terminal, pass "
                "--i-understand-live-trading"
            )
        answer = input(
            f"REAL ORDERS will be sent for account {credentials.client_code}. Type LIVE to go on: "
        )
        if answer.strip() != "LIVE":
            print("not confirmed: nothing was started")
            return 2
    return run_smartapi(args, credentials, live=True)


def _paper(args: argparse.Namespace) -> int:
    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.cli._printer import EventPrinter
    from engine.errors import UserInputError
    from engine.journal import Journal
    from engine.runtime.live import run_paced

    bundled = args.data is None
    data = args.data or str(EXAMPLES / SAMPLE["data"])
    daily = args.daily or (str(EXAMPLES / SAMPLE["daily"]) if bundled else None)
    vix = args.vix or (str(EXAMPLES / SAMPLE["vix"]) if bundled else None)
    inputs = load_inputs(
        args.rules, data, daily=daily, vix=vix, machines=args.machines, capital=args.capital
    )
    workdir = Path(args.workdir)
    if not workdir.is_dir():
        raise UserInputError(f"--workdir {workdir}: no such folder")
    out = _run_dir(args.out, inputs.rules.name)
    first, last = inputs.bars[0].trading_date, inputs.bars[-1].trading_date
    print("=" * 78)
    print("PAPER TRADING on a REPLAY of recorded market data (no broker credentials given)")
    print(f"  data: {data} ({first} .. {last}), speed x{args.speed:g}")
    print("  orders: paper broker (simulated fills); no real order is sent")
    print(f"  journal: {out / 'journal.jsonl'}   stop: Ctrl+C (a second Ctrl+C: at once)")
    print("=" * 78, flush=True)
    from engine.journal.source import rules_source

    header = {"mode": "paper", "feed": "replay", "rule": inputs.rules.name,
              "inputs": inputs.files, **rules_source(args.rules)}  # fmt: skip
    printer = None if args.quiet else EventPrinter()
    with Journal(out / "journal.jsonl", header=header, on_record=printer) as journal:
        engine, feed = build_engine(inputs, journal=journal, broker=PaperBroker(), durable=True)
        result = run_paced(engine, feed, speed=args.speed, poll=_control_poller(workdir))
        report = write_results(
            engine, journal, out, inputs, "paper trading on a replay of recorded data"
        )
    if result.stopped:
        state = "flat and halted" if result.halted else "stopped before the book was flat"
        print(f"stopped on request ({result.stopped}): {state}")
    print(report.render())
    print(f"written to {out}/ (summary.json, trades.csv, journal.jsonl)")
    return 0


def write_results(engine: Any, journal: Any, out: Path, inputs: Any, note: str) -> Any:
    """The run's report: journaled as the summary, and summary.json and trades.csv."""
    from engine.cli.backtest import _premiums, _starved
    from engine.report.backtest import build_report, trades_csv
    from engine.safe_files import open_folder

    report = build_report(
        engine.ledger.trades,
        capital=engine.capital,
        sessions=engine.sessions,
        bars=engine.bars,
        warmup_sessions=max((t.warmup_sessions for t in engine.traders), default=0),
        starved=_starved(engine),
        premiums=_premiums(engine),
        inputs={**inputs.files, "capital": str(inputs.capital)},
        notes=[*inputs.notes, note],
    )
    journal.write({"kind": "summary", "ts": engine.now_ns, **report.to_dict()}, sync=True)
    with open_folder(out) as folder:
        folder.write_atomic("trades.csv", trades_csv(report.trades))
        folder.write_atomic("summary.json", report.to_json())
    return report


def _run_dir(out: str | None, rule: str, kind: str = "paper") -> Path:
    from engine.errors import UserInputError

    if out:
        path = Path(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UserInputError(f"--out {path}: exists and is not an empty folder")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path("runs") / f"{kind}-{rule}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path("runs") / f"{kind}-{rule}-{stamp}-{n}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _control_poller(workdir: Path) -> Any:
    """Look for the operator's requests once a wall-clock second (the first look is at
    once, so a stop written while no engine ran is read first) and hand them over.

    A request is claimed by the pickup protocol of ``engine.machines.control`` (renamed to
    ``NAME.handled-<time>-pid<N>``), which ``engine kill-switch`` waits for. A damaged
    EMERGENCY_STOP still stops trading."""
    from engine.machines.control import RESUME_FILE, STOP_FILE, claim_request

    state = {"next": 0.0}

    def poll(engine: Any) -> None:
        now = time.monotonic()
        if now < state["next"]:
            return
        state["next"] = now + 1.0
        stop = claim_request(workdir, STOP_FILE)
        if stop is not None:
            reason = stop.request.reason if stop.request else f"unreadable request: {stop.problem}"
            engine.operator("kill", source="file", reason=reason)
        resume = claim_request(workdir, RESUME_FILE)
        if resume is not None and resume.request is not None:
            r = resume.request
            engine.operator("resume", confirm_safe=r.confirm_safe, reason=r.reason)

    return poll
