"""Properties of the calendar that hold for every date (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.calendar import Calendar
from engine.timeutil import IST

CAL = Calendar.default()
INNER = st.dates(min_value=date(2024, 1, 2), max_value=date(2026, 12, 28))
UNDERLYING = st.sampled_from(["NIFTY", "BANKNIFTY", "FINNIFTY"])


@given(INNER)
def test_next_session_when_after_previous_session_then_the_first_session_from_d(d: date) -> None:
    back = CAL.previous_session(d)
    assert back.date < d
    first_from_d = d if CAL.is_session(d) else CAL.next_session(d).date
    assert CAL.next_session(back.date).date == first_from_d
    assert not any(
        CAL.is_session(back.date + timedelta(days=i))
        for i in range(1, (first_from_d - back.date).days)
    )


@given(INNER, st.integers(min_value=0, max_value=40))
def test_sessions_when_any_window_then_ordered_sessions_inside_it(d: date, span: int) -> None:
    end = min(d + timedelta(days=span), CAL.last_date)
    got = CAL.sessions(d, end)
    dates = [s.date for s in got]
    assert dates == sorted(set(dates))
    assert all(d <= x <= end and CAL.is_session(x) for x in dates)
    every_day = [d + timedelta(days=i) for i in range((end - d).days + 1)]
    assert len(dates) == sum(CAL.is_session(x) for x in every_day)


@given(INNER, UNDERLYING)
def test_expiries_when_any_date_then_on_a_trading_day_not_a_holiday(d: date, u: str) -> None:
    e = CAL.next_expiry(u, d)
    assert e.date >= d and CAL.is_session(e.date) and not CAL.is_holiday(e.date)
    if e.moved_from is not None:
        assert e.moved_from > e.date
        assert CAL.is_holiday(e.moved_from) or not CAL.is_session(e.moved_from)
    sessions, days = CAL.days_to_expiry(d, e.date)
    assert days == (e.date - d).days
    trading = [x for x in CAL.sessions(d + timedelta(days=1), e.date) if x.kind != "muhurat"]
    assert sessions == (len(trading) if e.date > d else 0)  # a Muhurat hour is not one


@given(INNER, st.integers(min_value=0, max_value=24 * 60 - 1))
def test_contains_when_any_minute_then_inside_exactly_one_part_or_none(d: date, m: int) -> None:
    s = CAL.session(d)
    if s is None or not s.hours_known:
        return
    ts = datetime.combine(d, time(m // 60, m % 60), tzinfo=IST)
    inside = [p for p in s.segments if p[0] <= ts.time() < p[1]]
    assert s.contains(ts) == (len(inside) == 1)
    assert (s.minute_index(ts) is not None) == s.contains(ts)


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=9 * 60, max_value=16 * 60), min_size=1, max_size=60))
def test_derive_when_any_bars_then_parts_cover_them_and_gaps_exceed_30_minutes(
    minutes: list[int],
) -> None:
    d = date(2024, 6, 3)
    bars = [datetime.combine(d, time(m // 60, m % 60), tzinfo=IST) for m in minutes]
    s = Calendar.derive_from_timestamps(bars).session(d)
    assert s is not None
    assert all(s.contains(b) for b in bars)
    for (_, end), (start, _) in zip(s.segments, s.segments[1:], strict=False):
        gap = datetime.combine(d, start) - datetime.combine(d, end)
        assert gap > timedelta(minutes=30)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s * 1_000_000_000),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([60, 300, 900, 3600, 86400]),
)
def test_day_parts_from_ns_equals_the_datetime_path(ts_ns: list[int], bar_seconds: int) -> None:
    from engine.data._derive import day_parts_from_ns, day_parts_from_timestamps
    from engine.model.market import ns_to_datetime

    starts = [ns_to_datetime(t) for t in ts_ns]
    assert day_parts_from_ns(ts_ns, bar_seconds) == day_parts_from_timestamps(starts, bar_seconds)
