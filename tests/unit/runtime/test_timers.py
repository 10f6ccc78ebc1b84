"""Timers: deadlines on the engine clock, handed back in time order, ties in the order set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.runtime.timers import Deadline, Timers

MINUTE = 60_000_000_000


def _drain(timers: Timers, now: int) -> list[Deadline]:
    out = []
    while (d := timers.pop_due(now)) is not None:
        out.append(d)
    return out


def test_timers_when_set_out_of_order_then_due_in_time_order() -> None:
    timers = Timers()
    for at, label in ((3 * MINUTE, "c"), (MINUTE, "a"), (2 * MINUTE, "b")):
        timers.at(at, lambda ts: None, label)
    assert [d.label for d in _drain(timers, 10 * MINUTE)] == ["a", "b", "c"]


def test_timers_when_same_instant_then_due_in_the_order_they_were_set() -> None:
    timers = Timers()
    for label in ("first", "second", "third", "fourth"):
        timers.at(MINUTE, lambda ts: None, label)
    timers.at(MINUTE - 1, lambda ts: None, "earlier")
    assert [d.label for d in _drain(timers, MINUTE)] == [
        "earlier",
        "first",
        "second",
        "third",
        "fourth",
    ]


def test_pop_due_when_nothing_reached_then_none_and_deadline_kept() -> None:
    timers = Timers()
    timers.at(2 * MINUTE, lambda ts: None, "later")
    assert timers.pop_due(2 * MINUTE - 1) is None
    assert len(timers) == 1
    due = timers.pop_due(2 * MINUTE)  # exactly at the instant: due
    assert due is not None and due.label == "later"
    assert len(timers) == 0


def test_pop_due_when_empty_then_none() -> None:
    assert Timers().pop_due(1 << 60) is None


def test_deadline_when_popped_then_callback_runs_with_its_own_instant() -> None:
    seen: list[int] = []
    timers = Timers()
    timers.at(5 * MINUTE, seen.append)
    deadline = timers.pop_due(9 * MINUTE)
    assert deadline is not None
    deadline.callback(deadline.at)
    assert seen == [5 * MINUTE]


def test_cancel_when_deadline_cancelled_then_skipped_and_not_counted() -> None:
    timers = Timers()
    a = timers.at(MINUTE, lambda ts: None, "a")
    timers.at(2 * MINUTE, lambda ts: None, "b")
    c = timers.at(3 * MINUTE, lambda ts: None, "c")
    a.cancel()
    c.cancel()
    assert len(timers) == 1
    assert [d.label for d in _drain(timers, 10 * MINUTE)] == ["b"]
    assert len(timers) == 0


def test_next_at_when_earliest_cancelled_then_next_pending_instant() -> None:
    timers = Timers()
    first = timers.at(MINUTE, lambda ts: None)
    timers.at(4 * MINUTE, lambda ts: None)
    assert timers.next_at == MINUTE
    first.cancel()
    assert timers.next_at == 4 * MINUTE


def test_next_at_when_nothing_pending_then_far_future() -> None:
    timers = Timers()
    never = timers.next_at
    assert never > 100 * 365 * 24 * 60 * MINUTE  # beyond any instant a run will reach
    only = timers.at(MINUTE, lambda ts: None)
    only.cancel()
    assert timers.next_at == never


def test_timers_when_deadline_set_while_draining_then_it_is_seen_in_order() -> None:
    """A callback that sets a new deadline already due (a chained timer) is not lost."""
    timers = Timers()
    timers.at(MINUTE, lambda ts: None, "a")
    timers.at(3 * MINUTE, lambda ts: None, "c")
    first = timers.pop_due(5 * MINUTE)
    assert first is not None and first.label == "a"
    timers.at(2 * MINUTE, lambda ts: None, "b")  # set by a's callback
    assert [d.label for d in _drain(timers, 5 * MINUTE)] == ["b", "c"]


@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), max_size=40))
def test_timers_when_any_deadlines_then_due_sorted_by_instant_then_insertion(
    items: list[tuple[int, bool]],
) -> None:
    timers = Timers()
    kept = []
    for i, (at, cancelled) in enumerate(items):
        d = timers.at(at, lambda ts: None, str(i))
        if cancelled:
            d.cancel()
        else:
            kept.append((at, i))
    assert len(timers) == len(kept)
    assert timers.next_at == min(kept)[0] if kept else timers.next_at > 50
    got = [(d.at, int(d.label)) for d in _drain(timers, 50)]
    assert got == sorted(kept)
