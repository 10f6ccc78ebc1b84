"""``engine explain``: answers from a run's journal, with the values that decided.

- ``engine explain TRADE_ID``: why the trade entered, its size, strike, checks, fills,
  why it exited (what the higher-priority exits said) and its P&L;
- ``--trades``: the run's trades and their ids;
- ``--at TIME [--underlying U]``: why nothing (or what) traded at that moment;
- ``--rule NAME [--from --to]``: how often a filter, trigger or exit was evaluated, held,
  fired, and what stopped it;
- ``--near-misses [--top N] [--margin PCT]``: bars where an entry came closest;
- ``--diff RUN_A RUN_B``: the first decision where two runs part, with both sides' values.

``--journal`` names a run folder or journal file (default: the latest run under runs/);
``--json`` prints the same answer as JSON. Times are Asia/Kolkata.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trade_id", nargs="?", metavar="TRADE_ID", help="a trade id, e.g. T0001")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--trades", action="store_true", help="list the run's trades")
    form.add_argument("--at", metavar="TIME", help="a moment, YYYY-MM-DDTHH:MM (IST)")
    form.add_argument("--rule", metavar="NAME", help="a filter, trigger or exit of the rules")
    form.add_argument("--near-misses", action="store_true", help="bars where entries came close")
    form.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"), help="two runs' decisions")
    parser.add_argument("--underlying", help="with --at: only this underlying")
    parser.add_argument("--from", dest="start", metavar="DATE", help="with --rule: first day")
    parser.add_argument("--to", dest="end", metavar="DATE", help="with --rule: last day")
    parser.add_argument("--top", type=int, default=10, help="with --near-misses: how many (10)")
    parser.add_argument(
        "--margin",
        type=float,
        default=5.0,
        help="with --near-misses: percent of a threshold that counts as near (5)",
    )
    parser.add_argument("--journal", metavar="PATH", help="run folder or journal (default: latest)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _day(text: str | None, flag: str) -> date | None:
    from engine.explain.journal import ExplainError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExplainError(f"{flag} '{text}' is not a date; write YYYY-MM-DD") from None


def _moment(text: str) -> datetime:
    from engine.explain.journal import ExplainError
    from engine.timeutil import IST

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ExplainError(f"--at '{text}' is not a time; write YYYY-MM-DDTHH:MM") from None
    return moment.replace(tzinfo=IST) if moment.tzinfo is None else moment


def run(args: argparse.Namespace) -> int:
    from engine.explain import answers
    from engine.explain.clauses import RunRules
    from engine.explain.diff import diff
    from engine.explain.journal import ExplainError, find_journal, read_journal
    from engine.explain.render import render, to_json

    if args.top < 1:
        raise ExplainError("--top must be 1 or more")
    if not 0 < args.margin <= 100:
        raise ExplainError("--margin must be a percent above 0 and at most 100")
    if args.diff:
        a = read_journal(find_journal(args.diff[0]))
        b = read_journal(find_journal(args.diff[1]))
        answer = diff(a, b)
    else:
        journal = read_journal(find_journal(args.journal))
        if args.trades:
            answer = answers.trades(journal)
        elif args.at:
            answer = answers.at(journal, RunRules(journal), _moment(args.at), args.underlying)
        elif args.rule:
            answer = answers.coverage(
                journal,
                RunRules(journal),
                args.rule,
                _day(args.start, "--from"),
                _day(args.end, "--to"),
            )
        elif args.near_misses:
            answer = answers.near_misses(journal, RunRules(journal), args.top, args.margin / 100)
        elif args.trade_id:
            answer = answers.trade(journal, RunRules(journal), args.trade_id)
        else:
            raise ExplainError(
                "say what to explain: TRADE_ID, --trades, --at, --rule, --near-misses or --diff"
            )
    if args.json:
        sys.stdout.write(to_json(answer))
    else:
        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(render(answer, colour=colour))
    return 0
