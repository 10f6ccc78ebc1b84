"""The fill table: when and at what price a paper order fills.

=======================  ================================================================
rule                     meaning
=======================  ================================================================
never the same price     an order is eligible from the first price shown *after* it was
                         sent: the next tick, or the next bar's open in a replay (which
                         carries the deciding bar's end as its time); never the price the
                         decision was made on, never the deciding bar's own close
limit buy                fills when price + slippage <= limit, at price + slippage
limit sell               fills when price - slippage >= limit, at price - slippage
slippage                 max(one tick, ``slippage_pct`` of the price), rounded away from
                         us onto the tick: the spread and impact paid on a market-like order
quantity                 the whole order at once, or at most ``max_fill_qty`` units per
                         price update when set (to rehearse partial fills)
waiting                  an order that does not cross waits; timeouts and cancels are the
                         runtime's (position machine, cancel before the close)
=======================  ================================================================

Prices are option premiums in rupees as ``Decimal`` on the contract's tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from engine.model.trading import OrderSide

__all__ = ["FillModel"]


@dataclass(frozen=True, slots=True)
class FillModel:
    slippage_pct: Decimal = Decimal("0.1")
    max_fill_qty: int | None = None

    def slippage(self, price: Decimal, tick: Decimal) -> Decimal:
        raw = price * self.slippage_pct / 100
        steps = (raw / tick).to_integral_value(ROUND_CEILING)
        return max(steps, Decimal(1)) * tick

    def fill_price(
        self, side: OrderSide, limit: Decimal, price: Decimal, tick: Decimal
    ) -> Decimal | None:
        """The fill price at market ``price`` for a limit order, or None: it does not cross."""
        slip = self.slippage(price, tick)
        if side is OrderSide.BUY:
            paid = _on_tick(price + slip, tick, ROUND_CEILING)
            return paid if paid <= limit else None
        got = _on_tick(price - slip, tick, ROUND_FLOOR)
        if got < tick:
            got = tick
        return got if got >= limit else None

    def fill_qty(self, remaining: int, lot_size: int) -> int:
        if self.max_fill_qty is None or remaining <= self.max_fill_qty:
            return remaining
        return min(remaining, max(lot_size, self.max_fill_qty // lot_size * lot_size))


def _on_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding) * tick
