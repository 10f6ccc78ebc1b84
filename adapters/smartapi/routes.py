"""The REST routes of the wire contract (§3-§6), with their rate-limit buckets.

``kind`` says how a failure is handled: ``auth`` and ``data`` calls are idempotent and
retried on temporary errors; ``order`` calls change state at the broker, are never resent
blindly, and count against the combined order limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROUTES", "Route"]


@dataclass(frozen=True)
class Route:
    name: str
    method: Literal["GET", "POST"]
    path: str
    kind: Literal["auth", "data", "order"]
    #: requests per second the contract's table (§11) allows for this route
    per_second: float
    bearer: bool = True


_A = "/rest/auth/angelbroking"
_S = "/rest/secure/angelbroking"

ROUTES: dict[str, Route] = {
    r.name: r
    for r in (
        Route("login", "POST", f"{_A}/user/v1/loginByPassword", "auth", 1, bearer=False),
        Route("generate_tokens", "POST", f"{_A}/jwt/v1/generateTokens", "auth", 1),
        Route("profile", "GET", f"{_S}/user/v1/getProfile", "auth", 3),
        Route("logout", "POST", f"{_S}/user/v1/logout", "auth", 1),
        Route("place_order", "POST", f"{_S}/order/v1/placeOrder", "order", 9),
        Route("modify_order", "POST", f"{_S}/order/v1/modifyOrder", "order", 9),
        Route("cancel_order", "POST", f"{_S}/order/v1/cancelOrder", "order", 9),
        Route("order_book", "GET", f"{_S}/order/v1/getOrderBook", "data", 1),
        Route("trade_book", "GET", f"{_S}/order/v1/getTradeBook", "data", 1),
        Route("order_details", "GET", f"{_S}/order/v1/details", "data", 10),
        Route("positions", "GET", f"{_S}/order/v1/getPosition", "data", 1),
        Route("funds", "GET", f"{_S}/user/v1/getRMS", "data", 2),
        Route("ltp", "POST", f"{_S}/order/v1/getLtpData", "data", 10),
        # The quote page says 1/s, the rate table 10/s (contract §11 ⚠): budget for 1/s.
        Route("quote", "POST", f"{_S}/market/v1/quote", "data", 1),
        Route("candles", "POST", f"{_S}/historical/v1/getCandleData", "data", 3),
        Route("search_scrip", "POST", f"{_S}/order/v1/searchScrip", "data", 1),
    )
}
