"""The simulator's fill function: the one seam where a fill model plugs in.

``FillFunction`` decides, for one working order and one tick of its instrument that came
after the order was placed, whether the order fills and at what price (paise). The
simulator calls it on every tick; nothing else in the simulator decides fills, so the
paper broker's fill table can replace ``fill_at_next_tick_with_limit_crossing`` by
passing another function to ``Simulator(fill=...)``.

The model here, stated once:

- MARKET: fills on the first tick after placement, at that tick's price.
- LIMIT: fills on the first tick after placement whose price is at or better than the
  limit (BUY: price <= limit; SELL: price >= limit), at the tick's price.
- STOPLOSS_LIMIT / STOPLOSS_MARKET: wait ("trigger pending") until a tick crosses the
  trigger (BUY: price >= trigger; SELL: price <= trigger), then behave as LIMIT / MARKET
  from the next tick on.
- The whole quantity fills at once; no partial fills, no slippage beyond the tick price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["FillDecision", "FillFunction", "WorkingOrder", "fill_at_next_tick_with_limit_crossing"]


@dataclass(frozen=True)
class WorkingOrder:
    """What a fill function may read about an order."""

    side: str  # BUY / SELL
    ordertype: str  # MARKET, LIMIT, STOPLOSS_LIMIT, STOPLOSS_MARKET
    quantity: int
    limit_paise: int
    trigger_paise: int
    triggered: bool


@dataclass(frozen=True)
class FillDecision:
    """``fill_paise`` set: fill the whole order at that price; ``trigger``: mark triggered."""

    fill_paise: int | None = None
    trigger: bool = False


class FillFunction(Protocol):
    def __call__(self, order: WorkingOrder, price_paise: int) -> FillDecision | None: ...


def fill_at_next_tick_with_limit_crossing(
    order: WorkingOrder, price_paise: int
) -> FillDecision | None:
    buy = order.side == "BUY"
    if order.ordertype.startswith("STOPLOSS") and not order.triggered:
        crossed = price_paise >= order.trigger_paise if buy else price_paise <= order.trigger_paise
        return FillDecision(trigger=True) if crossed else None
    if order.ordertype in ("MARKET", "STOPLOSS_MARKET"):
        return FillDecision(fill_paise=price_paise)
    if (buy and price_paise <= order.limit_paise) or (not buy and price_paise >= order.limit_paise):
        return FillDecision(fill_paise=price_paise)
    return None
