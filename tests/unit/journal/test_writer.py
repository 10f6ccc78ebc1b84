"""The journal writer: a versioned header, one way to encode each value, deterministic bytes,
buffered in backtests and on disk at once when a record is written with ``sync``."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from engine.errors import FileAccessError
from engine.expr import MISSING, Missing
from engine.journal import SCHEMA_VERSION, Journal, encode_record
from engine.model.enums import Timeframe
from engine.model.trading import OrderSide
from engine.timeutil import IST


class Colour(Enum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_journal_when_opened_then_first_line_is_the_versioned_header(tmp_path: Path) -> None:
    path = tmp_path / "run" / "journal.jsonl"  # the folder is made
    Journal(path, header={"rules": "rules/adx.yaml", "mode": "backtest"}).close()
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        f'{{"kind":"journal","schema":{SCHEMA_VERSION},"rules":"rules/adx.yaml","mode":"backtest"}}'
    )


def test_journal_when_opened_then_header_is_on_disk_before_any_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    assert lines(path) == [{"kind": "journal", "schema": SCHEMA_VERSION}]
    journal.close()


def test_journal_when_in_memory_then_records_kept_as_their_decoded_lines() -> None:
    journal = Journal(None, header={"mode": "test"})
    journal.write({"kind": "intent", "ts": 1, "limit_price": Decimal("150.75")})
    assert journal.path is None
    assert journal.records == [
        {"kind": "journal", "schema": SCHEMA_VERSION, "mode": "test"},
        {"kind": "intent", "ts": 1, "limit_price": "150.75"},
    ]
    assert journal.count == 2


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (Decimal("150.75"), '"150.75"'),
        (Decimal("0.050"), '"0.050"'),  # as given, never through a float
        (Missing("daily.adx not ready (9 of 28 bars)"),
         '{"missing":"daily.adx not ready (9 of 28 bars)"}'),
        (MISSING, '{"missing":"value not available"}'),
        (date(2024, 3, 7), '"2024-03-07"'),
        (time(9, 15), '"09:15"'),
        (time(15, 29, 30), '"15:29:30"'),
        (datetime(2024, 3, 6, 11, 0, tzinfo=IST), '"2024-03-06T11:00:00+05:30"'),
        (datetime(2024, 3, 6, 5, 30, tzinfo=UTC), '"2024-03-06T05:30:00+00:00"'),
        (OrderSide.BUY, '"buy"'),
        (Timeframe.H1, '"1h"'),
        (Colour.RED, '"red"'),
        (Level.HIGH, "3"),
        ({"b", "a", "c"}, '["a","b","c"]'),
        (frozenset({3, 1}), "[1,3]"),
        ((1, "x"), '[1,"x"]'),
        (MappingProxyType({"k": 1}), '{"k":1}'),
        ("₹ 1,00,000", '"₹ 1,00,000"'),  # UTF-8, not escaped
        (None, "null"),
        (True, "true"),
        (22000.5, "22000.5"),
    ],
)  # fmt: skip
def test_encode_record_when_value_given_then_encoded_one_way_only(value: Any, encoded: str) -> None:
    assert encode_record({"v": value}) == '{"v":' + encoded + "}"


def test_encode_record_when_values_nested_then_encoded_at_any_depth() -> None:
    record = {"kind": "entry_eval", "trace": [{"reads": {"daily.adx": Missing("warming up")}}],
              "strike": {"expiry": date(2024, 3, 7), "premium": Decimal("246.20")}}  # fmt: skip
    assert encode_record(record) == (
        '{"kind":"entry_eval","trace":[{"reads":{"daily.adx":{"missing":"warming up"}}}],'
        '"strike":{"expiry":"2024-03-07","premium":"246.20"}}'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_encode_record_when_nan_or_infinite_then_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode_record({"kind": "x", "value": bad})


def test_write_when_nan_then_raises_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    with pytest.raises(ValueError):
        journal.write({"kind": "x", "value": math.nan}, sync=True)
    journal.close()
    assert [r["kind"] for r in lines(path)] == ["journal"]


def test_write_when_record_cannot_be_encoded_then_not_counted_nor_shown() -> None:
    """A refused record is not in the journal, so nobody is told it was written."""
    seen: list[Any] = []
    journal = Journal(None, on_record=seen.append)
    for bad in ({"kind": "x", "value": math.nan}, {"kind": "x", "value": 1j}):
        with pytest.raises((ValueError, TypeError)):
            journal.write(bad)
    assert journal.count == 1 and len(seen) == 1
    assert journal.records is not None and len(journal.records) == 1


def test_encode_record_when_unknown_type_then_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="cannot put a complex in the journal"):
        encode_record({"v": 1j})


def _run(path: Path) -> None:
    with Journal(path, header={"rules": "rules/adx.yaml"}) as journal:
        for i in range(50):
            journal.write(
                {
                    "kind": "bar",
                    "ts": 1_709_700_000_000_000_000 + i,
                    "price": Decimal("22000.05") + i,
                    "reads": {"z": i, "a": Missing("warming up"), "tags": {"b", "a"}},
                    "day": date(2024, 3, 6),
                },
                sync=i % 7 == 0,
            )


def test_journal_when_same_records_written_twice_then_byte_identical(tmp_path: Path) -> None:
    _run(tmp_path / "a.jsonl")
    _run(tmp_path / "b.jsonl")
    a, b = (tmp_path / "a.jsonl").read_bytes(), (tmp_path / "b.jsonl").read_bytes()
    assert a == b
    assert a.endswith(b"\n") and a.count(b"\n") == 51 and b"\r" not in a


def test_write_when_buffered_then_not_on_disk_until_flushed(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    for i in range(10):
        journal.write({"kind": "bar", "ts": i})
    assert [r["kind"] for r in lines(path)] == ["journal"]  # a backtest does not flush per bar
    journal.flush()
    assert len(lines(path)) == 11
    journal.close()


def test_write_when_sync_then_it_and_everything_before_it_are_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.write({"kind": "bar", "ts": 1})
    journal.write({"kind": "intent", "ts": 2, "key": "abc"}, sync=True)
    assert [r["kind"] for r in lines(path)] == ["journal", "bar", "intent"]
    journal.close()


def test_write_when_buffer_full_then_flushed_without_being_asked(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, buffer_records=3)
    journal.write({"kind": "bar", "ts": 1})
    journal.write({"kind": "bar", "ts": 2})
    assert len(lines(path)) == 1
    journal.write({"kind": "bar", "ts": 3})
    assert [r.get("ts") for r in lines(path)] == [None, 1, 2, 3]
    journal.close()


def test_close_when_records_pending_then_written_and_file_closed(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.write({"kind": "bar", "ts": 1})
    assert len(lines(path)) == 2
    journal.close()  # closing twice is harmless
    assert journal.count == 2


def test_journal_when_file_exists_then_refused_and_old_journal_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"kind":"journal","schema":1}\n{"kind":"earlier run"}\n', encoding="utf-8")
    with pytest.raises(FileAccessError, match="already exists"):
        Journal(path)
    assert lines(path)[1] == {"kind": "earlier run"}


def test_journal_when_on_record_given_then_each_record_seen_as_written() -> None:
    seen: list[Any] = []
    journal = Journal(None, on_record=seen.append)
    record = {"kind": "intent", "ts": 5, "price": Decimal("1.05")}
    journal.write(record)
    assert seen[0]["kind"] == "journal" and seen[1] is record
