"""Files in, an engine out: what ``engine backtest`` and ``engine run`` share.

Rules are loaded and refused when they do not validate; the machines come from the
shipped folder unless ``--machines`` names another; the underlying's bars are read and
validated against the calendar (the shipped NSE calendar when it covers them, else one
derived from the file); the official daily file and India VIX, when given, are cut so
that nothing later than the data is read. Daily history before the first intraday
session warms the daily indicators up before the replay starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.errors import DataError, UserInputError
from engine.model.enums import Timeframe
from engine.model.market import Bar

__all__ = [
    "Inputs",
    "SHIPPED_MACHINES",
    "build_engine",
    "load_inputs",
    "load_live_inputs",
    "make_engine",
    "published_events",
]

SHIPPED_MACHINES = Path(__file__).resolve().parent.parent / "machines" / "shipped"
MACHINE_NAMES = ("killswitch", "breakers", "session", "position")


@dataclass(slots=True)
class Inputs:
    rules: Any  # RuleSpec
    machines: dict[str, Any]
    series: Any  # engine.data.series.Series of the underlying
    bars: list[Bar]
    daily_warmup: list[Bar] = field(default_factory=list)
    daily: list[Bar] = field(default_factory=list)
    vix_daily: list[Bar] = field(default_factory=list)
    vix_warmup: list[Bar] = field(default_factory=list)
    vix_intraday: list[Bar] = field(default_factory=list)
    options_path: Path | None = None
    capital: Decimal = Decimal("500000")
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{flag} '{text}' is not a date; write YYYY-MM-DD") from None


def _existing(path: str | None, flag: str) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"{flag} {path}: no such file")
    return p


def load_inputs(
    rules_path: str,
    data: str,
    *,
    daily: str | None = None,
    vix: str | None = None,
    options: str | None = None,
    machines: str | None = None,
    start: str | None = None,
    end: str | None = None,
    capital: str | None = None,
) -> Inputs:
    from engine.spec.rules import load_rule_file

    rules_file = _existing(rules_path, "RULES")
    assert rules_file is not None
    rules = load_rule_file(rules_file, rules_path)
    specs = _machines(machines)
    first, last = _date(start, "--from"), _date(end, "--to")
    if first and last and first > last:
        raise UserInputError(f"--from {first} is after --to {last}")
    series = _series(rules, rules_path, data)
    bars = _between(series.bars, first, last)
    if not bars:
        raise DataError("no bars between --from and --to", file=data)
    _check_expiries(rules, rules_path, bars, series.grid.calendar)
    out = Inputs(rules, specs, series, bars, notes=[series.choice.note])
    out.files = {"rules": str(rules_path), "data": str(data)}
    if capital is not None:
        out.capital = _capital(capital)
    first_day, last_day = bars[0].trading_date, bars[-1].trading_date
    if daily is not None:
        _daily(out, daily, first_day, last_day)
    if vix is not None:
        _vix(out, vix, first_day, last_day)
    if options is not None:
        out.options_path = _existing(options, "--options")
        out.files["options"] = str(options)
    return out


def _machines(machines: str | None) -> dict[str, Any]:
    from engine.machines import load_machine_file

    folder = Path(machines) if machines else SHIPPED_MACHINES
    if not folder.is_dir():
        raise UserInputError(f"--machines {folder}: no such folder")
    specs = {}
    for name in MACHINE_NAMES:
        path = folder / f"{name}.yaml"
        if not path.is_file():
            raise UserInputError(f"{folder} has no {name}.yaml; the engine needs all four machines")
        specs[name] = load_machine_file(path)
    return specs


def _series(rules: Any, rules_path: str, data: str) -> Any:
    """The underlying's validated series, checked against what the rules read."""
    from engine.data.series import load_validated_series

    data_file = _existing(data, "--data")
    assert data_file is not None
    found = load_validated_series(data_file)
    if not found:
        raise DataError("no bars in the file", file=str(data_file))
    underlying = rules.underlyings[0]
    series = next((s for s in found if s.symbol == underlying), None)
    if series is None:
        if len(found) != 1:
            names = ", ".join(s.symbol for s in found)
            raise DataError(f"the file holds {names}, not {underlying}", file=str(data_file))
        series = found[0]
    tf = series.timeframe
    if tf is Timeframe.D1:
        raise UserInputError(
            f"--data {data}: daily bars cannot drive a backtest; give intraday bars"
        )
    finer = sorted((t for t in _declared(rules) if t.nanos < tf.nanos), key=lambda t: t.nanos)
    if finer:
        names = ", ".join(t.context_name for t in finer)
        raise UserInputError(
            f"{rules_path} reads {names} bars, but the finest bars in {data} are "
            f"{tf.value}; use a rule written for {tf.value} data"
        )
    return series


def _check_expiries(rules: Any, rules_path: str, bars: list[Bar], calendar: Any) -> None:
    """A weekly expiry the rule asks for must exist on every date of the data: refused at
    load, with the dates, rather than at the first entry (BANKNIFTY's weeklies ended
    2024-11-14)."""
    from engine.data.instruments import CalendarInstruments

    mode = str(rules.strikes.get("expiry", "nearest_weekly"))
    if mode not in ("nearest_weekly", "next_weekly") or getattr(calendar, "derived", False):
        return
    source = CalendarInstruments(calendar)
    days = sorted({b.trading_date for b in bars[:: max(1, len(bars) // 4000)]} | {
        bars[0].trading_date, bars[-1].trading_date,
    })  # fmt: skip
    for underlying in rules.underlyings:
        missing = [d for d in days if not source.weekly_available(underlying, d)]
        if missing:
            raise UserInputError(
                f"{rules_path}: strikes.expiry '{mode}' does not exist for {underlying} on "
                f"{len(missing)} date(s) of the data ({missing[0]} .. {missing[-1]}): it has "
                "monthly contracts only then; use 'nearest_monthly' or limit the dates "
                "with --from/--to"
            )


def _capital(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise UserInputError(f"--capital '{text}' is not a number") from None
    if not value.is_finite() or value <= 0:
        raise UserInputError(f"--capital must be a positive number of rupees, not {text}")
    return value


def _one_series(path: str, flag: str) -> Any:
    """The one series of a daily or VIX file, validated (and remembered by the cache)."""
    from engine.data.series import load_validated_series

    found = load_validated_series(_existing(path, flag))  # type: ignore[arg-type]
    if len(found) != 1:
        raise DataError(f"{flag} must hold one series; it holds {len(found)}", file=path)
    return found[0]


def _daily(out: Inputs, daily: str, first_day: date, last_day: date) -> None:
    rows = _one_series(daily, "--daily").bars
    out.daily_warmup = _between(rows, None, first_day - timedelta(days=1))
    out.daily = _between(rows, first_day, last_day)
    out.files["daily"] = str(daily)


def _vix(out: Inputs, vix: str, first_day: date, last_day: date) -> None:
    read = _one_series(vix, "--vix")
    if read.timeframe is Timeframe.D1:
        rows = read.bars
        out.vix_warmup = _between(rows, None, first_day - timedelta(days=1))[-1:]
        out.vix_daily = _between(rows, first_day, last_day)
    else:
        out.vix_intraday = _between(read.bars, first_day, last_day)
    out.files["vix"] = str(vix)


def _between(bars: list[Bar], first: date | None, last: date | None) -> list[Bar]:
    """The bars (in time order) whose IST trading date is within first..last."""
    from bisect import bisect_left

    from engine.runtime.day import DAY_NS, day_start_ns

    epoch = date(1970, 1, 1).toordinal()
    starts = [b.ts_event for b in bars]
    lo = 0 if first is None else bisect_left(starts, day_start_ns(first.toordinal() - epoch))
    hi = (
        len(bars)
        if last is None
        else bisect_left(starts, day_start_ns(last.toordinal() - epoch) + DAY_NS)
    )
    return bars[lo:hi]


def _declared(rules: Any) -> list[Timeframe]:
    from engine.vocabulary import TIMEFRAMES

    return [TIMEFRAMES[tf] for tf in rules.indicators if tf in TIMEFRAMES]


def build_engine(
    inputs: Inputs,
    *,
    journal: Any,
    broker: Any,
    durable: bool = False,
    echo_notifications: bool = True,
    record_bars: bool = True,
    extra_rules: Sequence[Any] = (),
) -> tuple[Any, Any]:
    """The engine and the replay feed for ``inputs`` (adapters wired here, not in the core);
    ``extra_rules`` trade beside ``inputs.rules`` on the same data (a portfolio)."""
    from adapters.replay import ReplayFeed
    from engine.runtime.day import day_number, day_start_ns

    series = inputs.series
    grid = series.grid
    start = day_start_ns(day_number(inputs.bars[0].ts_event))
    engine = make_engine(
        inputs,
        grid=grid,
        start_ns=start,
        source=series.timeframe,
        journal=journal,
        broker=broker,
        durable=durable,
        echo_notifications=echo_notifications,
        record_bars=record_bars,
        extra_rules=extra_rules,
    )
    feed = ReplayFeed(
        inputs.bars,
        grid,
        symbol=inputs.rules.underlyings[0],
        daily=inputs.daily,
        vix_daily=inputs.vix_daily,
        vix_intraday=inputs.vix_intraday,
        description=f"{len(inputs.bars)} {series.symbol} {series.timeframe.value} bars "
        f"{inputs.bars[0].trading_date} .. {inputs.bars[-1].trading_date}",
    )
    return engine, feed


def make_engine(
    inputs: Inputs,
    *,
    grid: Any,
    start_ns: int,
    source: Timeframe,
    journal: Any,
    broker: Any,
    instruments: Any = None,
    durable: bool = False,
    echo_notifications: bool = True,
    record_bars: bool = True,
    extra_rules: Sequence[Any] = (),
) -> Any:
    """The engine for ``inputs`` starting at ``start_ns``, warmed up by the daily history
    before it; the feed is the caller's (a replay, or a live feed)."""
    from engine.costs.charges import ChargesTable
    from engine.data.instruments import CalendarInstruments
    from engine.ports import VixUpdated
    from engine.runtime.core import Engine, EngineConfig

    calendar = grid.calendar
    quotes = _quotes(inputs, calendar)
    config = EngineConfig(
        capital=inputs.capital,
        durable=durable,
        source=source,
        daily_from_feed=bool(inputs.daily or inputs.daily_warmup),
        echo_notifications=echo_notifications,
        record_bars=record_bars,
    )
    engine = Engine(
        rules=[inputs.rules, *extra_rules],
        machines=inputs.machines,
        grid=grid,
        start_ns=start_ns,
        broker=broker,
        instruments=instruments or CalendarInstruments(calendar),
        quotes=quotes,
        journal=journal,
        charges=ChargesTable.default(),
        config=config,
    )
    engine.warm_up(inputs.daily_warmup)
    for bar in inputs.vix_warmup:
        engine.process(VixUpdated(start_ns, bar.close, "daily"))
    return engine


def published_events(inputs: Inputs, grid: Any) -> list[Any]:
    """The official daily bars and India VIX values of ``inputs`` as the events a replay
    of the same days slots in (each at the instant it becomes known), for a live feed."""
    from adapters.replay import ReplayFeed

    replay = ReplayFeed([], grid, symbol=inputs.rules.underlyings[0], daily=inputs.daily,
                        vix_daily=inputs.vix_daily, vix_intraday=inputs.vix_intraday)  # fmt: skip
    return list(replay.events())


def load_live_inputs(
    rules_path: str,
    first_day: date,
    *,
    daily: str | list[Bar] | None = None,
    vix: str | list[Bar] | None = None,
    machines: str | None = None,
    capital: str | None = None,
) -> Inputs:
    """Rules, machines, and the daily and India VIX history for a live feed whose first
    session is ``first_day`` (files, or bars read from the broker)."""
    from engine.spec.rules import load_rule_file

    rules_file = _existing(rules_path, "RULES")
    assert rules_file is not None
    out = Inputs(load_rule_file(rules_file, rules_path), _machines(machines), None, [])
    out.files = {"rules": str(rules_path), "data": "SmartAPI WebSocket"}
    if capital is not None:
        out.capital = _capital(capital)
    last_day = date.max - timedelta(days=1)
    if isinstance(daily, str):
        _daily(out, daily, first_day, last_day)
    elif daily:
        out.daily_warmup = _between(daily, None, first_day - timedelta(days=1))
        out.files["daily"] = "SmartAPI candles"
    if isinstance(vix, str):
        _vix(out, vix, first_day, last_day)
    elif vix:
        out.vix_warmup = _between(vix, None, first_day - timedelta(days=1))[-1:]
        out.files["vix"] = "SmartAPI candles"
    return out


def _quotes(inputs: Inputs, calendar: Any) -> Any:
    from engine.pricing.premiums import BlackScholesPremiums, ChainedPremiums, MarketPremiums
    from engine.pricing.vix import DailyVixSource, FallbackVix, IntradayVixSource

    daily = [*inputs.vix_warmup, *inputs.vix_daily]
    if not daily and not inputs.vix_intraday:
        raise UserInputError(
            "option premiums are modelled from India VIX when the data holds no option "
            "prices: give --vix (a daily or 1-minute India VIX file)"
        )
    vix: Any = DailyVixSource(daily) if daily else None
    if inputs.vix_intraday:
        intraday = IntradayVixSource(inputs.vix_intraday)
        vix = FallbackVix(intraday, vix) if vix is not None else intraday
    model: Any = BlackScholesPremiums(vix, calendar=calendar if not calendar.derived else None)
    if inputs.options_path is not None:
        from engine.pricing.option_bars import read_option_bars

        market = MarketPremiums(read_option_bars(inputs.options_path))
        return ChainedPremiums(market, model)
    return model
