"""The read-only namespace rules and machine guards read.

The context is a flat mapping of dotted name -> value (``"daily.adx"``, ``"h1.prev.plus_di"``,
``"vix"``, ``"time"``), which is what compiled expressions read with one dictionary lookup
each. Which names exist is the *vocabulary*: the runtime names below, plus per timeframe the
bar fields and the indicators a rule file declares. The expression checker validates every
name against it at load time, and ``engine context rules/adx.yaml`` lists it.

A value that is not available (an indicator warming up, no position open) is a ``Missing``
with the reason, never NaN and never absent. Expressions treat it with three-valued logic:
a boolean expression over this context evaluates to ``True``, ``False`` or a ``Missing``,
and a filter, trigger, exit or guard holds only when its value ``is True``. Code that acts
on a condition tests ``value is True`` (``engine.expr.holds``), never ``not value``: Python's
``not`` of a missing value is True.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from engine.errors import CalendarError
from engine.expr import Missing, NameInfo, ValueType, Vocabulary
from engine.model import ns_to_datetime
from engine.timeutil import IST

if TYPE_CHECKING:
    from engine.data.calendar import Calendar
    from engine.indicators import IndicatorSet
    from engine.model import Bar

__all__ = [
    "BAR_FIELDS",
    "LiveContext",
    "TIMEFRAMES",
    "WEEKDAYS",
    "base_vocabulary",
    "rule_vocabulary",
    "timeframe_vocabulary",
]

#: Timeframe namespaces and their bar length in minutes (daily: one session).
TIMEFRAMES: dict[str, int] = {"m1": 1, "m5": 5, "m15": 15, "h1": 60, "daily": 0}
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
    "dte": (_N, "sessions", "sessions to the nearest expiry of the underlying (0 on expiry day)"),
    "dte_days": (_N, "days", "calendar days to the nearest expiry"),
    "minutes_since_open": (_N, "minutes", "minutes since the session opened"),
    "minutes_to_close": (_N, "minutes", "minutes until the session closes"),
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
    "position.minutes_held": (_N, "minutes", "minutes since the entry fill"),
    "position.bars_held": (_N, "bars", "completed 1-minute bars since the entry fill"),
    "position.entries_today": (_N, "count", "entries on this underlying today"),
    "positions.open": (_N, "count", "open positions across all rules"),
    "orders.pending": (_N, "count", "orders sent and not yet filled, rejected or cancelled"),
    "account.capital": (_N, "INR", "capital the sizing works from"),
    "account.day_pnl": (_N, "INR", "realised plus unrealised P&L today"),
    "account.day_pnl_pct": (_N, "%", "day P&L as a percent of capital"),
    "account.margin_used_pct": (_N, "%", "margin in use as a percent of available margin"),
    "account.consecutive_losses": (_N, "count", "losing trades in a row today"),
    "account.reject_rate_15m_pct": (_N, "%", "order rejections over the last 15 minutes"),
    "account.error_rate_5m_pct": (_N, "%", "broker errors over the last 5 minutes"),
    "data.gap": (_B, "", "the feed is in a gap (no tick for over 60 s in session)"),
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


def timeframe_vocabulary(
    timeframe: str, indicators: dict[str, str] | None = None
) -> dict[str, NameInfo]:
    """Bar fields and declared indicators of one timeframe, and the same one bar back."""
    out: dict[str, NameInfo] = {}
    entries = {f: (doc, "qty" if f == "volume" else "price") for f, doc in BAR_FIELDS.items()}
    for name, definition in (indicators or {}).items():
        entries.setdefault(name, (f"{definition} on {timeframe} bars", ""))
    for name, (doc, unit) in entries.items():
        out[f"{timeframe}.{name}"] = NameInfo(ValueType.NUMBER, doc, (), unit)
        out[f"{timeframe}.prev.{name}"] = NameInfo(
            ValueType.NUMBER, f"{doc}, one completed bar back", (), unit
        )
    return out


def rule_vocabulary(
    indicators: dict[str, dict[str, str] | None], params: dict[str, float] | None = None
) -> Vocabulary:
    """The vocabulary of one rule file: runtime names, declared timeframes, params."""
    names = dict(base_vocabulary().names)
    for timeframe, declared in indicators.items():
        names.update(timeframe_vocabulary(timeframe, declared or {}))
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
    return Vocabulary(dict(sorted(names.items())), notes)


_NS_PER_MINUTE = 60_000_000_000


class _ChangeWindow:
    """Change of a value over the last N minutes: now minus the last value at or before
    now - N (missing until that much history exists)."""

    __slots__ = ("_history", "_label", "_window_ns")

    def __init__(self, minutes: int, label: str) -> None:
        self._window_ns = minutes * _NS_PER_MINUTE
        self._history: deque[tuple[int, float]] = deque()
        self._label = label

    def push(self, ts_ns: int, value: float) -> Any:
        history = self._history
        history.append((ts_ns, value))
        cutoff = ts_ns - self._window_ns
        # Keep exactly one observation at or before the cutoff: the reference value.
        while len(history) >= 2 and history[1][0] <= cutoff:
            history.popleft()
        then_ts, then = history[0]
        if then_ts > cutoff:
            return Missing(
                f"{self._label}: less than {self._window_ns // _NS_PER_MINUTE} minutes of history"
            )
        return value - then


class LiveContext:
    """The flat namespace a rule's expressions read, kept up to date as data arrives.

    Every name of the vocabulary is always present: a value not available is a
    ``Missing`` with the reason. Only declared timeframes and indicators are computed.
    ``values`` is the dict compiled expressions read; the runtime updates it through the
    ``on_*`` methods and ``set`` (for ``position.*`` and ``account.*``), never directly.
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        indicators: Mapping[str, Mapping[str, str] | None],
        params: Mapping[str, float] | None = None,
        *,
        underlying: str = "NIFTY",
        calendar: Calendar | None = None,
    ) -> None:
        from engine.indicators import IndicatorSet

        self.vocabulary = vocabulary
        self.underlying = underlying
        self.calendar = calendar
        self.values: dict[str, Any] = {
            name: Missing(f"{name} has no value yet") for name in vocabulary
        }
        for key, value in (params or {}).items():
            self.values[f"params.{key}"] = value
        self._sets: dict[str, IndicatorSet] = {}
        self._aliases: dict[str, dict[str, str]] = {}
        for tf, declared in indicators.items():
            declared = dict(declared or {})
            aliases = {n: d for n, d in declared.items() if d in BAR_FIELDS}
            computed = {n: d for n, d in declared.items() if n not in aliases}
            self._sets[tf] = IndicatorSet.from_specs(computed)
            self._aliases[tf] = aliases
        self._vix_5m = _ChangeWindow(5, "vix_change_5m")
        self._vix_10m = _ChangeWindow(10, "vix_change_10m")
        self._ltp_5m = _ChangeWindow(5, "underlying.change_5m_pct")
        self._date: date | None = None

    def on_bar(self, timeframe: str, bar: Bar) -> None:
        """A bar of a declared timeframe closed: shift to .prev, set fields, update indicators."""
        indicator_set = self._sets.get(timeframe)
        if indicator_set is None:
            return  # not declared: nothing reads it
        v = self.values
        head, prev = f"{timeframe}.", f"{timeframe}.prev."
        names = (*BAR_FIELDS, *self._aliases[timeframe], *indicator_set.names)
        for name in names:
            v[prev + name] = v[head + name]
        fields = {
            "open": bar.open,
            "high": bar.high,
            "low": bar.low,
            "close": bar.close,
            "volume": float(bar.volume),
        }
        for name, value in fields.items():
            v[head + name] = value
        for name, field_name in self._aliases[timeframe].items():
            v[head + name] = fields[field_name]
        indicator_set.update(bar.open, bar.high, bar.low, bar.close, float(bar.volume))
        for name, value in indicator_set.values().items():
            if value is None:
                seen, needed = indicator_set.status(name)
                value = Missing(f"{head}{name} not ready ({seen} of {needed} bars)")
            v[head + name] = value

    def on_underlying(self, ts_ns: int, ltp: float, prev_close: float | None = None) -> None:
        v = self.values
        v["underlying.ltp"] = ltp
        if prev_close is not None:
            v["underlying.prev_close"] = prev_close
        pc = v["underlying.prev_close"]
        if type(pc) is not Missing and pc:
            v["underlying.change_pct"] = (ltp - pc) / pc * 100.0
        change = self._ltp_5m.push(ts_ns, ltp)
        v["underlying.change_5m_pct"] = (
            change if type(change) is Missing else change / (ltp - change) * 100.0
        )

    def on_vix(self, ts_ns: int, value: float) -> None:
        v = self.values
        v["vix"] = value
        v["vix_change_5m"] = self._vix_5m.push(ts_ns, value)
        v["vix_change_10m"] = self._vix_10m.push(ts_ns, value)

    def on_clock(self, ts_ns: int) -> None:
        """Set time, date, weekday and the session and expiry counters for this instant."""
        now = ns_to_datetime(ts_ns, IST)
        v = self.values
        v["time"] = now.time().replace(microsecond=0, tzinfo=None)
        today = now.date()
        if today != self._date:
            self._date = today
            v["date"] = today
            v["weekday"] = WEEKDAYS[today.weekday()]
            self._set_expiry(today)
        self._set_session_minutes(now)

    def _set_expiry(self, today: date) -> None:
        v = self.values
        if self.calendar is None:
            v["dte"] = v["dte_days"] = Missing("no calendar given")
            return
        try:
            expiry = self.calendar.next_expiry(self.underlying, today)
            sessions, days = self.calendar.days_to_expiry(today, expiry.date)
        except CalendarError as e:
            v["dte"] = v["dte_days"] = Missing(str(e))
            return
        v["dte"], v["dte_days"] = sessions, days

    def _set_session_minutes(self, now: Any) -> None:
        v = self.values
        session = None
        if self.calendar is not None:
            try:
                session = self.calendar.session(now.date())
            except CalendarError as e:
                v["minutes_since_open"] = v["minutes_to_close"] = Missing(str(e))
                return
        if session is None or not session.hours_known:
            reason = "no session hours for this day"
            v["minutes_since_open"] = v["minutes_to_close"] = Missing(reason)
            return
        v["minutes_since_open"] = (now - session.open_at()).total_seconds() / 60.0
        v["minutes_to_close"] = (session.close_at() - now).total_seconds() / 60.0

    def set(self, name: str, value: Any) -> None:
        """Set a runtime-filled name (position.*, account.*, orders.*); unknown names fail."""
        if name not in self.values:
            raise KeyError(f"'{name}' is not in this rule's vocabulary")
        self.values[name] = value

    def indicator_set(self, timeframe: str) -> IndicatorSet | None:
        return self._sets.get(timeframe)

    @classmethod
    def for_rule(cls, spec: Any, *, calendar: Calendar | None = None) -> LiveContext:
        """The context of a loaded RuleSpec, for its first underlying."""
        return cls(
            spec.vocabulary,
            spec.indicators,
            spec.params,
            underlying=spec.underlyings[0],
            calendar=calendar,
        )
