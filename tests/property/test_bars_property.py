"""Properties of the bar builder and of the JSONL loader, over generated inputs."""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from itertools import groupby
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.bars import BarBuilder
from engine.data.calendar import Calendar
from engine.data.session_grid import SessionGrid
from engine.data.storage import BarStore
from engine.model import NANOS, Bar, Timeframe, to_ns
from engine.timeutil import IST

GRID = SessionGrid(Calendar.default(), "FO")
MINUTE = 60 * NANOS
# a regular day, the split DR Saturday, and a day after the FO close moved to 15:40
DAYS = [date(2024, 1, 2), date(2024, 3, 2), date(2026, 8, 3)]


@st.composite
def tick_streams(draw: st.DrawFn) -> tuple[date, list[tuple[int, float, int]]]:
    """Time-ordered (ts, price, qty) ticks, all inside the chosen day's session parts."""
    day = draw(st.sampled_from(DAYS))
    span = GRID.span(day)
    assert span is not None
    ticks = []
    for _ in range(draw(st.integers(1, 120))):
        lo, hi = draw(st.sampled_from(span.parts))
        ts = draw(st.integers(lo, hi - 1))
        price = draw(st.decimals(1, 50_000, places=2)).__float__()
        ticks.append((ts, price, draw(st.integers(0, 500))))
    ticks.sort(key=lambda t: t[0])
    return day, ticks


def _minute_key(ts: int) -> int:
    located = GRID.locate(ts)
    assert located is not None
    lo = located[0].parts[located[1]][0]
    return lo + (ts - lo) // MINUTE * MINUTE


@settings(max_examples=80, deadline=None)
@given(tick_streams())
def test_builder_property_when_ticks_in_session_then_bars_equal_per_minute_grouping(
    stream: tuple[date, list[tuple[int, float, int]]],
) -> None:
    _, ticks = stream
    out: list[Bar] = []
    builder = BarBuilder("X", GRID, out.append)
    for ts, price, qty in ticks:
        builder.update(ts, price, qty)
    builder.flush()
    expected = []
    for start, group in groupby(ticks, key=lambda t: _minute_key(t[0])):
        g = list(group)
        prices = [p for _, p, _ in g]
        expected.append(
            (start, prices[0], max(prices), min(prices), prices[-1], sum(q for _, _, q in g))
        )
    assert [(b.ts_event, b.open, b.high, b.low, b.close, b.volume) for b in out] == expected
    assert not builder.rejected
    for bar in out:
        assert bar.high >= max(bar.open, bar.close) and bar.low <= min(bar.open, bar.close)
        located = GRID.locate(bar.ts_event)
        assert located is not None  # starts inside a part ...
        assert bar.ts_event + MINUTE <= located[0].parts[located[1]][1]  # ... and ends in it
    assert sum(b.volume for b in out) == sum(q for _, _, q in ticks)


@settings(max_examples=40, deadline=None)
@given(tick_streams(), st.integers(1, 600))
def test_builder_property_when_clock_ticks_between_trades_then_same_bars(
    stream: tuple[date, list[tuple[int, float, int]]],
    clock_step_s: int,
) -> None:
    """Closing bars by the clock never changes what the bars hold."""
    _, ticks = stream
    plain: list[Bar] = []
    clocked: list[Bar] = []
    a = BarBuilder("X", GRID, plain.append)
    b = BarBuilder("X", GRID, clocked.append)
    now = ticks[0][0]
    for ts, price, qty in ticks:
        while now + clock_step_s * NANOS <= ts:
            now += clock_step_s * NANOS
            b.on_clock(now)
        a.update(ts, price, qty)
        b.update(ts, price, qty)
    a.flush()
    b.flush()
    strip = [(x.ts_event, x.open, x.high, x.low, x.close, x.volume) for x in plain]
    assert [(x.ts_event, x.open, x.high, x.low, x.close, x.volume) for x in clocked] == strip


def _bars(n: int) -> list[Bar]:
    t0 = to_ns(datetime(2024, 1, 2, 9, 15, tzinfo=IST))
    return [
        Bar(
            "NIFTY",
            Timeframe.M1,
            t0 + i * MINUTE,
            100.0 + i,
            101.5 + i,
            99.25 + i,
            100.05 * (i + 1),
            i * 7,
        )
        for i in range(n)
    ]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 25), st.data())
def test_loader_property_when_file_cut_anywhere_then_every_complete_line_survives(
    n: int,
    data: st.DataObject,
) -> None:
    bars = _bars(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = BarStore(Path(tmp))
        store.append(bars)
        path = store.bar_path("NIFTY", Timeframe.M1)
        raw = path.read_bytes()
        cut = data.draw(st.integers(0, len(raw)))
        path.write_bytes(raw[:cut])
        kept = raw[:cut]
        complete = max(kept.count(b"\n") - 1, 0)
        tail = kept[kept.rfind(b"\n") + 1 :]
        if tail and kept.count(b"\n") >= 1:
            try:
                json.loads(tail)
                complete += 1  # cut exactly before a newline: the record is whole
            except ValueError:
                pass
        read = store.load("NIFTY", Timeframe.M1)
        assert read.items == bars[:complete]
        # appending after the cut repairs the tail and loses nothing complete
        store.append(bars)
        assert store.load("NIFTY", Timeframe.M1).items == bars
