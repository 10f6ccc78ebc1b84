"""How many lots an entry buys: the rule's sizing, scaled by what the machines allow.

Whole lots only. ``fixed_lots`` buys ``lots``; ``capital_pct`` spends that percent of
capital on premium; ``risk_pct`` risks that percent of capital, and for a bought option
the amount at risk is the whole premium (a stop can gap), so it sizes like capital_pct
with its own percent. The rule's sizing table (``multiplier``, the product of the
factors whose conditions hold) scales the size before it is rounded down to whole lots;
the result is capped at ``max_lots``, raised to ``min_lots`` when declared, and scaled by
the smallest
size factor any machine set (``set_size_factor``), rounded down but never below one lot
while the factor is above zero. The arithmetic is returned with the result, for the
journal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Sizing", "size_entry"]


@dataclass(frozen=True, slots=True)
class Sizing:
    lots: int
    values: Mapping[str, Any]


def size_entry(
    sizing: Mapping[str, Any],
    *,
    premium: Decimal,
    lot_size: int,
    capital: Decimal,
    size_factor: float,
    multiplier: Decimal = Decimal(1),
) -> Sizing:
    mode = sizing.get("mode", "fixed_lots")
    values: dict[str, Any] = {"mode": mode, "lot_size": lot_size, "premium": str(premium)}
    if mode == "fixed_lots":
        raw = Decimal(int(sizing.get("lots", 1)))
    else:
        pct = Decimal(str(sizing.get("capital_pct" if mode == "capital_pct" else "risk_pct", 0)))
        budget = capital * pct / 100
        per_lot = premium * lot_size
        raw = budget / per_lot if per_lot > 0 else Decimal(0)
        values.update({"pct": str(pct), "budget": str(budget.quantize(Decimal("0.01")))})
    if multiplier != 1:
        values["multiplier"] = str(multiplier)
        raw *= multiplier
    base = int(raw)  # whole lots, rounded down
    values["base_lots"] = base
    cap = sizing.get("max_lots")
    if cap is not None and base > int(cap):
        base = int(cap)
        values["capped_at"] = int(cap)
    floor_lots = sizing.get("min_lots")
    if floor_lots is not None and base < int(floor_lots):
        base = int(floor_lots)
        values["raised_to"] = int(floor_lots)
    lots = base
    if size_factor < 1.0:
        lots = max(1, math.floor(base * size_factor)) if base and size_factor > 0 else 0
        values["size_factor"] = size_factor
    values["lots"] = lots
    return Sizing(lots, values)
