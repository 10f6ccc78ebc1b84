"""The fill ledger: positions and trades built from fills, the one source of truth for P&L.

Every fill the broker reports lands here; a position's quantity, average prices, realised
P&L and charges are sums over its fills, never kept separately, so ``position.*`` in the
context, the account's day P&L and the trades report cannot disagree. Money is
``Decimal`` rupees; premiums are on the contract's tick.

A trade is one position's life for one rule on one underlying: from the first entry fill
to the fill that brings it back to zero. Charges are added per executed order when the
order is done (filled, or cancelled after partial fills), as a contract note shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.model.trading import Instrument, OrderSide

__all__ = ["Ledger", "Trade"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class Trade:
    """One position from its first entry fill until it is flat again."""

    trade_id: str
    rule: str
    underlying: str
    instrument: Instrument
    decision_ts: int
    entry_reason: str
    bought_qty: int = 0
    bought_value: Decimal = _ZERO
    sold_qty: int = 0
    sold_value: Decimal = _ZERO
    entry_ts: int | None = None
    entry_underlying: float | None = None
    exit_decision_ts: int | None = None
    exit_reason: str = ""
    exit_ts: int | None = None
    exit_underlying: float | None = None
    charges: Decimal = _ZERO
    max_pnl_pct: float | None = None
    best_underlying_move_pct: float | None = None
    scale_outs: list[str] = field(default_factory=list)  # partial exits decided, in order
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def qty(self) -> int:
        """Units held now."""
        return self.bought_qty - self.sold_qty

    @property
    def open(self) -> bool:
        return self.qty > 0

    @property
    def closed(self) -> bool:
        return self.bought_qty > 0 and self.qty == 0

    @property
    def lots(self) -> int:
        return self.bought_qty // self.instrument.lot_size

    @property
    def entry_price(self) -> Decimal | None:
        """Average entry premium."""
        if not self.bought_qty:
            return None
        return (self.bought_value / self.bought_qty).quantize(Decimal("0.0001"))

    @property
    def exit_price(self) -> Decimal | None:
        if not self.sold_qty:
            return None
        return (self.sold_value / self.sold_qty).quantize(Decimal("0.0001"))

    @property
    def exit_reasons(self) -> str:
        """Every exit of the trade in order: the partial exits', then the last one's."""
        return "+".join(
            [*self.scale_outs, self.exit_reason] if self.exit_reason else self.scale_outs
        )

    @property
    def realised(self) -> Decimal:
        """Gross P&L on the units already sold."""
        if not self.sold_qty or not self.bought_qty:
            return _ZERO
        return self.sold_value - self.bought_value * self.sold_qty / self.bought_qty

    def unrealised(self, ltp: Decimal) -> Decimal:
        if not self.qty:
            return _ZERO
        return (ltp * self.bought_qty - self.bought_value) * self.qty / self.bought_qty

    def gross_pnl(self, ltp: Decimal | None = None) -> Decimal:
        pnl = self.realised
        if self.qty and ltp is not None:
            pnl += self.unrealised(ltp)
        return pnl.quantize(Decimal("0.01"))

    @property
    def net_pnl(self) -> Decimal:
        return (self.gross_pnl() - self.charges).quantize(Decimal("0.01"))


class Ledger:
    """Fills in, positions and trades out; see the module docstring."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], Trade] = {}
        self.trades: list[Trade] = []
        self._seq = 0

    def open_trade(
        self,
        rule: str,
        underlying: str,
        instrument: Instrument,
        decision_ts: int,
        reason: str,
    ) -> Trade:
        """A new trade for an entry decision (its fills come later)."""
        key = (rule, underlying)
        if key in self._open:
            raise ValueError(f"{rule} already holds a trade on {underlying}")
        self._seq += 1
        trade = Trade(f"T{self._seq:04d}", rule, underlying, instrument, decision_ts, reason)
        self._open[key] = trade
        self.trades.append(trade)
        return trade

    def current(self, rule: str, underlying: str) -> Trade | None:
        return self._open.get((rule, underlying))

    def fill(
        self,
        trade: Trade,
        side: OrderSide,
        qty: int,
        price: Decimal,
        ts: int,
        underlying_price: float | None,
    ) -> None:
        value = price * qty
        if side is OrderSide.BUY:
            if trade.entry_ts is None:
                trade.entry_ts = ts
                trade.entry_underlying = underlying_price
            trade.bought_qty += qty
            trade.bought_value += value
        else:
            if qty > trade.qty:
                raise ValueError(
                    f"{trade.trade_id}: a sell of {qty} is more than the {trade.qty} held"
                )
            trade.sold_qty += qty
            trade.sold_value += value
            trade.exit_ts = ts
            trade.exit_underlying = underlying_price
        trade.fills.append({"side": side.value, "qty": qty, "price": str(price), "ts": ts})

    def charge(self, trade: Trade, amount: Decimal) -> None:
        trade.charges += amount

    def finish(self, trade: Trade) -> None:
        """The trade's orders are done: drop it from the open book when it is flat."""
        key = (trade.rule, trade.underlying)
        if self._open.get(key) is trade and trade.qty == 0:
            del self._open[key]

    def open_trades(self) -> Iterator[Trade]:
        return iter(list(self._open.values()))

    @property
    def open_count(self) -> int:
        """Trades holding units now (a trade waiting for its first fill holds none)."""
        if not self._open:
            return 0
        return sum(1 for t in self._open.values() if t.qty > 0)
