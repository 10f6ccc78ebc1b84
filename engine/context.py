"""The namespace expressions read, as views: shared facts written once, read where declared.

A compiled expression reads a flat dict of dotted names with one constant-key lookup per
name (``daily.adx``, ``vix``, ``position.pnl_pct``). Which names exist is
``engine.vocabulary``; this module keeps their values:

- ``Context`` holds the shared facts (time, VIX, the underlying, the account, orders):
  ``facts`` is the mapping every machine's guards fall back to, and ``set(name, value)``
  writes a fact once into it and into every rule view that reads it, then tells the
  machines (``touch``) when one of their guards reads that name. A name nobody reads is
  never computed: ``needs(name)`` says whether anyone declared it.
- ``RuleView`` is one rule file's view for one underlying: its timeframes' bar fields and
  indicators (with ``.prev``), its params, its position's names, and the shared facts it
  reads. Only the names its expressions read are written.

Nothing here can see the future: a bar enters a view only when the caller says when it
closed, and a close later than the view's clock raises ``LookAheadError``.

A value that is not available (an indicator warming up, no position open) is a
``Missing`` with the reason, never NaN and never absent. Expressions treat it with
three-valued logic: a boolean expression evaluates to ``True``, ``False`` or a ``Missing``,
and a filter, trigger, exit or guard holds only when its value ``is True``. Code that acts
on a condition tests ``value is True`` (``engine.expr.holds``), never ``not value``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.errors import SafetyError
from engine.expr import Missing, Vocabulary
from engine.model.enums import Timeframe
from engine.model.market import NANOS
from engine.vocabulary import BAR_FIELDS, MAX_HISTORY, TIMEFRAMES, ago_name

if TYPE_CHECKING:
    from engine.indicators import IndicatorSet
    from engine.model import Bar

__all__ = ["ChangeWindow", "Context", "LookAheadError", "RuleView"]

_NS_PER_MINUTE = 60 * NANOS
_FIELD_INDEX = {name: i for i, name in enumerate(BAR_FIELDS)}


class LookAheadError(SafetyError):
    """A bar was offered to a view before it closed: a bug that would leak the future."""


class ChangeWindow:
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

    def reset(self) -> None:
        self._history.clear()


class Context:
    """Shared facts and the views that read them; see the module docstring."""

    def __init__(self, *, touch: Callable[[str], bool] | None = None) -> None:
        self.facts: dict[str, Any] = {}
        self._readers: dict[str, list[dict[str, Any]]] = {}
        self._declared: set[str] = set()
        self._touch = touch
        self._watched: frozenset[str] = frozenset()
        self.touched = False  # some machine must look again (the runtime clears it)

    def declare(self, names: Iterable[str]) -> None:
        """Names some machine guard reads (they live in ``facts``)."""
        self._declared.update(names)

    def watch(self, names: Iterable[str], touch: Callable[[str], bool]) -> None:
        """Call ``touch(name)`` whenever one of ``names`` changes value."""
        self._watched = frozenset(names)
        self._touch = touch

    def add_view(self, view: RuleView) -> None:
        for name in view.reads:
            if not name.startswith(("params.", "position.")) and name not in view.own:
                self._readers.setdefault(name, []).append(view.values)
                self._declared.add(name)
                if name in self.facts:
                    view.values[name] = self.facts[name]

    def needs(self, name: str) -> bool:
        """Whether any view or machine reads ``name`` (unread names are never computed)."""
        return name in self._declared

    def set(self, name: str, value: Any) -> None:
        """Write one shared fact everywhere it is read, and wake its watchers."""
        facts = self.facts
        if name in self._watched:
            old = facts.get(name, _UNSET)
            facts[name] = value
            if (old is _UNSET or old != value or type(old) is not type(value)) and self._touch:
                if self._touch(name):
                    self.touched = True
        else:
            facts[name] = value
        readers = self._readers.get(name)
        if readers is not None:
            for values in readers:
                values[name] = value

    def get(self, name: str, default: Any = None) -> Any:
        return self.facts.get(name, default)


_UNSET = object()


class _TimeframeSlots:
    """What one timeframe of a view writes on each closed bar (only what is read)."""

    __slots__ = ("fields", "head", "indicators", "outputs", "prev", "timeframe")

    def __init__(
        self,
        timeframe: Timeframe,
        indicators: IndicatorSet,
        aliases: Mapping[str, str],
        reads: frozenset[str],
    ) -> None:
        self.timeframe = timeframe
        tf = timeframe.context_name
        head = tf + "."
        self.head = head
        prev = head + "prev."
        names = {**{f: f for f in BAR_FIELDS}, **aliases}
        # how many bars back each name is read (prev is one; agoN is N)
        depth: dict[str, int] = {}
        for n in (*names, *indicators.names):
            back = 1 if prev + n in reads else 0
            for bars in range(MAX_HISTORY, back, -1):
                if ago_name(tf, bars, n) in reads:
                    back = bars
                    break
            if back:
                depth[n] = back

        def read(name: str) -> bool:
            return head + name in reads or name in depth

        self.fields = tuple(
            (head + name, _FIELD_INDEX[field]) for name, field in names.items() if read(name)
        )
        self.outputs = tuple((head + name, name) for name in indicators.names if read(name))
        self.indicators = indicators if self.outputs else None
        # shifted on every closed bar, deepest first: agoN <- agoN-1 ... ago1 <- now
        shifts: list[tuple[str, str]] = []
        for n, back in depth.items():
            for bars in range(back, 1, -1):
                shifts.append((ago_name(tf, bars, n), ago_name(tf, bars - 1, n)))
            if back > 1:
                shifts.append((ago_name(tf, 1, n), head + n))
            shifts.append((prev + n, head + n))
        self.prev = tuple(shifts)


class RuleView:
    """One rule file's namespace for one underlying; see the module docstring."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        indicators: Mapping[str, Mapping[str, str] | None],
        params: Mapping[str, float] | None,
        reads: Iterable[str],
        *,
        now: Callable[[], int] | None = None,
    ) -> None:
        from engine.indicators import IndicatorSet

        self.vocabulary = vocabulary
        self.reads = frozenset(reads)
        self.values: dict[str, Any] = {
            name: Missing(f"{name} has no value yet") for name in vocabulary
        }
        for key, value in (params or {}).items():
            self.values[f"params.{key}"] = value
        self._now = now
        self.own: frozenset[str] = frozenset()
        self._slots: dict[Timeframe, _TimeframeSlots] = {}
        self.indicator_sets: dict[Timeframe, IndicatorSet] = {}
        for namespace, declared in indicators.items():
            tf = TIMEFRAMES[namespace]
            declared = dict(declared or {})
            aliases = {n: d for n, d in declared.items() if d in BAR_FIELDS}
            computed = {n: d for n, d in declared.items() if n not in aliases}
            indicator_set = IndicatorSet.from_specs(computed)
            self.indicator_sets[tf] = indicator_set
            self._slots[tf] = _TimeframeSlots(tf, indicator_set, aliases, self.reads)
        self.own = frozenset(
            name for name in vocabulary if name.split(".", 1)[0] in {*TIMEFRAMES, "params"}
        )

    @property
    def timeframes(self) -> tuple[Timeframe, ...]:
        """The declared timeframes, shortest first."""
        return tuple(sorted(self._slots, key=lambda t: t.nanos))

    def on_bar(self, timeframe: Timeframe, bar: Bar, closed_at: int) -> None:
        """A bar of a declared timeframe closed at ``closed_at``: shift .prev, set, update."""
        slots = self._slots.get(timeframe)
        if slots is None:
            return  # not declared: nothing reads it
        if self._now is not None and closed_at > self._now():
            raise LookAheadError(
                f"a {timeframe.value} bar closing at {closed_at} was offered at {self._now()}"
            )
        v = self.values
        for prev_key, key in slots.prev:
            v[prev_key] = v[key]
        if slots.fields:
            fields = (bar.open, bar.high, bar.low, bar.close, float(bar.volume))
            for key, i in slots.fields:
                v[key] = fields[i]
        indicators = slots.indicators
        if indicators is not None:
            indicators.update(bar.open, bar.high, bar.low, bar.close, float(bar.volume))
            head = slots.head
            for key, name in slots.outputs:
                value = indicators.value(name)
                if value is None:
                    seen, needed = indicators.status(name)
                    value = Missing(f"{head}{name} not ready ({seen} of {needed} bars)")
                v[key] = value

    def warming_up(self) -> list[str]:
        """The indicators this view reads that are not ready yet."""
        out = []
        for slots in self._slots.values():
            indicators = slots.indicators
            if indicators is None:
                continue
            out += [key for key, name in slots.outputs if not indicators.ready(name)]
        return out

    def set(self, name: str, value: Any) -> None:
        """Set a name of this view (position.*); unknown names fail."""
        if name not in self.values:
            raise KeyError(f"'{name}' is not in this rule's vocabulary")
        self.values[name] = value

    def warmup(self, timeframe: Timeframe) -> int:
        """Bars the timeframe's indicators need before all are ready."""
        indicators = self.indicator_sets.get(timeframe)
        return 0 if indicators is None else indicators.warmup
