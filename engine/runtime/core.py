"""The runtime core: one owner of time, one event at a time, machines woken by deadlines.

``Engine`` holds the current time as integer nanoseconds and is the only clock the
machines, the traders and the journal read. Every input is an event: a market event
from the feed (``process``), a deadline (``Timers``, the machines' ``next_deadline``, the
start of a day, the data-silence limit), a broker event, a machine action, an operator
request. Each is processed to completion before the next: machine actions and broker
events raised while processing one event wait in a queue and run right after it, so a
transition is never re-entered by what it asked for.

For a market event at time ``t`` the order is fixed:

1. every deadline at or before ``t`` runs first, in time order, each settled;
2. the event updates the shared facts and the views (a bar's longer timeframes close
   here, never before their end);
3. the machines whose inputs changed step (settled: actions and broker events run);
4. the traders: exits on every tick and bar close, entries on a bar close
   (``engine.strategy.decide`` holds that order);
5. settled again.

Backtest, paper and live differ only in the feed, the clock that paces the driver and
the broker behind ``engine.ports``: there is no mode switch in here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from engine.context import ChangeWindow, Context, RuleView
from engine.data.resample import SessionAggregator
from engine.data.session_grid import SessionGrid
from engine.errors import InvalidTransition
from engine.expr import Missing
from engine.journal import Journal
from engine.journal.recorder import DecisionRecorder
from engine.logs import category_logger
from engine.machines import (
    ActionRequested,
    EmergencyRaised,
    MachineEvent,
    MachineRunner,
    MachineSpec,
    MachineSystem,
    TransitionTaken,
    TriggerIgnored,
)
from engine.model.enums import Timeframe
from engine.model.market import IST_OFFSET_NS, NANOS, Bar, ns_to_datetime
from engine.model.trading import (
    BrokerEvent,
    OptionKind,
    OrderPurpose,
)
from engine.orders.manager import OrderManager
from engine.portfolio.ledger import Ledger
from engine.ports import (
    BarClosed,
    Broker,
    BrokerSessionExpiring,
    ClockAdvanced,
    DailyBarPublished,
    FeedEvent,
    FeedOutage,
    InstrumentSource,
    QuoteSource,
    TickReceived,
    VixUpdated,
)
from engine.risk.checks import RiskState
from engine.runtime.actions import Actions
from engine.runtime.books import Books
from engine.runtime.day import DayFacts, day_number, day_start_ns
from engine.runtime.timers import Timers
from engine.spec.rules import RuleSpec
from engine.strategy.decide import Trader

__all__ = ["Engine", "EngineConfig", "EngineClock"]

log = category_logger("runtime")

_NEVER = 1 << 62
_UNSET = object()
_MINUTE_NS = 60 * NANOS
_SECONDS_PER_DAY = 86_400
_GLOBAL_MACHINES = ("killswitch", "breakers", "session")


class EngineClock:
    """The engine's time as a ``Clock``: machines read time here and nowhere else."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def now_ns(self) -> int:
        return self._engine.now_ns

    def now(self) -> datetime:
        return ns_to_datetime(self._engine.now_ns)


class _PositionFacts(dict):  # type: ignore[type-arg]
    """A position machine's view: its own position's names over the shared facts."""

    __slots__ = ("shared",)

    def __init__(self, shared: Mapping[str, Any]) -> None:
        super().__init__()
        self.shared = shared

    def __missing__(self, key: str) -> Any:
        return self.shared.get(key, Missing(f"{key} is not provided"))

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            return self[key]
        return self.shared.get(key, default)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings that are not strategy: the account, the data and the safety margins."""

    capital: Decimal = Decimal("500000")
    durable: bool = False  # fsync order events (paper and live)
    source: Timeframe = Timeframe.M1  # the finest bars the feed delivers
    daily_from_feed: bool = False  # official daily bars come from the feed
    cancel_before_close_ns: int = 5 * _MINUTE_NS  # working entries cancelled this long before
    # each part's close; whatever still works at the close is cancelled, as the exchange does
    price_band_pct: float = 10.0  # a limit this far from the last price is a fat finger
    max_positions_per_underlying: int | None = 1  # across rule files (None: no limit)
    data_gap_ns: int | None = None  # silence in a session part that counts as a gap
    echo_notifications: bool = True  # machines' notify actions also go to the log
    record_bars: bool = True  # every bar-close evaluation in the journal (engine explain)
    # the broker session must be flat this long before it expires: cancel, flatten, halt
    session_exit_margin_ns: int = 10 * _MINUTE_NS


@dataclass(slots=True)
class _Underlying:
    """One underlying: its price, its change window, its traders, its bar aggregator."""

    symbol: str
    traders: list[Trader] = field(default_factory=list)
    spot: float | None = None
    prev_close: float | None = None
    change_5m: ChangeWindow = field(default_factory=lambda: ChangeWindow(5, "5m change"))
    aggregator: SessionAggregator | None = None
    last_data_ns: int = 0


class Engine:
    """See the module docstring."""

    def __init__(
        self,
        *,
        rules: list[RuleSpec],
        machines: Mapping[str, MachineSpec],
        grid: SessionGrid,
        start_ns: int,
        broker: Broker,
        instruments: InstrumentSource,
        quotes: QuoteSource,
        journal: Journal,
        charges: Any,
        config: EngineConfig | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.now_ns = start_ns
        self.clock = EngineClock(self)
        self.grid = grid
        self.calendar = grid.calendar
        self.journal = journal
        self.recorder = DecisionRecorder(journal) if self.config.record_bars else None
        self.broker = broker
        self.instruments = instruments
        self.quotes = quotes
        self.charges = charges
        self.capital = self.config.capital
        self.timers = Timers()
        self.ledger = Ledger()
        self.orders = OrderManager(
            broker, journal, now=lambda: self.now_ns, durable=self.config.durable
        )
        self._queue: deque[tuple[Callable[[Any], None], Any]] = deque()
        self.ctx = Context()
        self.day: DayFacts | None = None
        self._day_end = -1
        self._next_due = _NEVER
        self._other_due = _NEVER  # the next deadline other than the data-silence limit
        self._machine_due = _NEVER
        self._machine_due_stale = True
        self._stale_at = _NEVER
        self._gap_active = False
        self._gap_from = 0  # the last data before the current gap
        self._gap_timer: Any = None
        self._day_start_balance: Decimal | None = None
        self._part_lo = self._part_hi = 0
        self._session_seen = False
        self._entries_open = False
        self._entry_gates: dict[str, bool] = {}
        self._time_cache: dict[int, time] = {}
        self._quote_cache: dict[tuple[Any, ...], Decimal | None] = {}
        self._volume_cache: dict[tuple[Any, ...], float | None] = {}
        self._quote_cache_ts = -1
        self.finished = False
        self.machine_events = 0
        self.bars = 0
        self.sessions: list[tuple[int, int]] = []  # (open, close) of every session with data
        self.premium_sources: dict[str, int] = {}
        gap = self.config.data_gap_ns
        self._gap_ns = gap if gap is not None else max(60 * NANOS, 2 * self.config.source.nanos)

        underlyings = tuple(dict.fromkeys(u for r in rules for u in r.underlyings))
        self.underlyings = {u: _Underlying(u) for u in underlyings}
        self.primary = underlyings[0] if underlyings else ""
        # -- machines -----------------------------------------------------------------------
        self.machines = MachineSystem(
            [machines[name] for name in _GLOBAL_MACHINES if name in machines],
            clock=self.clock,
            facts=self.ctx.facts,
            actions=self,
            listener=self._on_machine_event,
            calendar=self.calendar,
        )
        for spec in machines.values():
            self.ctx.declare(_reads_of_machine(spec))
        # -- traders ------------------------------------------------------------------------
        self.traders: list[Trader] = []
        position = machines.get("position")
        if position is None:
            raise ValueError("the machines given have no 'position' machine")
        for rule in rules:
            for u in rule.underlyings:
                view = RuleView(
                    rule.vocabulary,
                    rule.indicators,
                    rule.params,
                    _reads_of_rule(rule),
                    now=lambda: self.now_ns,
                )
                self.ctx.add_view(view)
                facts = _PositionFacts(self.ctx.facts)
                runner = self.machines.attach(position, f"position:{rule.name}:{u}", facts=facts)
                trader = Trader(self, rule, u, view, runner, facts)
                self.traders.append(trader)
                self.underlyings[u].traders.append(trader)
        self.ctx.watch(self._watched_names(), self.machines.touch)
        self._needs_time = self.ctx.needs("time")
        self._needs_session_minutes = self.ctx.needs("minutes_since_open") or self.ctx.needs(
            "minutes_to_close"
        )
        self._needs_change = self.ctx.needs("underlying.change_5m_pct")
        self._needs_ltp = self.ctx.needs("underlying.ltp")
        self._needs_change_pct = self.ctx.needs("underlying.change_pct")
        self._by_trader = {(t.rule, t.underlying): t for t in self.traders}
        self._traders_by_rule: dict[str, list[Trader]] = {}
        for t in self.traders:
            self._traders_by_rule.setdefault(t.rule, []).append(t)
        # -- bars: which timeframes the rules read beyond the feed's own ------------------------
        wanted = {tf for t in self.traders for tf in t.view.timeframes}
        longer = [tf for tf in wanted if tf.nanos > self.config.source.nanos]
        if self.config.daily_from_feed:
            longer = [tf for tf in longer if tf is not Timeframe.D1]
        for u in self.underlyings.values():
            if longer:
                u.aggregator = SessionAggregator(grid, longer, self._bar_from_aggregator)
        self.books = Books(self)
        self.actions = Actions(self)
        self.broker.bind(self._broker_sink, self.clock)
        self._initial_facts()
        self._handlers: dict[type, Callable[[Any], None]] = {
            BarClosed: self._on_bar,
            TickReceived: self._on_tick,
            VixUpdated: self._on_vix,
            DailyBarPublished: self._on_daily,
            FeedOutage: self._on_feed_outage,
            BrokerSessionExpiring: self._on_session_expiring,
            ClockAdvanced: _nothing,
        }
        self._session_deadline: Any = None
        self._start_day(day_number(start_ns))
        self._settle()

    def warm_up(self, daily: list[Bar]) -> None:
        """Official daily bars from before the replay: they warm the daily indicators up."""
        for bar in daily:
            if bar.ts_event >= self.now_ns:
                raise ValueError("warm-up bars must end before the engine's start")
            u = self.underlyings.get(bar.symbol) or self.underlyings.get(self.primary)
            if u is None:
                continue
            for trader in u.traders:
                trader.view.on_bar(Timeframe.D1, bar, self.now_ns)
            u.prev_close = bar.close
        if daily:
            self.ctx.set("underlying.prev_close", daily[-1].close)

    # -- the clock and the queue ----------------------------------------------------------------
    def process(self, event: FeedEvent) -> None:
        """One market event, to completion (see the module docstring for the order)."""
        ts = event.ts
        if ts < self.now_ns:
            log.warning(
                "event at {} is earlier than the engine time {}: taken as now",
                ns_to_datetime(ts).isoformat(),
                ns_to_datetime(self.now_ns).isoformat(),
            )
            ts = self.now_ns
        kind = type(event)
        if (
            kind is BarClosed
            and event.path is not None
            and (self.orders._working or self.ledger._open)
        ):
            self._bar_with_ticks(event)  # the ticks inside the bar come first, in time
        else:
            if ts >= self._next_due:
                self.advance(ts)
            self.now_ns = ts
            self._handlers[kind](event)
        if self._queue or self.ctx.touched:
            self._settle()

    def advance(self, ts: int) -> None:
        """Run every deadline at or before ``ts``, in time order, each to completion."""
        self._refresh_due()
        while True:
            due = self._next_due
            if due > ts:
                break
            if due > self.now_ns:
                self.now_ns = due
            if due >= self._day_end:
                self._start_day(day_number(due))
            elif due == self._stale_at:
                self._data_stale(due)
            else:
                deadline = self.timers.pop_due(due)
                if deadline is not None:
                    deadline.callback(due)
                else:
                    self.machines.wake(due, due=True)
                    self._machine_due_stale = True
            self._settle()

    def _refresh_due(self) -> None:
        if self._machine_due_stale:
            self._machine_due = self.machines.next_deadline() or _NEVER
            self._machine_due_stale = False
        self._other_due = min(self.timers.next_at, self._machine_due, self._day_end)
        self._next_due = min(self._other_due, self._stale_at)

    def _settle(self) -> None:
        """Run queued actions and broker events, and step touched machines, until quiet."""
        queue = self._queue
        ctx = self.ctx
        while True:
            if ctx.touched:
                ctx.touched = False
                if self.machines.wake(self.now_ns):
                    self._machine_due_stale = True
            if not queue:
                break
            handler, item = queue.popleft()
            handler(item)
        self._refresh_due()

    # -- machine plumbing (ActionSink and listener) ---------------------------------------------
    def request(self, action: ActionRequested) -> None:
        self._queue.append((self.actions.run, action))

    def escalate(self, emergency: EmergencyRaised) -> None:
        self._queue.append((self.actions.on_emergency, emergency))

    def _on_machine_event(self, event: MachineEvent) -> None:
        self.machine_events += 1
        if isinstance(event, TransitionTaken):
            self._machine_due_stale = True
            self._entry_gates_changed(event)
            self.journal.write(
                {"kind": "transition", "ts": event.ts_event, **_machine_record(event)}
            )
        elif isinstance(event, TriggerIgnored):
            if event.trigger != "tick":
                self.journal.write({"kind": "trigger_ignored", "ts": event.ts_event,
                                    "machine": event.machine, "state": event.state,
                                    "trigger": event.trigger, "reason": event.reason})  # fmt: skip
        elif isinstance(event, ActionRequested):
            self.journal.write(
                {
                    "kind": "action",
                    "ts": event.ts_event,
                    "machine": event.machine,
                    "action": event.action,
                    "args": dict(event.args),
                    "cause": event.cause,
                }
            )

    def _entry_gates_changed(self, event: TransitionTaken) -> None:
        if event.machine in _GLOBAL_MACHINES:
            runner = self.machines[event.machine]
            tags = runner.spec.peer_info.tags.get("entries_allowed", frozenset())
            self._entry_gates[event.machine] = event.dest in tags
            self._entries_open = self.entries_allowed()[0]
            if self.recorder is not None:
                self.recorder.entries_gate(event.ts_event, *self.entries_allowed())

    def entries_allowed(self) -> tuple[bool, str]:
        blocked = [m for m in _GLOBAL_MACHINES if not self._entry_gates.get(m, False)]
        blocked = [m for m in blocked if m in self.machines.runners]
        return not blocked, ", ".join(f"{m}={self.machines[m].state}" for m in blocked)

    def send(self, runner: MachineRunner, trigger: str, **values: Any) -> TransitionTaken | None:
        """Send a trigger to a machine; a state that cannot take it is on record, not raised.

        The machine is looked at again at the next settle (a transition taken may have
        enabled tick transitions of its new state)."""
        self.ctx.touched = True
        try:
            return runner.send(trigger, **values)
        except InvalidTransition as e:
            log.error("{}", e)
            self.journal.write({"kind": "invalid_trigger", "ts": self.now_ns,
                                "machine": runner.name, "state": runner.state,
                                "trigger": trigger}, sync=True)  # fmt: skip
            return None

    # -- the operator ----------------------------------------------------------------------------
    def operator(self, trigger: str, **values: Any) -> TransitionTaken | None:
        """An operator request (``kill``, ``sigint``, ``resume``) to the kill switch, now."""
        runner = self.machines.runners.get("killswitch")
        if runner is None:
            return None
        self.journal.write({"kind": "operator", "ts": self.now_ns, "trigger": trigger,
                            "values": dict(values)}, sync=True)  # fmt: skip
        taken = self.send(runner, trigger, **values)
        self._settle()
        return taken

    # -- the day ---------------------------------------------------------------------------------
    def _start_day(self, number: int) -> None:
        start = day_start_ns(number)
        if start > self.now_ns:
            self.now_ns = start
        day = DayFacts.build(number, self.grid, tuple(self.underlyings))
        self.day = day
        self._day_end = day.end_ns
        self._session_seen = False
        if self._gap_active:  # silent up to the close: over when the session ended
            self._end_gap(min(self._part_hi, start), "data_gap_closed")
        self._part_lo = self._part_hi = 0
        self.books.new_day()
        self._day_start_balance = self._broker_balance()
        self.journal.write({"kind": "day", "ts": max(start, self.now_ns), **day.to_record()})
        ctx = self.ctx
        ctx.set("date", day.date)
        ctx.set("weekday", day.weekday)
        facts = day.expiries.get(self.primary)
        if facts is not None:
            ctx.set("dte", facts.dte)
            ctx.set("dte_days", facts.dte_days)
        for trader in self.traders:
            trader.new_day()
            expiry = day.expiries.get(trader.underlying)
            if expiry is not None:
                trader.values["dte"] = expiry.dte
                trader.values["dte_days"] = expiry.dte_days
        self.publish_account()
        if day.trading:
            assert day.open_ns is not None
            self.timers.at(max(day.open_ns, self.now_ns), self._session_open, "direction")
            for _, close in day.parts:
                cancel_at = close - self.config.cancel_before_close_ns
                if cancel_at > self.now_ns:
                    self.timers.at(cancel_at, self._cancel_entries_before_close, "cancel entries")
                if close > self.now_ns:
                    self.timers.at(close, self._cancel_at_close, "cancel at the close")
            self._stale_at = _NEVER
        else:
            self._stale_at = _NEVER
        self.machines.tick(self.now_ns)  # a new day: every machine looks at today's facts
        self._machine_due_stale = True
        self._refresh_due()

    def _session_open(self, ts: int) -> None:
        for trader in self.traders:
            trader.decide_direction()
        self._arm_stale(ts)

    def _cancel_entries_before_close(self, ts: int) -> None:
        working = [o.intent.key for o in self.orders.working(purpose=OrderPurpose.ENTRY)]
        if working:
            self.orders.cancel(working, "pending entry orders are cancelled before the close")

    def _cancel_at_close(self, ts: int) -> None:
        working = [o.intent.key for o in self.orders.working()]
        if working:
            self.orders.cancel(working, "the session part closed; the exchange keeps no order")

    # -- data freshness --------------------------------------------------------------------------
    def _arm_stale(self, last: int) -> None:
        day = self.day
        if day is None or not day.trading:
            self._stale_at = _NEVER
            return
        part = day.part_at(last)
        if part < 0:
            self._stale_at = _NEVER
            return
        self._part_lo, self._part_hi = day.parts[part]
        deadline = last + self._gap_ns
        self._stale_at = deadline if deadline < self._part_hi else _NEVER
        if self._stale_at < self._next_due:
            self._next_due = self._stale_at

    def _data_stale(self, ts: int) -> None:
        """The feed has been silent in session for the gap limit: ``data.gap``; from now
        on ``data.silent_min`` grows minute by minute (the breakers pause at 5 minutes and
        halt the day past 30) until data arrives or the part closes."""
        self._stale_at = _NEVER
        self._gap_active = True
        self._gap_from = ts - self._gap_ns
        self.ctx.set("data.gap", True)
        self.ctx.set("data.silent_min", self._gap_ns // _MINUTE_NS)
        self.journal.write({"kind": "data_gap", "ts": ts, "silence_ns": self._gap_ns})
        self._next_silence_minute(ts)

    def _next_silence_minute(self, ts: int) -> None:
        silent = ts - self._gap_from
        at = self._gap_from + (silent // _MINUTE_NS + 1) * _MINUTE_NS
        if at < self._part_hi:
            self._gap_timer = self.timers.at(at, self._silence_minute, "data silence")

    def _silence_minute(self, ts: int) -> None:
        if not self._gap_active:
            return
        self.ctx.set("data.silent_min", (ts - self._gap_from) // _MINUTE_NS)
        self._next_silence_minute(ts)

    def _on_feed_outage(self, event: FeedOutage) -> None:
        """The feed says it is silent or down: a data gap since its silence began, counted
        minute by minute like one found on event time, ended by the next data."""
        self.journal.write({"kind": "feed_outage", "ts": event.ts, "reason": event.reason,
                            "silent_for_s": event.silent_for_s}, sync=True)  # fmt: skip
        if self._gap_active:
            return
        ts = self.now_ns
        self._stale_at = _NEVER
        self._gap_active = True
        self._gap_from = ts - int(event.silent_for_s * NANOS)
        self.ctx.set("data.gap", True)
        self.ctx.set("data.silent_min", (ts - self._gap_from) // _MINUTE_NS)
        self._next_silence_minute(ts)

    def _data_arrived(self, ts: int) -> None:
        if self._gap_active:
            self._end_gap(ts, "data_resumed")
        self._arm_stale(ts)

    def _end_gap(self, ts: int, kind: str) -> None:
        self._gap_active = False
        if self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None
        lasted = (ts - self._gap_from) / _MINUTE_NS
        self.ctx.set("data.gap", False)
        self.ctx.set("data.silent_min", 0)
        self.ctx.set("data.last_gap_min", lasted)
        self.journal.write({"kind": kind, "ts": ts, "gap_min": lasted})

    # -- market events -----------------------------------------------------------------------------
    def _on_bar(self, event: BarClosed) -> None:
        u = self.underlyings.get(event.symbol)
        if u is not None:
            self._bar_close(u, event.bar, event.ts)

    def _bar_with_ticks(self, event: BarClosed) -> None:
        """A replayed bar while something listens to ticks: its path, then its close."""
        u = self.underlyings.get(event.symbol)
        bar, end = event.bar, event.ts
        assert event.path is not None
        if u is not None:
            for ts, price in event.path(bar, end):
                if ts < self.now_ns:
                    ts = self.now_ns
                if ts >= self._next_due:
                    self.advance(ts)
                self.now_ns = ts
                self._price(u, ts, price, tick=True)
                if self._queue or self.ctx.touched:
                    self._settle()
        if end >= self._next_due:
            self.advance(end)
        self.now_ns = end
        if u is not None:
            self._bar_close(u, bar, end)

    def _bar_close(self, u: _Underlying, bar: Bar, ts: int) -> None:  # noqa: C901 - hot path, inlined
        """A source bar ended: views, longer timeframes, price, machines, exits, entries."""
        self.bars += 1
        if not self._session_seen:
            self._note_session()
        self._set_time(ts)
        source = self.config.source
        traders = u.traders
        for trader in traders:
            trader.view.on_bar(source, bar, ts)
            if trader.trade is not None:
                trader.bar_closed()
        if u.aggregator is not None:
            u.aggregator.on_bar(bar)
        self._price(u, ts, bar.close, tick=False)
        # data freshness: the silence limit moves on (inlined: this runs on every bar)
        if self._gap_active:
            self._data_arrived(ts)
        elif self._part_lo <= ts < self._part_hi:
            deadline = ts + self._gap_ns
            stale = self._stale_at = deadline if deadline < self._part_hi else _NEVER
            other = self._other_due
            self._next_due = other if other < stale else stale
        else:
            self._arm_stale(ts)
        if self.ctx.touched or self._queue:
            self._settle()
        for trader in traders:
            if trader.trade is not None:
                trader.check_exits("bar")
        if self._queue:
            self._settle()
        if self._entries_open:
            for trader in traders:
                if trader.sides and trader.machine.state == "flat":
                    trader.check_entry()
            if self._queue:
                self._settle()

    def _note_session(self) -> None:
        day = self.day
        self._session_seen = True
        if day is not None and day.trading:
            self.sessions.append((day.open_ns, day.close_ns))  # type: ignore[arg-type]

    def _bar_from_aggregator(self, bar: Bar) -> None:
        u = self.underlyings[bar.symbol] if bar.symbol in self.underlyings else None
        traders = u.traders if u is not None else self.traders
        for trader in traders:
            trader.view.on_bar(bar.timeframe, bar, bar.ts_init or self.now_ns)
        if bar.timeframe is Timeframe.D1 and u is not None:
            u.prev_close = bar.close

    def _on_tick(self, event: TickReceived) -> None:
        u = self.underlyings.get(event.symbol)
        if u is None:
            return
        self._price(u, event.ts, event.price, tick=True)
        self._data_arrived(event.ts)

    def _price(self, u: _Underlying, ts: int, price: float, *, tick: bool) -> None:
        """A new price of the underlying: facts, marks, the broker's view, exits on a tick."""
        u.spot = price
        ctx = self.ctx
        if tick:
            self._set_time(ts)
        if u.symbol == self.primary:
            if self._needs_ltp:
                ctx.set("underlying.ltp", price)
            if self._needs_change:
                change = u.change_5m.push(ts, price)
                ctx.set(
                    "underlying.change_5m_pct",
                    change if type(change) is Missing else change / (price - change) * 100.0,
                )
            if self._needs_change_pct and u.prev_close:
                ctx.set("underlying.change_pct", (price / u.prev_close - 1.0) * 100.0)
        if self.orders._working or self.ledger._open:
            self._mark(u, ts)
            if tick:
                if self._queue or ctx.touched:
                    self._settle()
                for trader in u.traders:
                    trader.check_exits("tick")

    def _mark(self, u: _Underlying, ts: int) -> None:
        """Price every contract held or ordered on ``u``; show it to the broker."""
        seen: set[str] = set()
        for order in self.orders.working(underlying=u.symbol):
            inst = order.intent.instrument
            if inst.symbol not in seen:
                seen.add(inst.symbol)
                premium = self.premium(u.symbol, inst.expiry, inst.strike, inst.kind)
                if premium is not None:
                    self.broker.market(inst.symbol, ts, premium)
        for trader in u.traders:
            trade = trader.trade
            if trade is None or not trade.open:
                continue
            inst = trade.instrument
            premium = self.premium(u.symbol, inst.expiry, inst.strike, inst.kind)
            if premium is None:
                continue
            if inst.symbol not in seen:
                seen.add(inst.symbol)
                self.broker.market(inst.symbol, ts, premium)
            trader.mark(premium, u.spot)
        self.publish_account()

    def mark_trade(self, trader: Trader) -> None:
        """Price one trader's open position now (after a fill)."""
        trade = trader.trade
        if trade is None or not trade.open:
            return
        inst = trade.instrument
        premium = self.premium(trade.underlying, inst.expiry, inst.strike, inst.kind)
        if premium is not None:
            trader.mark(premium, self.spot(trade.underlying))

    def _on_vix(self, event: VixUpdated) -> None:
        ctx = self.ctx
        ctx.set("vix", event.value)
        for trader in self.traders:
            trader.values["vix"] = event.value
        if event.source == "daily":
            reason = Missing("India VIX is daily here: no intraday change is known")
            ctx.set("vix_change_5m", reason)
            ctx.set("vix_change_10m", reason)
            return
        if not hasattr(self, "_vix_5m"):
            self._vix_5m = ChangeWindow(5, "vix_change_5m")
            self._vix_10m = ChangeWindow(10, "vix_change_10m")
        ctx.set("vix_change_5m", self._vix_5m.push(event.ts, event.value))
        ctx.set("vix_change_10m", self._vix_10m.push(event.ts, event.value))

    def _on_daily(self, event: DailyBarPublished) -> None:
        u = self.underlyings.get(event.symbol)
        if u is None:
            return
        for trader in u.traders:
            trader.view.on_bar(Timeframe.D1, event.bar, event.ts)
        u.prev_close = event.bar.close
        if u.symbol == self.primary:
            self.ctx.set("underlying.prev_close", event.bar.close)

    def _wants_ticks(self) -> bool:
        return bool(self.orders.pending or self.ledger.open_count)

    def _set_time(self, ts: int) -> None:
        if not (self._needs_time or self._needs_session_minutes):
            return
        if self._needs_time:
            second = (ts + IST_OFFSET_NS) // NANOS % _SECONDS_PER_DAY
            t = self._time_cache.get(second)
            if t is None:
                t = self._time_cache[second] = time(second // 3600, second // 60 % 60, second % 60)
            self.ctx.set("time", t)
        if self._needs_session_minutes:
            day = self.day
            part = day.part_around(ts) if day is not None and day.trading else None
            if part is not None:
                self.ctx.set("minutes_since_open", (ts - part[0]) / _MINUTE_NS)
                self.ctx.set("minutes_to_close", (part[1] - ts) / _MINUTE_NS)

    # -- quotes ------------------------------------------------------------------------------------
    @property
    def today(self) -> date:
        assert self.day is not None
        return self.day.date

    def spot(self, underlying: str) -> float | None:
        u = self.underlyings.get(underlying)
        return None if u is None else u.spot

    def premium(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind
    ) -> Decimal | None:
        """The contract's premium now (cached for the instant)."""
        now = self.now_ns
        if now != self._quote_cache_ts:
            self._quote_cache.clear()
            self._volume_cache.clear()
            self._quote_cache_ts = now
        key = (underlying, expiry, strike, kind)
        if key in self._quote_cache:
            return self._quote_cache[key]
        spot = self.spot(underlying)
        price: Decimal | None = None
        volume: float | None = None
        if spot is not None:
            quote = self.quotes.premium(now, underlying, spot, strike, kind.value, expiry)
            if quote is not None:
                price = quote.price
                self.premium_sources[quote.source] = self.premium_sources.get(quote.source, 0) + 1
                traded = getattr(quote, "inputs", {}).get("volume")
                volume = None if traded is None else float(traded)
        self._quote_cache[key] = price
        self._volume_cache[key] = volume
        return price

    def option_volume(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind
    ) -> float | None:
        """Units the contract traded in its last completed bar (None: not known, as when
        the premium is modelled)."""
        self.premium(underlying, expiry, strike, kind)
        return self._volume_cache.get((underlying, expiry, strike, kind))

    # -- the desk a trader works at ------------------------------------------------------------
    def size_factor(self) -> float:
        return min(self.actions.size_factors.values(), default=1.0)

    def risk_state(self, trader: Trader, last_price: Decimal) -> RiskState:
        risk = trader.spec.risk
        limits = [v for v in self.actions.max_positions.values()]
        if risk.get("max_open_positions") is not None:
            limits.append(int(risk["max_open_positions"]))
        allowed, blocked = self.entries_allowed()
        cap = risk.get("max_premium_per_order_inr")
        loss = risk.get("max_loss_per_day_pct")
        trades = risk.get("max_trades_per_day")
        return RiskState(
            open_positions=self.ledger.open_count + self._entries_working(),
            max_open_positions=min(limits) if limits else None,
            side_held_on_underlying=self._side_held(trader.underlying),
            trades_today=trader.entries_today,
            max_trades_per_day=None if trades is None else int(trades),
            day_pnl=self.day_pnl(),
            capital=self.capital,
            max_loss_per_day_pct=None if loss is None else float(loss),
            max_premium_per_order=None if cap is None else Decimal(str(cap)),
            last_price=last_price,
            price_band_pct=self.config.price_band_pct,
            entries_allowed=allowed,
            blocked_by=blocked,
            positions_on_underlying=sum(
                1
                for t in self.underlyings[trader.underlying].traders
                if t is not trader
                and t.trade is not None
                and (t.trade.open or t.machine.state == "entry_pending")
            ),
            max_positions_per_underlying=self.config.max_positions_per_underlying,
        )

    def _entries_working(self) -> int:
        return sum(1 for _ in self.orders.working(purpose=OrderPurpose.ENTRY))

    def _side_held(self, underlying: str) -> str:
        for t in self.underlyings[underlying].traders:
            if t.trade is not None and (t.trade.open or t.machine.state == "entry_pending"):
                return t.trade.instrument.kind.value
        return "none"

    def later(self, callback: Callable[[Any], None]) -> None:
        """Run ``callback`` after the event being processed (queued like an action)."""
        self._queue.append((callback, None))

    def exit_working(self, trader: Trader) -> bool:
        """Whether an exit order of this trader is working."""
        return any(
            True
            for _ in self.orders.working(
                purpose=OrderPurpose.EXIT, rule=trader.rule, underlying=trader.underlying
            )
        )

    def position_changed(self, trader: Trader) -> None:
        side = self._side_held(trader.underlying)
        self.machine_fact(trader, "position.exit_working", self.exit_working(trader))
        for t in self.underlyings[trader.underlying].traders:
            self.machine_fact(t, "underlying.side_held", side)
            self.machine_fact(t, "position.entries_today", t.entries_today)
            t.values["position.entries_today"] = t.entries_today
        self.publish_account()

    def machine_fact(self, trader: Trader, name: str, value: Any) -> None:
        facts = trader.machine_facts
        if facts.get(name, _UNSET) != value or name not in facts:
            facts[name] = value
            if trader.machine.touch(name):
                self.ctx.touched = True

    def exit_all_of(self, rule: str, reason: str) -> None:
        for trader in self._traders_by_rule.get(rule, ()):
            if trader.machine.state in ("open", "partial"):
                trader.exit(reason)

    def trader(self, rule: str, underlying: str) -> Trader | None:
        return self._by_trader.get((rule, underlying))

    def day_pnl(self) -> Decimal:
        return self.books.day_pnl()

    def publish_account(self) -> None:
        """The account's names (P&L, positions, orders, margin) from the books, now."""
        ctx = self.ctx
        pnl = self.books.day_pnl()
        ctx.set("account.capital", float(self.capital))
        ctx.set("account.day_pnl", float(pnl))
        balance = self._broker_balance()
        start = self._day_start_balance
        if balance is None:  # the books' own view: the day's start plus the day's P&L
            balance, start = self.capital + pnl, self.capital
        ctx.set(
            "account.balance_pct_of_day_start",
            float(balance / start * 100) if start else Missing("no balance at the day's start"),
        )
        ctx.set("account.day_pnl_pct", float(pnl / self.capital * 100) if self.capital else 0.0)
        ctx.set("positions.open", self.ledger.open_count)
        ctx.set("orders.pending", self.orders.pending)
        ctx.set("account.consecutive_losses", self.books.consecutive_losses)
        ctx.set("account.reject_rate_15m_pct", self.orders.reject_rate_pct(self.now_ns))
        held = sum(
            (t.bought_value * t.qty / t.bought_qty for t in self.ledger.open_trades() if t.qty),
            Decimal(0),
        )
        ctx.set(
            "account.margin_used_pct", float(held / self.capital * 100) if self.capital else 0.0
        )

    def _broker_balance(self) -> Decimal | None:
        """The account balance the broker reports (a live broker's funds), or None."""
        balance = getattr(self.broker, "balance", None)
        if not callable(balance):
            return None
        value = balance()
        return None if value is None else Decimal(str(value))

    def fat_finger(self, trader: Trader, codes: list[str]) -> None:
        """An order the engine built failed a fat-finger check: the kill switch hears it
        (``orders.fat_finger`` is true for this one settle, then false again)."""
        record = {"kind": "fat_finger", "ts": self.now_ns, "rule": trader.rule,
                  "underlying": trader.underlying, "checks": codes}  # fmt: skip
        self.journal.write(record, sync=True)
        self.ctx.set("orders.fat_finger", True)
        self.later(lambda _: self.ctx.set("orders.fat_finger", False))

    def _initial_facts(self) -> None:
        ctx = self.ctx
        for name, value in (
            ("broker.session_ending", False),
            ("account.error_rate_5m_pct", 0.0),
            ("data.gap", False),
            ("orders.fat_finger", False),
            ("data.silent_min", 0),
            ("data.last_gap_min", 0.0),
            ("vix", Missing("no India VIX value yet")),
            ("vix_change_5m", Missing("no India VIX value yet")),
            ("vix_change_10m", Missing("no India VIX value yet")),
            ("underlying.change_5m_pct", Missing("no price of the underlying yet")),
        ):
            ctx.set(name, value)
        for trader in self.traders:
            trader.machine_facts["underlying.side_held"] = "none"
            trader.machine_facts["position.entries_today"] = 0
            trader.machine_facts["position.exit_working"] = False
        for name in _GLOBAL_MACHINES:
            if name in self.machines.runners:
                runner = self.machines[name]
                tags = runner.spec.peer_info.tags.get("entries_allowed", frozenset())
                self._entry_gates[name] = runner.state in tags
        self._entries_open = self.entries_allowed()[0]
        if self.recorder is not None:
            self.recorder.entries_gate(self.now_ns, *self.entries_allowed())

    def _watched_names(self) -> set[str]:
        names: set[str] = set()
        for runner in self.machines:
            names |= runner.watched_names
        return names

    def _broker_sink(self, event: BrokerEvent | BrokerSessionExpiring) -> None:
        if isinstance(event, BrokerSessionExpiring):
            self._queue.append((self._on_session_expiring, event))
        else:
            self._queue.append((self.books.on_broker, event))

    # -- the broker session ------------------------------------------------------------------
    def _on_session_expiring(self, event: BrokerSessionExpiring) -> None:
        """The broker session ends at ``event.expires_at``: ``broker.session_ending`` a
        margin before it (now, if less is left), so exits go out while orders still can."""
        if self._session_deadline is not None:
            self._session_deadline.cancel()
            self._session_deadline = None
        act_at = event.expires_at - self.config.session_exit_margin_ns
        self.journal.write({"kind": "broker_session_expiring", "ts": self.now_ns,
                            "reported": event.ts, "expires_at": event.expires_at,
                            "act_at": act_at, "reason": event.reason}, sync=True)  # fmt: skip
        log.warning("the broker session ends at {}: {}", ns_to_datetime(event.expires_at),
                    event.reason)  # fmt: skip
        if act_at <= self.now_ns:
            self._session_ending(self.now_ns)
        else:
            self.ctx.set("broker.session_ending", False)
            self._session_deadline = self.timers.at(act_at, self._session_ending, "broker session")
            self._refresh_due()

    def _session_ending(self, ts: int) -> None:
        self._session_deadline = None
        self.ctx.set("broker.session_ending", True)
        self.journal.write({"kind": "broker_session_ending", "ts": ts}, sync=True)

    # -- the end -----------------------------------------------------------------------------------
    def finish(self, end_ns: int | None = None) -> None:
        """The data has ended: run the day's remaining deadlines, then close the books."""
        if self.finished:
            return
        day = self.day
        if end_ns is None and day is not None and day.close_ns is not None:
            end_ns = max(day.close_ns + 90 * _MINUTE_NS, self.now_ns)
        if end_ns is not None:
            self.advance(end_ns)
            if end_ns > self.now_ns:
                self.now_ns = end_ns
        for trader in self.traders:
            trade = trader.trade
            if trade is not None and trade.open:
                self.books.force_close(trader, trade)
        self.finished = True
        self.journal.write({"kind": "end", "ts": self.now_ns, "trades": len(self.ledger.trades)})


def _nothing(event: object) -> None:
    """A clock event: its deadlines ran before it, and the queue settles after it."""


def _machine_record(event: TransitionTaken) -> dict[str, Any]:
    return {
        "machine": event.machine,
        "transition": event.transition,
        "source": event.source,
        "dest": event.dest,
        "trigger": event.trigger,
        "guard": dict(event.guard),
        "values": dict(event.values),
    }


def _reads_of_rule(rule: RuleSpec) -> set[str]:
    names: set[str] = set()
    for condition in rule.direction.values():
        names |= condition.when.names
    for item in (*rule.filters, *rule.triggers, *rule.exits, *rule.multipliers):
        names |= item.when.names
    return names


def _reads_of_machine(spec: MachineSpec) -> set[str]:
    names: set[str] = set()
    for t in spec.transitions:
        if t.when is not None:
            names |= t.when.names
    for state in spec.states.values():
        for inv in state.invariants:
            names |= inv.expr.names
    own = ("params.", "state.", "event.", "calendar.")
    return {n for n in names if not n.startswith(own)}
