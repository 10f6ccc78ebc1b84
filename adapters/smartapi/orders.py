"""Orders over REST: place, modify, cancel, order book, trade book, positions, funds (§4, §5).

No duplicate order, ever. Every order carries its idempotency key as ``ordertag`` (fewer
than 20 characters, §4.2). When a place call ends without a definite answer (timeout,
dropped connection, empty or unreadable reply, 5xx) the order may have been accepted, so
before anything is sent again the order book is read and searched for the tag:

- found: that order is the result (``PlacedOrder.recovered``), nothing is resent;
- the book answers and the tag is absent, in ``order_lookup_attempts`` reads spaced by
  ``order_lookup_delay_s``: the order was not accepted, and it is sent again;
- the book cannot be read, or its rows carry no ``ordertag`` key at all (the docs' sample
  omits it, §4.3 ⚠): ``OrderStateUnknownError``; nothing is resent and the order manager
  reconciles.

A tag already placed by this process is answered from memory without a call. Modify and
cancel cannot create an order; after an unclear reply the order is read back and the call
is resent only when the book shows it did not take effect.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import anyio

from adapters.smartapi.http import SmartApiHttp, backoff_delay
from adapters.smartapi.parsing.values import to_decimal, to_int, to_ist_datetime
from adapters.smartapi.redact import adapter_logger
from engine.errors import BrokerError, BrokerUnavailableError, OrderStateUnknownError

__all__ = [
    "TERMINAL_STATUSES",
    "Funds",
    "OrderModify",
    "OrderRequest",
    "OrderRow",
    "PlacedOrder",
    "PositionRow",
    "SmartApiOrders",
    "TradeRow",
]

log = adapter_logger("orders")

MAX_TAG = 19  # "fewer than 20 characters"; 20 or more is AB4008
#: Documented terminal statuses (§4.4); any other string is treated as still working.
TERMINAL_STATUSES = frozenset({"complete", "rejected", "cancelled", "cancelled after market order"})


def _price(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


@dataclass(frozen=True)
class OrderRequest:
    """One order as the broker takes it. Prices in rupees; ``quantity`` in units."""

    tag: str
    tradingsymbol: str
    symboltoken: str
    exchange: str
    transactiontype: Literal["BUY", "SELL"]
    quantity: int
    ordertype: Literal["MARKET", "LIMIT", "STOPLOSS_LIMIT", "STOPLOSS_MARKET"] = "LIMIT"
    producttype: str = "INTRADAY"
    duration: Literal["DAY", "IOC"] = "DAY"
    price: Decimal = Decimal(0)
    triggerprice: Decimal = Decimal(0)
    variety: str = "NORMAL"

    def __post_init__(self) -> None:
        if not 1 <= len(self.tag) <= MAX_TAG:
            raise ValueError(f"order tag '{self.tag}' must be 1 to {MAX_TAG} characters")
        if self.quantity <= 0:
            raise ValueError(f"quantity must be positive; it was {self.quantity}")
        if self.ordertype in ("LIMIT", "STOPLOSS_LIMIT") and Decimal(self.price) <= 0:
            raise ValueError(f"a {self.ordertype} order needs a positive price")
        if self.ordertype.startswith("STOPLOSS") and Decimal(self.triggerprice) <= 0:
            raise ValueError(f"a {self.ordertype} order needs a positive trigger price")

    def to_wire(self) -> dict[str, str]:
        # numbers as strings, as in the docs' main example (§4.2)
        return {
            "variety": self.variety,
            "tradingsymbol": self.tradingsymbol,
            "symboltoken": self.symboltoken,
            "transactiontype": self.transactiontype,
            "exchange": self.exchange,
            "ordertype": self.ordertype,
            "producttype": self.producttype,
            "duration": self.duration,
            "price": _price(self.price) if self.ordertype != "MARKET" else "0",
            "triggerprice": _price(self.triggerprice),
            "quantity": str(self.quantity),
            "ordertag": self.tag,
        }


@dataclass(frozen=True)
class OrderModify:
    """A change to a working order (§4.2 modify keys)."""

    orderid: str
    tradingsymbol: str
    symboltoken: str
    exchange: str
    quantity: int
    price: Decimal
    ordertype: str = "LIMIT"
    producttype: str = "INTRADAY"
    duration: str = "DAY"
    triggerprice: Decimal = Decimal(0)
    variety: str = "NORMAL"

    def to_wire(self) -> dict[str, str]:
        return {
            "variety": self.variety,
            "orderid": self.orderid,
            "ordertype": self.ordertype,
            "producttype": self.producttype,
            "duration": self.duration,
            "price": _price(self.price),
            "triggerprice": _price(self.triggerprice),
            "quantity": str(self.quantity),
            "tradingsymbol": self.tradingsymbol,
            "symboltoken": self.symboltoken,
            "exchange": self.exchange,
        }


@dataclass(frozen=True)
class PlacedOrder:
    orderid: str
    uniqueorderid: str
    tag: str
    #: True when the reply was lost and the order was found in the book by its tag
    recovered: bool = False


@dataclass(frozen=True)
class OrderRow:
    """One order-book row (§4.3), numbers read leniently; ``raw`` keeps every key."""

    orderid: str
    uniqueorderid: str
    tag: str | None
    status: str
    tradingsymbol: str
    symboltoken: str
    exchange: str
    transactiontype: str
    ordertype: str
    quantity: int
    filled: int
    unfilled: int
    price: Decimal
    triggerprice: Decimal
    average_price: Decimal
    text: str
    updated: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_wire(cls, row: dict[str, Any]) -> OrderRow:
        tag = row.get("ordertag")
        return cls(
            orderid=str(row.get("orderid", "")),
            uniqueorderid=str(row.get("uniqueorderid", "")),
            tag=str(tag) if tag else None,
            status=str(row.get("status") or row.get("orderstatus") or "").lower(),
            tradingsymbol=str(row.get("tradingsymbol", "")),
            symboltoken=str(row.get("symboltoken", "")),
            exchange=str(row.get("exchange", "")),
            transactiontype=str(row.get("transactiontype", "")),
            ordertype=str(row.get("ordertype", "")),
            quantity=to_int(row.get("quantity")),
            filled=to_int(row.get("filledshares")),
            unfilled=to_int(row.get("unfilledshares")),
            price=to_decimal(row.get("price")),
            triggerprice=to_decimal(row.get("triggerprice")),
            average_price=to_decimal(row.get("averageprice")),
            text=str(row.get("text") or ""),
            updated=to_ist_datetime(row.get("updatetime")),
            raw=dict(row),
        )


@dataclass(frozen=True)
class TradeRow:
    orderid: str
    fillid: str
    tradingsymbol: str
    exchange: str
    transactiontype: str
    fillprice: Decimal
    fillsize: int
    filltime: str  # HH:MM:SS only (§4.5)

    @classmethod
    def from_wire(cls, row: dict[str, Any]) -> TradeRow:
        return cls(
            orderid=str(row.get("orderid", "")),
            fillid=str(row.get("fillid", "")),
            tradingsymbol=str(row.get("tradingsymbol", "")),
            exchange=str(row.get("exchange", "")),
            transactiontype=str(row.get("transactiontype", "")),
            fillprice=to_decimal(row.get("fillprice")),
            fillsize=to_int(row.get("fillsize")),
            filltime=str(row.get("filltime", "")),
        )


@dataclass(frozen=True)
class PositionRow:
    tradingsymbol: str
    symboltoken: str
    exchange: str
    producttype: str
    netqty: int  # negative for a short
    buyavgprice: Decimal
    sellavgprice: Decimal
    netvalue: Decimal

    @classmethod
    def from_wire(cls, row: dict[str, Any]) -> PositionRow:
        return cls(
            tradingsymbol=str(row.get("tradingsymbol", "")),
            symboltoken=str(row.get("symboltoken", "")),
            exchange=str(row.get("exchange", "")),
            producttype=str(row.get("producttype", "")),
            netqty=to_int(row.get("netqty")),
            buyavgprice=to_decimal(row.get("buyavgprice")),
            sellavgprice=to_decimal(row.get("sellavgprice")),
            netvalue=to_decimal(row.get("netvalue")),
        )


@dataclass(frozen=True)
class Funds:
    net: Decimal
    available_cash: Decimal
    utilised_debits: Decimal
    m2m_realised: Decimal
    m2m_unrealised: Decimal

    @classmethod
    def from_wire(cls, data: dict[str, Any] | None) -> Funds:
        d = data or {}
        return cls(
            net=to_decimal(d.get("net")),
            available_cash=to_decimal(d.get("availablecash")),
            utilised_debits=to_decimal(d.get("utiliseddebits")),
            m2m_realised=to_decimal(d.get("m2mrealized")),
            m2m_unrealised=to_decimal(d.get("m2munrealized")),
        )


def _rows(data: Any) -> list[dict[str, Any]]:
    # ``data`` may be null instead of [] when there is nothing (§4.3)
    return [r for r in data or [] if isinstance(r, dict)]


class SmartApiOrders:
    """Order calls for one logged-in client (the session keeps ``http.jwt`` current)."""

    def __init__(self, http: SmartApiHttp, *, rng: random.Random | None = None) -> None:
        self.http = http
        self._placed: dict[str, PlacedOrder] = {}
        self._rng = rng or random.Random()

    # -- reads ---------------------------------------------------------------------

    async def order_book(self, *, urgent: bool = False) -> list[OrderRow]:
        data = await self.http.call("order_book", urgent=urgent)
        return [OrderRow.from_wire(r) for r in _rows(data)]

    async def trade_book(self) -> list[TradeRow]:
        return [TradeRow.from_wire(r) for r in _rows(await self.http.call("trade_book"))]

    async def positions(self) -> list[PositionRow]:
        return [PositionRow.from_wire(r) for r in _rows(await self.http.call("positions"))]

    async def funds(self) -> Funds:
        data = await self.http.call("funds")
        return Funds.from_wire(data if isinstance(data, dict) else None)

    async def find_by_tag(self, tag: str) -> OrderRow | None:
        """The order with this ``ordertag`` in today's book, or None when the book lacks it.

        ``OrderStateUnknownError`` when the book's rows carry no ``ordertag`` key at all.
        """
        rows = await self.order_book(urgent=True)
        for row in rows:
            if row.tag == tag:
                return row
        if rows and not any("ordertag" in r.raw for r in rows):
            raise OrderStateUnknownError(
                f"order tag {tag}: the order book carries no ordertag field, so a lost "
                "reply cannot be matched; reconcile by hand before trading on",
                route="order_book",
            )
        return None

    # -- place ---------------------------------------------------------------------

    async def place(self, request: OrderRequest) -> PlacedOrder:
        """Place once; after an unclear failure, find it by tag before any resend."""
        known = self._placed.get(request.tag)
        if known is not None:
            log.info("order tag {} was already placed as {}; not sent again", request.tag,
                     known.orderid)  # fmt: skip
            return known
        cfg = self.http.config
        attempt = 0
        while True:
            try:
                data = await self.http.call("place_order", request.to_wire())
                placed = self._remember(request.tag, data)
                log.info("order {} placed (tag {})", placed.orderid, request.tag)
                return placed
            except BrokerUnavailableError as e:
                if e.maybe_processed:
                    found = await self._look_up(request.tag, e)
                    if found is not None:
                        placed = PlacedOrder(found.orderid, found.uniqueorderid, request.tag, True)
                        self._placed[request.tag] = placed
                        log.warning("order tag {}: reply lost ({}); found as {} in the book",
                                    request.tag, e, placed.orderid)  # fmt: skip
                        return placed
                attempt += 1
                if attempt >= cfg.max_attempts:
                    raise
                delay = backoff_delay(attempt, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
                log.warning("order tag {}: not accepted ({}); sending again in {:.2f} s",
                            request.tag, e, delay)  # fmt: skip
                await anyio.sleep(delay)

    async def _look_up(self, tag: str, cause: BrokerError) -> OrderRow | None:
        cfg = self.http.config
        for i in range(cfg.order_lookup_attempts):
            await anyio.sleep(cfg.order_lookup_delay_s)
            try:
                row = await self.find_by_tag(tag)
            except OrderStateUnknownError:
                raise
            except BrokerError as e:
                raise OrderStateUnknownError(
                    f"order tag {tag}: the reply was lost ({cause}) and the order book could "
                    f"not be read ({e}); nothing was sent again",
                    route="place_order",
                ) from None
            if row is not None:
                return row
            log.info("order tag {} not in the book (look-up {} of {})", tag, i + 1,
                     cfg.order_lookup_attempts)  # fmt: skip
        return None

    def _remember(self, tag: str, data: Any) -> PlacedOrder:
        if not isinstance(data, dict) or not data.get("orderid"):
            raise OrderStateUnknownError(
                f"order tag {tag}: the broker accepted the call but sent no order id",
                route="place_order",
            )
        placed = PlacedOrder(str(data["orderid"]), str(data.get("uniqueorderid", "")), tag)
        self._placed[tag] = placed
        return placed

    # -- modify / cancel -------------------------------------------------------------

    async def modify(self, change: OrderModify) -> str:
        """Modify a working order; returns the order id."""

        def took_effect(row: OrderRow) -> bool:
            return row.quantity == change.quantity and row.price == Decimal(change.price)

        await self._change("modify_order", change.to_wire(), change.orderid, took_effect)
        return change.orderid

    async def cancel(self, orderid: str, variety: str = "NORMAL") -> str:
        """Cancel a working order; returns the order id."""

        def took_effect(row: OrderRow) -> bool:
            return row.status in ("cancelled", "cancelled after market order") or row.terminal

        await self._change("cancel_order", {"variety": variety, "orderid": orderid}, orderid,
                           took_effect)  # fmt: skip
        return orderid

    async def _change(self, route: str, body: dict[str, str], orderid: str, took_effect) -> None:  # type: ignore[no-untyped-def]
        cfg = self.http.config
        for attempt in range(cfg.max_attempts):
            try:
                await self.http.call(route, body)
                log.info("{} {} accepted", route, orderid)
                return
            except BrokerUnavailableError as e:
                await anyio.sleep(cfg.order_lookup_delay_s)
                row = next((r for r in await self.order_book(urgent=True)
                            if r.orderid == orderid), None)  # fmt: skip
                if row is not None and took_effect(row):
                    log.warning("{} {}: reply lost ({}); the book shows it took effect",
                                route, orderid, e)  # fmt: skip
                    return
                if attempt + 1 >= cfg.max_attempts:
                    raise
                await anyio.sleep(
                    backoff_delay(attempt, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
                )
