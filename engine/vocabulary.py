"""Every name an expression can read: the one vocabulary below rules, machines and runtime.

Rule conditions and machine guards read a flat namespace of dotted names (``daily.adx``,
``h1.prev.plus_di``, ``vix``, ``position.pnl_pct``). Which names exist, with their type,
unit and meaning, is decided here and nowhere else: the rule loader checks expressions
against ``rule_vocabulary``, the machine loader against ``machine_vocabulary`` (built on
``base_vocabulary`` and ``MACHINE_NAMES``), the runtime fills exactly these names, and
``engine context`` and docs/rules.md list them.

Timeframe namespaces are the context names of ``engine.model.Timeframe`` (``m1`` .. ``daily``),
so data and rules share one timeframe type.
"""

from __future__ import annotations

from engine.expr import NameInfo, ValueType, Vocabulary
from engine.model.enums import Timeframe

__all__ = [
    "BAR_FIELDS",
    "MACHINE_NAMES",
    "RUNNER_NAMES",
    "TIMEFRAMES",
    "MAX_HISTORY",
    "WEEKDAYS",
    "ago_name",
    "base_vocabulary",
    "rule_vocabulary",
    "timeframe_of",
    "timeframe_vocabulary",
]

#: Timeframe namespaces (the rule file's keys under ``indicators``) and their Timeframe.
TIMEFRAMES: dict[str, Timeframe] = {tf.context_name: tf for tf in Timeframe}


def timeframe_of(namespace: str) -> Timeframe:
    """The Timeframe of a namespace (``"h1"`` -> ``Timeframe.H1``); KeyError when unknown."""
    return TIMEFRAMES[namespace]


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_N, _B, _T, _D, _S = (
    ValueType.NUMBER,
    ValueType.BOOL,
    ValueType.TIME,
    ValueType.DATE,
    ValueType.STRING,
)

#: Names the runtime fills, whatever the rule declares: (type, unit, meaning[, choices]).
_RUNTIME: dict[str, tuple] = {
    "time": (_T, "", "exchange time of day (IST) of the current event"),
    "date": (_D, "", "trading date (IST)"),
    "weekday": (_S, "", "day of the week of the trading date", WEEKDAYS),
    "dte": (
        _N,
        "sessions",
        "sessions to the nearest expiry of the underlying (0 on expiry day; a Muhurat hour "
        "is not a session)",
    ),
    "dte_days": (_N, "days", "calendar days to the nearest expiry"),
    "minutes_since_open": (
        _N,
        "minutes",
        "minutes since the session part now trading opened (a split session's later part "
        "counts from its own open)",
    ),
    "minutes_to_close": (
        _N,
        "minutes",
        "minutes until the session part now trading closes (on a split session, that part's "
        "close; between parts, the next part's)",
    ),
    "vix": (_N, "points", "India VIX, last value"),
    "vix_change_5m": (_N, "points", "India VIX change over the last 5 minutes"),
    "vix_change_10m": (_N, "points", "India VIX change over the last 10 minutes"),
    "underlying.ltp": (_N, "INR", "last traded price of the underlying"),
    "underlying.prev_close": (_N, "INR", "previous session's close of the underlying"),
    "underlying.change_pct": (_N, "%", "change since the previous close"),
    "underlying.change_5m_pct": (_N, "%", "underlying change over the last 5 minutes"),
    "underlying.gap_pct": (_N, "%", "opening gap versus the previous close"),
    "position.open": (_B, "", "a position is open on this rule's underlying"),
    "position.side": (_S, "", "option type of the open position", ("CE", "PE", "none")),
    "position.qty_lots": (_N, "lots", "open quantity in lots"),
    "position.entry_price": (_N, "INR", "average entry premium"),
    "position.ltp": (_N, "INR", "last premium of the open option"),
    "position.pnl": (_N, "INR", "unrealised P&L of the open position"),
    "position.pnl_pct": (_N, "%", "unrealised P&L as a percent of the entry premium"),
    "position.max_pnl_pct": (_N, "%", "best pnl_pct since entry (for trailing exits)"),
    "position.underlying_move_pct": (_N, "%", "underlying move since entry, in the trade's favour"),
    "position.best_underlying_move_pct": (
        _N,
        "%",
        "best underlying_move_pct since entry (for breakeven and trailing exits on the underlying)",
    ),
    "position.dte": (_N, "sessions", "sessions to the held contract's expiry (0 on expiry day)"),
    "position.expiry": (_D, "", "expiry date of the held contract"),
    "position.minutes_held": (_N, "minutes", "minutes since the entry fill"),
    "position.bars_held": (_N, "bars", "completed 1-minute bars since the entry fill"),
    "position.entries_today": (_N, "count", "entries on this underlying today"),
    "position.is_reentry": (_B, "", "the open position is not the day's first entry on it"),
    "last_entry.underlying_move_pct": (
        _N,
        "%",
        "underlying move since the previous entry's fill today (signed; missing before one)",
    ),
    "last_exit.reason": (
        _S,
        "",
        "reason of the previous exit today: the exit rule's name, or what asked it "
        "('none' before one)",
    ),
    "last_exit.stop_out": (_B, "", "the previous exit today was a stop-out (stop_out: true)"),
    "positions.open": (_N, "count", "open positions across all rules"),
    "orders.pending": (_N, "count", "orders sent and not yet filled, rejected or cancelled"),
    "account.capital": (_N, "INR", "capital the sizing works from"),
    "account.day_pnl": (_N, "INR", "realised plus unrealised P&L today"),
    "account.day_pnl_pct": (_N, "%", "day P&L as a percent of capital"),
    "account.margin_used_pct": (_N, "%", "margin in use as a percent of available margin"),
    "account.consecutive_losses": (_N, "count", "losing trades in a row today"),
    "account.reject_rate_15m_pct": (_N, "%", "order rejections over the last 15 minutes"),
    "account.error_rate_5m_pct": (_N, "%", "broker errors over the last 5 minutes"),
    "data.gap": (
        _B,
        "",
        "the feed is in a gap: silent in session for two source bars (at least 60 s)",
    ),
    "data.silent_min": (
        _N,
        "minutes",
        "how long the feed has been silent in session, while it is (whole minutes; 0 when "
        "data flows)",
    ),
    "data.last_gap_min": (_N, "minutes", "how long the last gap of the feed lasted, once over"),
    "data.stale_seconds": (_N, "s", "seconds since the last tick"),
}


def _info(spec: tuple) -> NameInfo:
    typ, unit, doc, *rest = spec
    return NameInfo(typ, doc, tuple(rest[0]) if rest else (), unit)


def base_vocabulary() -> Vocabulary:
    """The runtime names every rule and machine guard may read."""
    return Vocabulary({name: _info(spec) for name, spec in sorted(_RUNTIME.items())})


#: Fields of every bar, in every declared timeframe.
BAR_FIELDS: dict[str, str] = {
    "open": "first price of the bar",
    "high": "highest price of the bar",
    "low": "lowest price of the bar",
    "close": "last price of the bar",
    "volume": "volume of the bar (0 for indices, which have none)",
}


#: The deepest ``history`` a rule file may declare for one timeframe.
MAX_HISTORY = 50


def ago_name(timeframe: str, bars: int, field: str) -> str:
    """The name of ``field`` of ``timeframe``, ``bars`` completed bars back (1 is .prev)."""
    return f"{timeframe}.ago{bars}.{field}"


def timeframe_vocabulary(
    timeframe: str, indicators: dict[str, str] | None = None, history: int = 1
) -> dict[str, NameInfo]:
    """Bar fields and declared indicators of one timeframe, one bar back (``prev``) and
    up to ``history`` bars back (``ago1`` .. ``agoN``)."""
    out: dict[str, NameInfo] = {}
    entries = {f: (doc, "qty" if f == "volume" else "price") for f, doc in BAR_FIELDS.items()}
    for name, definition in (indicators or {}).items():
        entries.setdefault(name, (f"{definition} on {timeframe} bars", ""))
    for name, (doc, unit) in entries.items():
        out[f"{timeframe}.{name}"] = NameInfo(ValueType.NUMBER, doc, (), unit)
        out[f"{timeframe}.prev.{name}"] = NameInfo(
            ValueType.NUMBER, f"{doc}, one completed bar back", (), unit
        )
        if history > 1:
            for bars in range(1, history + 1):
                out[ago_name(timeframe, bars, name)] = NameInfo(
                    ValueType.NUMBER, f"{doc}, {bars} completed bars back", (), unit
                )
    return out


def rule_vocabulary(
    indicators: dict[str, dict[str, str] | None],
    params: dict[str, float] | None = None,
    history: dict[str, int] | None = None,
) -> Vocabulary:
    """The vocabulary of one rule file: runtime names, declared timeframes (with their
    declared history), params."""
    names = dict(base_vocabulary().names)
    history = history or {}
    depth_notes: dict[str, str] = {}
    for timeframe, declared in indicators.items():
        depth = history.get(timeframe, 1)
        names.update(timeframe_vocabulary(timeframe, declared or {}, depth))
        if depth == 1:
            depth_notes[f"{timeframe}.ago1"] = (
                f"one bar back is '{timeframe}.prev.FIELD'; 'agoN' names need "
                f"'history: {{{timeframe}: N}}'"
            )
        for bars in range(depth + 1 if depth > 1 else 2, MAX_HISTORY + 1):
            depth_notes[f"{timeframe}.ago{bars}"] = (
                f"'{timeframe}' keeps {depth} bar{'s' if depth > 1 else ''} back; declare "
                f"'history: {{{timeframe}: {bars}}}' (at most {MAX_HISTORY}) to read {bars} "
                "bars back"
            )
    for key, value in (params or {}).items():
        names[f"params.{key}"] = NameInfo(
            ValueType.NUMBER, "a constant set in the rule's params", constant=value
        )
    notes = {
        tf: f"timeframe '{tf}' is not declared; add '{tf}: {{}}' (or its indicators) under "
        "'indicators' to read it"
        for tf in TIMEFRAMES
        if tf not in indicators
    }
    return Vocabulary(dict(sorted(names.items())), {**notes, **depth_notes})


#: Names the machine runner fills itself, from the calendar, at every step.
RUNNER_NAMES: dict[str, NameInfo] = {
    "calendar.is_session": NameInfo(_B, "today (IST) is an F&O trading session"),
    "calendar.hours_known": NameInfo(_B, "today's session hours are published"),
    "calendar.session_kind": NameInfo(
        _S, "kind of today's session: regular, muhurat, budget_session ... or none"
    ),
}

#: Runtime facts only machines read; the runtime fills them like any other name.
MACHINE_NAMES: dict[str, NameInfo] = {
    **RUNNER_NAMES,
    "broker.session_ending": NameInfo(
        _B,
        "the broker session will not last: it ends within the safety margin and the broker "
        "adapter could not refresh it (or it has already ended)",
    ),
    "position.exit_working": NameInfo(_B, "an exit order of this position is working"),
    "orders.fat_finger": NameInfo(
        _B,
        "an order the engine built failed a fat-finger check (price far off the last price, "
        "or above the freeze quantity) just now",
    ),
    "account.balance_pct_of_day_start": NameInfo(
        _N, "the account balance now as a percent of the balance at the day's start"
    ),
    "underlying.side_held": NameInfo(
        _S,
        "option side held or being entered on this underlying across all rules "
        "(open positions and working entry orders)",
        ("CE", "PE", "none"),
    ),
}
