"""``engine run`` against a SmartAPI endpoint: market data from its WebSocket, orders to the
paper broker (``--paper``) or to SmartAPI itself (``--live``).

The endpoint is Angel One's unless ``SMARTAPI_REST_URL``/``SMARTAPI_WS_URL``/
``SMARTAPI_INSTRUMENTS_URL`` name another (``engine simulate-broker`` for a rehearsal).
The engine starts on the day of the first tick; its daily and India VIX history come from
``--daily``/``--vix`` when given, else from the broker's daily candles.

Live trading starts only when every gate passes, checked after login and before the
engine exists (``live_gates``): the market is in session on the calendar, the session
lasts to the close, the static IP registered for the API key is this machine's, and the
broker's books hold no position and no working order. The run config (``--config``) must
say ``mode: live`` and the operator must confirm (``engine.cli.run``).

Time: against the real market the ticks' exchange time follows the wall clock, the day
ends 15 minutes after the close and the session is logged out at ``logout_at`` (IST). An
endpoint replaying recorded days (the simulator) runs in the ticks' time; the run ends
when its ticks stop for ``idle_stop_s`` seconds, and the session is logged out then.
"""

from __future__ import annotations

import argparse
import time as _time
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from engine.errors import UserInputError

__all__ = ["RunConfig", "live_gates", "load_run_config", "run_smartapi"]

_FOLLOWS_WALL_NS = 120 * 1_000_000_000
_AFTER_CLOSE = timedelta(minutes=15)
_HISTORY_DAYS = 400


@dataclass(frozen=True)
class RunConfig:
    """The run configuration file (``--config``): what is not strategy."""

    mode: str = "paper"  # "paper" | "live": live trading needs it written down here
    outward_ip: str | None = None  # this machine's public address, for the static-IP check
    product: str = "INTRADAY"  # SmartAPI product type of every order
    logout_at: time = time(15, 45)  # IST: forced logout at the end of the day
    order_poll_s: float = 1.0  # seconds between order-book reads while an order works
    idle_stop_s: float = 10.0  # a replaying endpoint: stop after this long without a tick
    first_tick_timeout_s: float = 60.0  # wait this long for the first tick


def load_run_config(path: str) -> RunConfig:
    """Read ``path`` (YAML); unknown keys and bad values are errors naming the file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"--config {path}: no such file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise UserInputError(f"{path}{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise UserInputError(f"{path}: a run config is a mapping of settings")
    known = {f.name: f for f in fields(RunConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise UserInputError(f"{path}: unknown setting '{key}' (known: {', '.join(known)})")
        values[key] = _setting(path, key, value)
    if values.get("mode", "paper") not in ("paper", "live"):
        raise UserInputError(f"{path}: mode must be 'paper' or 'live', not '{values['mode']}'")
    return RunConfig(**values)


def _setting(path: str, key: str, value: Any) -> Any:
    try:
        if key == "logout_at":
            if isinstance(value, int):  # YAML reads 15:45 unquoted as minutes (sexagesimal)
                return time(value // 60, value % 60)
            return time.fromisoformat(str(value))
        if key in ("order_poll_s", "idle_stop_s", "first_tick_timeout_s"):
            number = float(value)
            if number <= 0:
                raise ValueError
            return number
        return None if value is None else str(value)
    except (ValueError, TypeError):
        raise UserInputError(f"{path}: '{key}' has an unusable value '{value}'") from None


# -- the run ------------------------------------------------------------------------------
def run_smartapi(args: argparse.Namespace, credentials: Any, *, live: bool) -> int:
    from adapters.smartapi.config import SmartApiConfig
    from adapters.smartapi.link import SmartApiLink
    from adapters.smartapi.redact import install_log_redaction
    from engine.errors import BrokerError

    install_log_redaction()
    run_config = load_run_config(args.config) if args.config else RunConfig()
    _check_rules(args.rules)
    config = SmartApiConfig.from_env()
    link = SmartApiLink(config, credentials)
    try:
        profile = link.start()
    except BrokerError as e:
        link.stop(logout=False)
        print(f"FAILED: SmartAPI login at {config.rest_url}: {e}")
        return 1
    feed = None
    try:
        feed, start = _connect(args, link, run_config, live=live, profile=profile)
        return _trade(args, link, feed, start, run_config, live=live)
    except BrokerError as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        if feed is not None:
            feed.close()
        link.stop(logout=True)


def _check_rules(rules: str) -> None:
    """Refuse a broken rule file before logging in."""
    from engine.spec.rules import load_rule_file

    path = Path(rules)
    if not path.is_file():
        raise UserInputError(f"RULES {rules}: no such file")
    load_rule_file(path, rules)


@dataclass
class _Start:
    first_ns: int
    first_day: date
    follows_wall: bool
    master: Any
    calendar: Any
    grid: Any
    underlying: str
    ip: Any


def _connect(
    args: argparse.Namespace, link: Any, run_config: RunConfig, *, live: bool, profile: Any
) -> tuple[Any, _Start]:
    from adapters.smartapi.auth import check_static_ip
    from adapters.smartapi.instruments import InstrumentCache
    from adapters.smartapi.runtime_feed import SmartApiTickFeed
    from engine.data.calendar import Calendar
    from engine.data.session_grid import SessionGrid
    from engine.spec.rules import load_rule_file
    from engine.timeutil import IST

    rules = load_rule_file(Path(args.rules), args.rules)
    underlying = rules.underlyings[0]
    ip = check_static_ip(profile.registered_ip, run_config.outward_ip)
    if not ip.ok:
        print(f"{'refused' if live and ip.outcome == 'mismatch' else 'warning'}: {ip.describe()}")
    now = datetime.now(UTC)
    cache = InstrumentCache(_cache_folder(link.config.instruments_url))
    master = link.call(lambda: cache.load(link.config.instruments_url, now))
    index = master.index(underlying)
    if index is None:
        raise UserInputError(f"the instrument master lists no index named {underlying}")
    vix_token = master.vix_token() if args.vix is None else None
    calendar = Calendar.default()
    grid = SessionGrid(calendar)
    feed = SmartApiTickFeed(
        link, grid, symbol=underlying, token=index.token, vix_token=vix_token,
        idle_limit_s=run_config.idle_stop_s,
        description=f"SmartAPI WebSocket ticks of {underlying} at {link.config.ws_url}",
    )  # fmt: skip
    feed.connect()
    try:
        first = feed.first_ts(run_config.first_tick_timeout_s)
    except TimeoutError as e:
        raise UserInputError(f"{e}: is the market open and the feed subscribed?") from None
    follows = abs(_time.time_ns() - first) < _FOLLOWS_WALL_NS
    first_day = datetime.fromtimestamp(first / 1e9, IST).date()
    if follows:
        span = grid.span(first_day)
        if span is not None:
            feed.end_ns = span.close_ns + int(_AFTER_CLOSE.total_seconds() * 1e9)
    return feed, _Start(first, first_day, follows, master, calendar, grid, underlying, ip)


def _cache_folder(url: str) -> Path:
    """One cache per endpoint: a rehearsal's master never stands in for the real one."""
    import re
    from urllib.parse import urlsplit

    from adapters.smartapi.instruments import default_cache_dir

    return default_cache_dir() / re.sub(r"[^A-Za-z0-9.]+", "_", urlsplit(url).netloc)


def live_gates(link: Any, broker: Any, start: _Start) -> list[str]:
    """Why live trading must not start now (empty: it may)."""
    from engine.timeutil import IST

    problems = []
    span = start.grid.span(start.first_day)
    if span is None:
        problems.append(f"the calendar has no session on {start.first_day}: the market is closed")
    elif start.first_ns >= span.close_ns:
        problems.append(f"the session of {start.first_day} has closed")
    session = link.session
    if span is not None and start.follows_wall:
        close = datetime.fromtimestamp(span.close_ns / 1e9, UTC)
        if not session.lasts_until(close):
            problems.append(
                f"the broker session ends {session.expires_at.astimezone(IST):%H:%M} IST, "
                f"before the close at {close.astimezone(IST):%H:%M}"
            )
    elif not session.lasts_until(datetime.now(UTC) + session.policy.refresh_margin):
        problems.append("the broker session is about to expire")
    if start.ip.outcome == "mismatch":
        problems.append(start.ip.describe())
    problems += [f"reconciliation: {p}" for p in broker.reconcile()]
    return problems


def _history(link: Any, symbol: str, token: str, until: date) -> list[Any]:
    """Daily bars before ``until`` from the broker's candles (empty when it has none)."""
    from engine.errors import BrokerError
    from engine.model.enums import Timeframe
    from engine.model.market import NANOS, Bar
    from engine.timeutil import IST

    end = datetime.combine(until, time(0, 0), tzinfo=IST) - timedelta(minutes=1)
    begin = end - timedelta(days=_HISTORY_DAYS)
    market = link.market
    try:
        candles = link.call(lambda: market.candles("NSE", token, "ONE_DAY", begin, end))
    except BrokerError as e:
        print(f"warning: no daily history from the broker ({e})")
        return []
    return [
        Bar(symbol, Timeframe.D1, int(c.start.timestamp()) * NANOS, c.open, c.high, c.low,
            c.close, c.volume)
        for c in candles
    ]  # fmt: skip


def _trade(
    args: argparse.Namespace, link: Any, feed: Any, start: _Start, run_config: RunConfig,
    *, live: bool,
) -> int:  # fmt: skip
    from adapters.paper import PaperBroker
    from adapters.smartapi.runtime_broker import SmartApiBroker
    from adapters.smartapi.runtime_instruments import MasterInstruments
    from engine.cli._inputs import load_live_inputs, make_engine, published_events
    from engine.cli._printer import EventPrinter
    from engine.cli.run import _control_poller, _run_dir, write_results
    from engine.data.instruments import CalendarInstruments
    from engine.journal import Journal
    from engine.model.enums import Timeframe
    from engine.runtime.day import day_number, day_start_ns
    from engine.runtime.live import run_paced

    daily: Any = args.daily
    vix: Any = args.vix
    if daily is None:
        daily = _history(link, start.underlying, feed.token, start.first_day)
    if vix is None and feed.vix_token:
        vix = _history(link, "INDIAVIX", feed.vix_token, start.first_day)
    inputs = load_live_inputs(
        args.rules, start.first_day, daily=daily or None, vix=vix or None,
        machines=args.machines, capital=args.capital,
    )  # fmt: skip
    feed.add_extra(published_events(inputs, start.grid))
    if live:
        broker: Any = SmartApiBroker(link, feed.deliver, product=run_config.product,
                                     poll_s=run_config.order_poll_s)  # fmt: skip
        feed.unsettled = broker.unsettled
        problems = live_gates(link, broker, start)
        if problems:
            print("LIVE TRADING REFUSED:")
            for p in problems:
                print(f"  - {p}")
            return 2
        instruments: Any = MasterInstruments(start.master, start.calendar, start.first_day)
    else:
        broker = PaperBroker()
        instruments = CalendarInstruments(start.calendar)
        start.master.cross_check(start.calendar, start.first_day)  # disagreements are logged
    link.keep_alive(_logout_at(run_config.logout_at))
    workdir = Path(args.workdir)
    if not workdir.is_dir():
        raise UserInputError(f"--workdir {workdir}: no such folder")
    out = _run_dir(args.out, inputs.rules.name, "live" if live else "paper")
    mode = "LIVE TRADING: REAL ORDERS" if live else "PAPER TRADING on SmartAPI market data"
    client = link.credentials.client_code
    print("=" * 78)
    print(mode)
    print(f"  market data: {feed.description}, from {start.first_day}")
    print(f"  account: {client} at {link.config.rest_url}")
    print(f"  orders: {broker.description}")
    print(f"  journal: {out / 'journal.jsonl'}   stop: Ctrl+C (a second Ctrl+C: at once)")
    print("=" * 78, flush=True)
    from engine.journal.source import rules_source

    header = {"mode": "live" if live else "paper", "feed": "smartapi", "rule": inputs.rules.name,
              "inputs": inputs.files, "endpoint": link.config.rest_url,
              **rules_source(args.rules)}  # fmt: skip
    printer = None if args.quiet else EventPrinter()
    with Journal(out / "journal.jsonl", header=header, on_record=printer) as journal:
        engine = make_engine(
            inputs, grid=start.grid, start_ns=day_start_ns(day_number(start.first_ns)),
            source=Timeframe.M1, journal=journal, broker=broker, instruments=instruments,
            durable=True,
        )  # fmt: skip
        result = run_paced(engine, feed, speed=0, poll=_control_poller(workdir))
        note = f"{'live' if live else 'paper'} trading on SmartAPI market data"
        report = write_results(engine, journal, out, inputs, note)
    if result.stopped:
        state = "flat and halted" if result.halted else "stopped before the book was flat"
        print(f"stopped on request ({result.stopped}): {state}")
    print(report.render())
    print(f"feed: {feed.counters.ticks} ticks, {feed.counters.bars} bars, "
          f"{feed.counters.outages} outages")  # fmt: skip
    print(f"written to {out}/ (summary.json, trades.csv, journal.jsonl)")
    return 0


def _logout_at(at: time) -> datetime:
    """The next ``at`` IST from now: when the session is logged out for the day."""
    from engine.timeutil import IST

    now = datetime.now(IST)
    when = datetime.combine(now.date(), at, tzinfo=IST)
    if when <= now:
        when += timedelta(days=1)
    return when.astimezone(UTC)
