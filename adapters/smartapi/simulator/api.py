"""The simulator's answers to each REST route, as the contract's JSON (called under lock).

Each function takes the request body and returns a whole envelope: success
(``status``/``message``/``errorcode``/``data``) or a business error with a documented
code. Bearer and API-key checks happened before (``http_server.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.smartapi.market import MAX_DAYS
from adapters.smartapi.simulator.exchange import Rejected
from adapters.smartapi.simulator.faults import Fault
from adapters.smartapi.simulator.http_server import business_error, ok
from adapters.smartapi.simulator.market import INDEX_TOKENS
from engine.timeutil import IST

if TYPE_CHECKING:
    from adapters.smartapi.simulator.server import Simulator

__all__ = ["answer"]

_MINUTES = {"ONE_MINUTE": 1, "THREE_MINUTE": 3, "FIVE_MINUTE": 5, "TEN_MINUTE": 10,
            "FIFTEEN_MINUTE": 15, "THIRTY_MINUTE": 30, "ONE_HOUR": 60}  # fmt: skip


def answer(sim: Simulator, route: str, body: dict[str, Any], suffix: str, jwt: str,
           fault: Fault | None) -> dict[str, Any]:  # fmt: skip
    handler = _HANDLERS[route]
    try:
        return handler(sim, body, suffix, jwt, fault)
    except Rejected as e:
        return business_error(e.code, e.message)


def _login(sim: Simulator, body: dict[str, Any], _s: str, _j: str, fault: Fault | None) -> Any:
    code = sim.sessions.check_login(
        str(body.get("clientcode", "")), str(body.get("password", "")), str(body.get("totp", ""))
    )
    if fault is Fault.WRONG_TOTP:
        code = "AB1050"
    if code == "AB1050":
        return business_error("AB1050", "Invalid totp")
    if code is not None:
        return business_error("AB1007", "Login Id or password is invalid")
    s = sim.sessions.login()
    data = {"jwtToken": s.jwt, "refreshToken": s.refresh, "feedToken": s.feed}
    if body.get("state"):
        data["state"] = body["state"]
    return ok(data)


def _tokens(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    s = sim.sessions.refresh(str(body.get("refreshToken", "")))
    if s is None:
        return business_error("AB8050", "Invalid Refresh Token")
    return ok({"jwtToken": s.jwt, "refreshToken": s.refresh, "feedToken": s.feed})


def _profile(sim: Simulator, *_: Any) -> Any:
    return ok({
        "clientcode": sim.credentials.client_code, "name": "SIMULATED ACCOUNT",
        "email": "", "mobileno": "", "exchanges": ["nse_cm", "nse_fo"],
        "products": ["MIS", "NRML", "CNC"],
        "lastlogintime": datetime.now(IST).strftime("%Y-%m-%d %H:%M:%S"), "brokerid": "B2C",
    })  # fmt: skip


def _logout(sim: Simulator, _b: dict[str, Any], _s: str, jwt: str, _f: Any) -> Any:
    sim.sessions.logout(jwt)
    return ok("")


def _place(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    day = datetime.fromtimestamp(sim.now_ms / 1000, IST).strftime("%y%m%d")
    order = sim.exchange.place(body, sim.seq, day)
    return ok({"script": order.tradingsymbol, "orderid": order.orderid,
               "uniqueorderid": order.uniqueorderid})  # fmt: skip


def _modify(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    order = sim.exchange.modify(body)
    return ok({"orderid": order.orderid, "uniqueorderid": order.uniqueorderid})


def _cancel(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    order = sim.exchange.cancel(body)
    return ok({"orderid": order.orderid, "uniqueorderid": order.uniqueorderid})


def _book(sim: Simulator, *_: Any) -> Any:
    rows = [o.row() for o in sim.exchange.orders.values()]
    return ok(rows or None)  # null, not [], when there are no orders (§4.3)


def _details(sim: Simulator, _b: dict[str, Any], suffix: str, *_: Any) -> Any:
    for o in sim.exchange.orders.values():
        if suffix in (o.uniqueorderid, o.orderid):
            return ok(o.row())
    return business_error("AB1013", "Order not found")


def _trades(sim: Simulator, *_: Any) -> Any:
    return ok(sim.exchange.trades() or None)


def _positions(sim: Simulator, *_: Any) -> Any:
    return ok(sim.exchange.positions() or None)


def _funds(sim: Simulator, *_: Any) -> Any:
    keys = ("net", "availablecash", "availableintradaypayin", "availablelimitmargin",
            "collateral", "m2munrealized", "m2mrealized", "utiliseddebits", "utilisedspan",
            "utilisedoptionpremium", "utilisedholdingsales", "utilisedexposure",
            "utilisedturnover", "utilisedpayout")  # fmt: skip
    data = dict.fromkeys(keys, "0.0000")
    data["net"] = data["availablecash"] = "500000.0000"
    return ok(data)


def _symbol(sim: Simulator, exchange: str, token: str) -> str | None:
    for row in sim.master_rows:
        if row["token"] == token and row["exch_seg"] == exchange:
            return row["symbol"]
    return None


def _rupees(paise: int) -> float:
    return round(paise / 100, 2)


def _ltp(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    token, exchange = str(body.get("symboltoken", "")), str(body.get("exchange", ""))
    price = sim.price(token)
    if price is None or _symbol(sim, exchange, token) is None:
        return business_error("AB1009", "Symbol Not Found")
    q = sim.quotes.get(token)
    o, h, lo, c = (q.open, q.high, q.low, q.prev_close) if q else (price,) * 4
    return ok({"exchange": exchange, "tradingsymbol": body.get("tradingsymbol", ""),
               "symboltoken": token, "open": _rupees(o), "high": _rupees(h),
               "low": _rupees(lo), "close": _rupees(c), "ltp": _rupees(price)})  # fmt: skip


def _quote(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    mode = body.get("mode")
    tokens = body.get("exchangeTokens")
    if mode not in ("LTP", "OHLC", "FULL") or not isinstance(tokens, dict):
        return business_error("AB2000", "Invalid mode or exchangeTokens")
    fetched, unfetched = [], []
    for exchange, items in tokens.items():
        for token in items or []:
            symbol = _symbol(sim, exchange, str(token))
            price = sim.price(str(token))
            if not str(token) or symbol is None or price is None:
                unfetched.append({"exchange": exchange, "symbolToken": str(token),
                                  "message": "Symbol token cannot be empty",
                                  "errorCode": "AB4018"})  # fmt: skip
                continue
            fetched.append(_quote_item(sim, mode, exchange, str(token), symbol, price))
    return ok({"fetched": fetched, "unfetched": unfetched})


def _quote_item(sim: Simulator, mode: str, exchange: str, token: str, symbol: str,
                price: int) -> dict[str, Any]:  # fmt: skip
    item: dict[str, Any] = {"exchange": exchange, "tradingSymbol": symbol,
                            "symbolToken": token, "ltp": _rupees(price)}  # fmt: skip
    if mode == "LTP":
        return item
    q = sim.quotes.get(token)
    o, h, lo, c = (q.open, q.high, q.low, q.prev_close) if q else (price,) * 4
    item.update(open=_rupees(o), high=_rupees(h), low=_rupees(lo), close=_rupees(c))
    if mode == "FULL":
        tick = sim.contracts[token].tick_paise if token in sim.contracts else 0
        when = datetime.fromtimestamp(sim.now_ms / 1000, IST).strftime("%d-%b-%Y %H:%M:%S")
        side = [{"price": _rupees(price - tick * (i + 1)), "quantity": 500 if tick else 0,
                 "orders": 5 if tick else 0} for i in range(5)]  # fmt: skip
        asks = [{"price": _rupees(price + tick * (i + 1)), "quantity": 500 if tick else 0,
                 "orders": 5 if tick else 0} for i in range(5)]  # fmt: skip
        item.update({
            "lastTradeQty": 0, "exchFeedTime": when, "exchTradeTime": when,
            "netChange": _rupees(price - c), "percentChange": round((price - c) * 100 / c, 2)
            if c else 0.0, "avgPrice": _rupees(price), "tradeVolume": 0, "opnInterest": 0,
            "lowerCircuit": _rupees(tick), "upperCircuit": _rupees(price * 2),
            "totBuyQuan": 0, "totSellQuan": 0, "52WeekLow": _rupees(lo), "52WeekHigh": _rupees(h),
            "depth": {"buy": side, "sell": asks},
        })  # fmt: skip
    return item


def _candles(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    interval = str(body.get("interval", ""))
    try:
        lo = datetime.strptime(str(body.get("fromdate")), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
        hi = datetime.strptime(str(body.get("todate")), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
    except ValueError:
        return business_error("AB2000", "fromdate/todate must be 'YYYY-MM-DD HH:MM'")
    if interval not in MAX_DAYS or hi < lo:
        return business_error("AB2000", "Invalid interval or date range")
    if hi - lo > timedelta(days=MAX_DAYS[interval]):
        # the contract documents no code for an over-long range (§12.9)
        return business_error("AB2000", f"{interval} allows at most {MAX_DAYS[interval]} days")
    if str(body.get("symboltoken")) not in INDEX_TOKENS[sim.underlying][:2]:
        return ok([])
    rows: dict[datetime, list[Any]] = {}
    for bar in sim.bars:
        start = bar.start_ist
        if not lo <= start <= hi:
            continue
        rows.setdefault(_bucket(start, interval), []).append(bar)
    out = []
    for start in sorted(rows):
        bars = rows[start]
        out.append([start.isoformat(), bars[0].open, max(b.high for b in bars),
                    min(b.low for b in bars), bars[-1].close, 0])  # fmt: skip
    return ok(out)


def _bucket(start: datetime, interval: str) -> datetime:
    if interval == "ONE_DAY":
        return start.replace(hour=0, minute=0)
    size = _MINUTES[interval]
    minutes = (start.hour * 60 + start.minute) - (9 * 60 + 15)
    floor = 9 * 60 + 15 + (minutes // size) * size
    return start.replace(hour=floor // 60, minute=floor % 60)


def _search(sim: Simulator, body: dict[str, Any], *_: Any) -> Any:
    text = str(body.get("searchscrip", "")).upper()
    exchange = str(body.get("exchange", ""))
    found = [
        {"exchange": r["exch_seg"], "tradingsymbol": r["symbol"], "symboltoken": r["token"]}
        for r in sim.master_rows
        if r["exch_seg"] == exchange and text in r["symbol"].upper()
    ]
    return ok(found)  # fmt: skip


_HANDLERS = {
    "login": _login, "generate_tokens": _tokens, "profile": _profile, "logout": _logout,
    "place_order": _place, "modify_order": _modify, "cancel_order": _cancel,
    "order_book": _book, "trade_book": _trades, "order_details": _details,
    "positions": _positions, "funds": _funds, "ltp": _ltp, "quote": _quote,
    "candles": _candles, "search_scrip": _search,
}  # fmt: skip
