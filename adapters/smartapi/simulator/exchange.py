"""The simulator's order book: validation, order state, fills through the fill function.

All methods are called under the simulator's lock (the HTTP server answers on several
threads, the replay runs on another). Rejections are business errors with documented
codes: AB4008 (ordertag of 20 characters or more), AB1008 (variety), AB1012 (product
type), AB1009 (unknown symbol or token), AB1013 (order not found); a quantity that is not
a whole number of lots or a price off the tick grid is rejected as AB2000 (the contract
documents no code for these).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.smartapi.simulator.fills import FillFunction, WorkingOrder
from adapters.smartapi.simulator.market import OptionContract
from engine.timeutil import IST

__all__ = ["Exchange", "Rejected", "SimOrder"]

VARIETIES = {"NORMAL", "STOPLOSS", "ROBO", "AMO"}
PRODUCTS = {"DELIVERY", "CARRYFORWARD", "MARGIN", "INTRADAY", "BO"}
ORDER_TYPES = {"MARKET", "LIMIT", "STOPLOSS_LIMIT", "STOPLOSS_MARKET"}


class Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code} {message}")


@dataclass
class SimOrder:
    orderid: str
    uniqueorderid: str
    tag: str
    variety: str
    tradingsymbol: str
    symboltoken: str
    exchange: str
    transactiontype: str
    ordertype: str
    producttype: str
    duration: str
    price_paise: int
    trigger_paise: int
    quantity: int
    lot_size: int
    status: str = "open"
    filled: int = 0
    avg_paise: int = 0
    text: str = ""
    triggered: bool = False
    after_seq: int = 0  # fills only on ticks with a higher sequence
    updated: datetime = field(default_factory=lambda: datetime.now(IST))
    fills: list[tuple[str, int, int, datetime]] = field(default_factory=list)

    def working(self) -> WorkingOrder:
        return WorkingOrder(self.transactiontype, self.ordertype, self.quantity,
                            self.price_paise, self.trigger_paise, self.triggered)  # fmt: skip

    def row(self) -> dict[str, Any]:
        """An order-book row with every §4.3 key (plus ``ordertag``), prices as strings."""
        t = self.updated.strftime("%d-%b-%Y %H:%M:%S")
        return {
            "variety": self.variety, "ordertype": self.ordertype,
            "producttype": self.producttype, "duration": self.duration,
            "price": _rupees(self.price_paise), "triggerprice": _rupees(self.trigger_paise),
            "quantity": str(self.quantity), "disclosedquantity": "0", "squareoff": "0",
            "stoploss": "0", "trailingstoploss": "0", "tradingsymbol": self.tradingsymbol,
            "transactiontype": self.transactiontype, "exchange": self.exchange,
            "symboltoken": self.symboltoken, "instrumenttype": "OPTIDX",
            "strikeprice": "-1", "optiontype": self.tradingsymbol[-2:], "expirydate": "",
            "lotsize": str(self.lot_size), "cancelsize": "0",
            "averageprice": _rupees(self.avg_paise), "filledshares": str(self.filled),
            "unfilledshares": str(self.quantity - self.filled), "orderid": self.orderid,
            "text": self.text, "status": self.status, "orderstatus": self.status,
            "updatetime": t, "exchtime": t, "exchorderupdatetime": t,
            "fillid": self.fills[-1][0] if self.fills else "",
            "filltime": self.fills[-1][3].strftime("%H:%M:%S") if self.fills else "",
            "parentorderid": "", "uniqueorderid": self.uniqueorderid,
            "exchangeorderid": f"1100000{self.orderid[-8:]}", "ordertag": self.tag,
        }  # fmt: skip


def _rupees(paise: int) -> str:
    return f"{paise / 100:.2f}"


def _paise(value: Any, name: str) -> int:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise Rejected("AB2000", f"{name} '{value}' is not a number") from None
    return int((amount * 100).to_integral_value())


class Exchange:
    """Orders and fills of one simulated account."""

    def __init__(self, contracts: list[OptionContract], fill: FillFunction) -> None:
        self.contracts = {c.token: c for c in contracts}
        self.fill = fill
        self.orders: dict[str, SimOrder] = {}
        self._seq = 0
        self._next_id = 1

    def place(self, p: dict[str, Any], tick_seq: int, day: str) -> SimOrder:
        tag = str(p.get("ordertag") or "")
        if len(tag) >= 20:
            raise Rejected("AB4008", "ordertag length should be less than 20 characters")
        if p.get("variety") not in VARIETIES:
            raise Rejected("AB1008", "Invalid Order Variety")
        if p.get("producttype") not in PRODUCTS:
            raise Rejected("AB1012", "Invalid Product Type")
        if p.get("ordertype") not in ORDER_TYPES or p.get("transactiontype") not in (
            "BUY",
            "SELL",
        ):
            raise Rejected("AB2000", "Invalid order type or transaction type")
        c = self.contracts.get(str(p.get("symboltoken")))
        if c is None or c.symbol != p.get("tradingsymbol") or p.get("exchange") != "NFO":
            raise Rejected("AB1009", "Symbol Not Found")
        qty = int(_paise(p.get("quantity"), "quantity") // 100)
        if qty <= 0 or qty % c.lot_size:
            raise Rejected("AB2000", f"quantity {qty} is not a multiple of the lot {c.lot_size}")
        price = _paise(p.get("price"), "price")
        trigger = _paise(p.get("triggerprice"), "triggerprice")
        for name, value in (("price", price), ("triggerprice", trigger)):
            if value % c.tick_paise:
                raise Rejected("AB2000", f"{name} is not a multiple of the tick size")
        orderid = f"{day}{self._next_id:07d}"
        self._next_id += 1
        order = SimOrder(orderid, str(uuid.uuid4()), tag, p["variety"], c.symbol, c.token,
                         "NFO", p["transactiontype"], p["ordertype"], p["producttype"],
                         str(p.get("duration") or "DAY"), price, trigger, qty, c.lot_size,
                         after_seq=tick_seq)  # fmt: skip
        if order.ordertype.startswith("STOPLOSS"):
            order.status = "trigger pending"
        self.orders[orderid] = order
        return order

    def _working(self, orderid: str) -> SimOrder:
        order = self.orders.get(str(orderid))
        if order is None:
            raise Rejected("AB1013", "Order not found")
        if order.status in ("complete", "rejected", "cancelled"):
            raise Rejected("AB2000", f"order {orderid} is {order.status}")
        return order

    def modify(self, p: dict[str, Any]) -> SimOrder:
        order = self._working(p.get("orderid", ""))
        qty = int(_paise(p.get("quantity"), "quantity") // 100)
        if qty <= 0 or qty % order.lot_size:
            raise Rejected("AB2000", f"quantity {qty} is not a multiple of the lot")
        order.quantity = qty
        order.price_paise = _paise(p.get("price"), "price")
        order.ordertype = str(p.get("ordertype") or order.ordertype)
        order.trigger_paise = _paise(p.get("triggerprice"), "triggerprice")
        order.updated = datetime.now(IST)
        return order

    def cancel(self, p: dict[str, Any]) -> SimOrder:
        order = self._working(p.get("orderid", ""))
        order.status = "cancelled"
        order.updated = datetime.now(IST)
        return order

    def on_price(self, token: str, price_paise: int, seq: int, now: datetime) -> None:
        for order in self.orders.values():
            if order.symboltoken != token or order.after_seq >= seq:
                continue
            if order.status not in ("open", "trigger pending"):
                continue
            decision = self.fill(order.working(), price_paise)
            if decision is None:
                continue
            if decision.trigger:
                order.triggered, order.status, order.after_seq = True, "open", seq
            elif decision.fill_paise is not None:
                order.fills.append((f"F{order.orderid}", order.quantity, decision.fill_paise, now))
                order.filled, order.avg_paise = order.quantity, decision.fill_paise
                order.status, order.updated = "complete", now

    def open_tokens(self) -> set[str]:
        return {
            o.symboltoken for o in self.orders.values() if o.status in ("open", "trigger pending")
        }

    def trades(self) -> list[dict[str, Any]]:
        out = []
        for o in self.orders.values():
            for fillid, size, price, when in o.fills:
                out.append({"exchange": o.exchange, "producttype": o.producttype,
                            "tradingsymbol": o.tradingsymbol, "instrumenttype": "OPTIDX",
                            "symbolgroup": "XX", "strikeprice": "-1",
                            "optiontype": o.tradingsymbol[-2:], "expirydate": "",
                            "marketlot": str(o.lot_size), "precision": "2", "multiplier": "-1",
                            "tradevalue": _rupees(price * size),
                            "transactiontype": o.transactiontype, "fillprice": _rupees(price),
                            "fillsize": str(size), "orderid": o.orderid, "fillid": fillid,
                            "filltime": when.strftime("%H:%M:%S")})  # fmt: skip
        return out

    def positions(self) -> list[dict[str, Any]]:
        book: dict[str, dict[str, Any]] = {}
        for o in self.orders.values():
            for _fid, size, price, _when in o.fills:
                pos = book.setdefault(
                    o.symboltoken, {"order": o, "bq": 0, "sq": 0, "ba": 0, "sa": 0}
                )
                key = ("bq", "ba") if o.transactiontype == "BUY" else ("sq", "sa")
                pos[key[0]] += size
                pos[key[1]] += size * price
        out = []
        for token, p in book.items():
            o = p["order"]
            net = p["bq"] - p["sq"]
            out.append({"exchange": o.exchange, "symboltoken": token,
                        "producttype": o.producttype, "tradingsymbol": o.tradingsymbol,
                        "symbolname": o.tradingsymbol, "instrumenttype": "OPTIDX",
                        "lotsize": str(o.lot_size), "buyqty": str(p["bq"]),
                        "sellqty": str(p["sq"]), "buyamount": _rupees(p["ba"]),
                        "sellamount": _rupees(p["sa"]),
                        "buyavgprice": _rupees(p["ba"] // p["bq"]) if p["bq"] else "0.00",
                        "sellavgprice": _rupees(p["sa"] // p["sq"]) if p["sq"] else "0.00",
                        "netqty": str(net), "netvalue": _rupees(p["sa"] - p["ba"])})  # fmt: skip
        return out
