from __future__ import annotations

from datetime import time

import pytest

from engine.expr import Missing, NameInfo, ValueType, Vocabulary

N, T, S, B, D = ValueType.NUMBER, ValueType.TIME, ValueType.STRING, ValueType.BOOL, ValueType.DATE

VOCAB = Vocabulary.of(
    {
        "daily.adx": N,
        "daily.plus_di": N,
        "daily.minus_di": N,
        "h1.adx": N,
        "h1.plus_di": N,
        "h1.minus_di": N,
        "h1.prev.high": N,
        "h1.prev.plus_di": N,
        "m1.close": N,
        "vix": N,
        "time": T,
        "date": D,
        "position.open": B,
        "position.side": NameInfo(S, "side", ("CE", "PE", "none")),
        "position.pnl_pct": N,
    }
)

CONTEXT = {
    "daily.adx": 31.2,
    "daily.plus_di": 24.1,
    "daily.minus_di": 17.9,
    "h1.adx": 28,
    "h1.plus_di": 20.0,
    "h1.minus_di": 18.5,
    "h1.prev.high": 22000.0,
    "h1.prev.plus_di": Missing("h1.plus_di not ready (9 of 15 bars)"),
    "m1.close": 22010.5,
    "vix": 31.4,
    "time": time(11, 5),
    "date": __import__("datetime").date(2025, 1, 7),
    "position.open": True,
    "position.side": "CE",
    "position.pnl_pct": -0.4,
}


@pytest.fixture
def vocab() -> Vocabulary:
    return VOCAB


@pytest.fixture
def context() -> dict[str, object]:
    return dict(CONTEXT)
