"""Instruments, orders and fills: what the order path carries and the journal records.

Money is ``Decimal`` rupees with at most two places (paise) and prices sit on the
instrument's tick; quantities are whole units (lots times the lot size). Enum values are
stable lowercase strings that double as journal values. Names follow the house style:
commands imperative (``OrderIntent`` asks for an order), events past tense
(``OrderAccepted``, ``OrderFilled``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "BrokerEvent",
    "Instrument",
    "OptionKind",
    "OrderAccepted",
    "OrderCancelled",
    "OrderFilled",
    "OrderIntent",
    "OrderPurpose",
    "OrderRejected",
    "OrderSide",
    "OrderType",
]


class OptionKind(StrEnum):
    CE = "CE"
    PE = "PE"


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"  # a protected market-like order is a limit beyond the touch


class OrderPurpose(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable option contract, with the facts every check needs."""

    symbol: str  # exchange trading symbol, e.g. NIFTY07MAR2422000CE
    underlying: str
    expiry: date
    strike: int
    kind: OptionKind
    lot_size: int
    tick_size: Decimal
    freeze_qty: int | None = None  # largest order in units, when known
    token: str | None = None  # the broker's instrument token, when known
    exchange: str = "NFO"

    def to_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "underlying": self.underlying,
            "expiry": self.expiry.isoformat(),
            "strike": self.strike,
            "kind": self.kind.value,
            "lot_size": self.lot_size,
            "tick_size": str(self.tick_size),
            "freeze_qty": self.freeze_qty,
        }


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What the strategy wants the broker to do, before any broker sees it.

    ``key`` is the idempotency key: a hash of everything that makes the intent this one
    (see ``engine.orders.intents``). It is journaled before the order is sent and travels
    to the broker as the order tag, so a retry or a restart can never make a second order.
    """

    key: str
    rule: str
    underlying: str
    instrument: Instrument
    side: OrderSide
    purpose: OrderPurpose
    qty: int  # units
    limit_price: Decimal
    ts_decision: int  # when the decision was made (epoch ns)
    reason: str  # trigger or exit rule name, or the action that asked
    order_type: OrderType = OrderType.LIMIT

    @property
    def lots(self) -> int:
        return self.qty // self.instrument.lot_size

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "rule": self.rule,
            "underlying": self.underlying,
            "instrument": self.instrument.to_dict(),
            "side": self.side.value,
            "purpose": self.purpose.value,
            "qty": self.qty,
            "lots": self.lots,
            "limit_price": str(self.limit_price),
            "order_type": self.order_type.value,
            "ts_decision": self.ts_decision,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The broker took the order; ``order_id`` is its id for it."""

    key: str
    order_id: str
    ts_event: int
    kind: str = field(default="accepted", init=False)


@dataclass(frozen=True, slots=True)
class OrderRejected:
    key: str
    reason: str
    ts_event: int
    order_id: str | None = None
    kind: str = field(default="rejected", init=False)


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """The rest of the order is cancelled; ``filled_qty`` units had filled before."""

    key: str
    ts_event: int
    filled_qty: int = 0
    reason: str = ""
    order_id: str | None = None
    kind: str = field(default="cancelled", init=False)


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """A fill (possibly partial) of ``qty`` units at ``price``."""

    key: str
    fill_id: str
    qty: int
    price: Decimal
    ts_event: int
    remaining: int  # units still working after this fill
    order_id: str | None = None
    kind: str = field(default="filled", init=False)


BrokerEvent = OrderAccepted | OrderRejected | OrderCancelled | OrderFilled
