"""The ``backtest`` fixture: run a rule file over a real data window, in process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scenario_kit import BASIC, MARKET, Run


@pytest.fixture
def backtest() -> Callable[..., Run]:
    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal
    from engine.runtime.backtest import replay

    def run(
        rules: Path | str = BASIC,
        *,
        data: str = "nifty_1m_2024.csv",
        start: str | None = "2024-01-01",
        end: str | None = "2024-01-31",
        daily: str | None = "nifty_daily_2005_2026.csv",
        vix: str | None = "india_vix_daily_2012_2026.csv",
        journal: Path | None = None,
        feed_filter: Callable[[Any], Any] | None = None,
        broker: Any = None,
    ) -> Run:
        inputs = load_inputs(
            str(rules),
            str(MARKET / data),
            daily=str(MARKET / daily) if daily else None,
            vix=str(MARKET / vix) if vix else None,
            start=start,
            end=end,
        )
        if feed_filter is not None:
            feed_filter(inputs)
        j = Journal(journal)
        engine, feed = build_engine(
            inputs, journal=j, broker=broker or PaperBroker(), echo_notifications=False
        )
        replay(engine, feed)
        j.close()
        if journal is not None:
            import json

            records = [json.loads(line) for line in journal.read_text().splitlines()]
        else:
            records = list(j.records or [])
        return Run(engine, records)

    return run
