"""SmartAPI tick decoding speed on one core.

Targets: at least 500,000 LTP packets/s and 200,000 SNAP_QUOTE packets/s. Run with
``python -m pytest benchmarks/bench_smartapi_ticks.py --benchmark-only``; packets/s is in
each result's ``extra_info``.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from adapters.smartapi.parsing.ticks import (
    DepthLevel,
    LtpPacket,
    QuotePacket,
    SnapQuotePacket,
    decode,
    encode,
    snap_quote_depth,
)

N = 10_000


def _ltp(i: int) -> bytes:
    return encode(LtpPacket(1, 2, str(40000 + i % 50), i, 1732680000000 + i, 2_400_000 + i))


def _quote(i: int) -> bytes:
    return encode(
        QuotePacket(
            2,
            2,
            str(40000 + i % 50),
            i,
            1732680000000 + i,
            12345,
            75,
            12300,
            1000 + i,
            5.0e4,
            6.0e4,
            12000,
            12500,
            11900,
            12100,
        )  # fmt: skip
    )


def _snap(i: int) -> bytes:
    depth = [DepthLevel(1, 75, 12340 - 5 * k, 3) for k in range(5)]
    depth += [DepthLevel(0, 75, 12350 + 5 * k, 2) for k in range(5)]
    return encode(
        SnapQuotePacket(
            3,
            2,
            str(40000 + i % 50),
            i,
            1732680000000 + i,
            12345,
            75,
            12300,
            1000 + i,
            5.0e4,
            6.0e4,
            12000,
            12500,
            11900,
            12100,
            1732679999,
            456000,
            0.0,
            snap_quote_depth(depth),
            30000,
            5,
            99900,
            100,
        )  # fmt: skip
    )


def _decode_all(frames: list[bytes]) -> int:
    n = 0
    for frame in frames:
        decode(frame)
        n += 1
    return n


@pytest.mark.parametrize(
    ("kind", "make", "target"),
    [("ltp", _ltp, 500_000), ("quote", _quote, 300_000), ("snap_quote", _snap, 200_000)],
)
def test_decode_packets_per_second(
    benchmark: BenchmarkFixture,
    kind: str,
    make,
    target: int,  # type: ignore[no-untyped-def]
) -> None:
    frames = [make(i) for i in range(N)]
    assert benchmark(_decode_all, frames) == N
    rate = N / benchmark.stats.stats.median
    benchmark.extra_info.update(packets_per_s=round(rate), target_per_s=target, kind=kind)
