"""What a run reads, checked before anything runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from engine.cli._inputs import _check_expiries
from engine.data.calendar import Calendar
from engine.errors import UserInputError
from engine.model import Bar, Timeframe, to_ns
from engine.spec.rules import load_rule_file
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[3]


def bars_on(*days: tuple[int, int, int]) -> list[Bar]:
    return [
        Bar("BANKNIFTY", Timeframe.M15, to_ns(datetime(*d, 9, 15, tzinfo=IST)), 1.0, 1.0, 1.0, 1.0)
        for d in days
    ]


def test_expiries_when_banknifty_weekly_asked_after_they_ended_then_refused_at_load() -> None:
    rules = load_rule_file(REPO / "rules" / "adx_15m.yaml")
    bars = bars_on((2024, 11, 12), (2024, 11, 13), (2024, 11, 14), (2024, 12, 2))
    with pytest.raises(UserInputError, match=r"'nearest_weekly' does not exist for BANKNIFTY on 2"):
        _check_expiries(rules, "rules/adx_15m.yaml", bars, Calendar.default())


def test_expiries_when_banknifty_weekly_asked_while_they_existed_then_accepted() -> None:
    rules = load_rule_file(REPO / "rules" / "adx_15m.yaml")
    _check_expiries(rules, "r", bars_on((2024, 1, 2), (2024, 11, 13)), Calendar.default())
