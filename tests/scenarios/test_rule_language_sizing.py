"""Sizing tables on real January 2024 NIFTY data: 2% of capital, multipliers declared
as conditions (VIX band, days to expiry, open positions), whole lots 1 to 100, every row
journaled with the values it read."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from scenario_kit import rule_copy

TABLE = """sizing:
  mode: risk_pct
  risk_pct: 2
  min_lots: 1
  max_lots: 100
  multipliers:
    - {name: vix_calm, when: "vix < 14", factor: 1.25}
    - {name: vix_high, when: "vix >= 14", factor: 0.5}
    - {name: expiry_near, when: "dte <= 1", factor: 0.5}
    - {name: already_open, when: "positions.open >= 1", factor: 0.5}"""


def test_sizing_table_when_conditions_hold_then_each_factor_applies_and_is_journaled(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {
            "sizing:   {mode: fixed_lots, lots: 1, max_lots: 4}": TABLE,
            "max_premium_per_order_inr: 50000": "max_premium_per_order_inr: 5000000",
        },
    )
    run = backtest(rules)
    entries = [r for r in run.kinds("entry_decision") if "sizing" in r]
    assert entries
    seen = set()
    for r in entries:
        rows = {m["name"]: m for m in r["multipliers"]}
        assert set(rows) == {"vix_calm", "vix_high", "expiry_near", "already_open"}
        vix = rows["vix_high"]["reads"]["vix"]
        assert rows["vix_high"]["applied"] is (vix >= 14)
        assert rows["vix_calm"]["applied"] is (vix < 14)
        assert rows["expiry_near"]["applied"] is (rows["expiry_near"]["reads"]["dte"] <= 1)
        product = Decimal(1)
        for m in rows.values():
            if m["applied"]:
                product *= Decimal(str(m["factor"]))
                seen.add(m["name"])
        s = r["sizing"]
        per_lot = Decimal(s["premium"]) * s["lot_size"]
        expected = math.floor(Decimal(s["budget"]) / per_lot * product)
        assert Decimal(s["budget"]) == Decimal(s["pct"]) / 100 * run.engine.capital
        assert s["lots"] == min(100, max(1, expected))
    assert {"vix_high", "expiry_near"} <= seen  # January 2024: VIX above 14 and expiry days
