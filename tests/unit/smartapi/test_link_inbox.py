"""The link's inbox: one consumer, many producers, in order, waking the consumer at once."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from adapters.smartapi.link import Inbox


def test_inbox_when_items_put_then_got_in_order() -> None:
    inbox = Inbox()
    for i in range(5):
        inbox.put(i)
    assert len(inbox) == 5
    assert [inbox.get(0) for _ in range(5)] == [0, 1, 2, 3, 4]


def test_inbox_when_empty_then_empty_after_the_timeout() -> None:
    inbox = Inbox()
    started = time.monotonic()
    with pytest.raises(queue.Empty):
        inbox.get(0.05)
    assert time.monotonic() - started >= 0.04


def test_inbox_when_producers_on_other_threads_then_every_item_once_in_each_order() -> None:
    inbox = Inbox()
    n, producers = 20_000, 4

    def produce(p: int) -> None:
        for i in range(n):
            inbox.put((p, i))

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    got: list[tuple[int, int]] = []
    while len(got) < n * producers:
        got.append(inbox.get(5.0))  # a consumer that waits is woken by the next put
    for t in threads:
        t.join()
    for p in range(producers):
        assert [i for q, i in got if q == p] == list(range(n))
