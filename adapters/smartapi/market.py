"""Market data over REST: LTP, quotes (LTP / OHLC / FULL) and historical candles (§6).

Prices arrive in rupees as numbers or strings and are kept as ``Decimal``. Quotes are
asked for in batches of at most 50 tokens. A candle range longer than the per-interval
limit is split into requests of at most that many days (the current docs' column of the
§6.3 table) and joined, each bar once, in time order; timestamps label the bar's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from adapters.smartapi.http import SmartApiHttp
from adapters.smartapi.parsing.values import to_decimal, to_int, to_ist_datetime
from engine.errors import BrokerError
from engine.timeutil import IST

__all__ = ["MAX_DAYS", "Candle", "Ltp", "Quote", "SmartApiMarket", "candle_windows"]

#: interval -> most days one getCandleData request may span (current docs, §6.3)
MAX_DAYS = {
    "ONE_MINUTE": 30,
    "THREE_MINUTE": 60,
    "FIVE_MINUTE": 100,
    "TEN_MINUTE": 100,
    "FIFTEEN_MINUTE": 200,
    "THIRTY_MINUTE": 200,
    "ONE_HOUR": 400,
    "ONE_DAY": 2000,
}
QUOTE_BATCH = 50
_DATE_FMT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Ltp:
    exchange: str
    tradingsymbol: str
    symboltoken: str
    ltp: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal  # previous close


@dataclass(frozen=True)
class Quote:
    exchange: str
    token: str
    tradingsymbol: str
    ltp: Decimal
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: int | None = None
    open_interest: int | None = None
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    exchange_time: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Quote:
        def opt(key: str) -> Decimal | None:
            return to_decimal(item[key]) if item.get(key) is not None else None

        depth = item.get("depth") or {}

        def best(side: str) -> Decimal | None:
            levels = [lv for lv in depth.get(side) or [] if to_int(lv.get("quantity")) > 0]
            return to_decimal(levels[0].get("price")) if levels else None

        return cls(
            exchange=str(item.get("exchange", "")),
            token=str(item.get("symbolToken", "")),
            tradingsymbol=str(item.get("tradingSymbol", "")),
            ltp=to_decimal(item.get("ltp")),
            open=opt("open"),
            high=opt("high"),
            low=opt("low"),
            close=opt("close"),
            volume=to_int(item["tradeVolume"]) if "tradeVolume" in item else None,
            open_interest=to_int(item["opnInterest"]) if "opnInterest" in item else None,
            best_bid=best("buy"),
            best_ask=best("sell"),
            exchange_time=to_ist_datetime(item.get("exchFeedTime")),
            raw=dict(item),
        )


@dataclass(frozen=True)
class Candle:
    start: datetime  # aware, the bar's start
    open: float
    high: float
    low: float
    close: float
    volume: int


def candle_windows(
    start: datetime, end: datetime, interval: str
) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut into request windows no longer than the interval's limit."""
    if interval not in MAX_DAYS:
        raise ValueError(f"interval '{interval}' is not one of {', '.join(MAX_DAYS)}")
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    span = timedelta(days=MAX_DAYS[interval])
    out = []
    lo = start
    while lo <= end:
        hi = min(end, lo + span - timedelta(minutes=1))
        out.append((lo, hi))
        lo = hi + timedelta(minutes=1)
    return out


class SmartApiMarket:
    def __init__(self, http: SmartApiHttp) -> None:
        self.http = http

    async def ltp(self, exchange: str, tradingsymbol: str, symboltoken: str) -> Ltp:
        data = await self.http.call(
            "ltp",
            {"exchange": exchange, "tradingsymbol": tradingsymbol, "symboltoken": symboltoken},
        )
        if not isinstance(data, dict):
            raise BrokerError("ltp: the reply carried no price", route="ltp")
        return Ltp(
            exchange=str(data.get("exchange", exchange)),
            tradingsymbol=str(data.get("tradingsymbol", tradingsymbol)),
            symboltoken=str(data.get("symboltoken", symboltoken)),
            ltp=to_decimal(data.get("ltp")),
            open=to_decimal(data.get("open")),
            high=to_decimal(data.get("high")),
            low=to_decimal(data.get("low")),
            close=to_decimal(data.get("close")),
        )

    async def quote(
        self, mode: Literal["LTP", "OHLC", "FULL"], tokens: dict[str, list[str]]
    ) -> tuple[list[Quote], list[dict[str, Any]]]:
        """(fetched quotes, unfetched items) for ``{exchange: [token, ...]}``, 50 a call."""
        pairs = [(ex, t) for ex, ts in tokens.items() for t in ts]
        fetched: list[Quote] = []
        unfetched: list[dict[str, Any]] = []
        for i in range(0, len(pairs), QUOTE_BATCH):
            batch: dict[str, list[str]] = {}
            for ex, t in pairs[i : i + QUOTE_BATCH]:
                batch.setdefault(ex, []).append(t)
            data = await self.http.call("quote", {"mode": mode, "exchangeTokens": batch})
            data = data if isinstance(data, dict) else {}
            fetched += [Quote.from_wire(q) for q in data.get("fetched") or [] if _is_dict(q)]
            unfetched += [u for u in data.get("unfetched") or [] if isinstance(u, dict)]
        return fetched, unfetched

    async def candles(
        self, exchange: str, symboltoken: str, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        """Bars from ``start`` to ``end`` (aware; sent as IST), split by the day limits."""
        by_start: dict[datetime, Candle] = {}
        for lo, hi in candle_windows(start.astimezone(IST), end.astimezone(IST), interval):
            data = await self.http.call(
                "candles",
                {
                    "exchange": exchange,
                    "symboltoken": symboltoken,
                    "interval": interval,
                    "fromdate": lo.strftime(_DATE_FMT),
                    "todate": hi.strftime(_DATE_FMT),
                },
            )
            for row in data or []:
                candle = _candle(row)
                if candle is not None:
                    by_start[candle.start] = candle
        return [by_start[k] for k in sorted(by_start)]


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _candle(row: Any) -> Candle | None:
    if not isinstance(row, list | tuple) or len(row) < 6:
        return None
    start = to_ist_datetime(row[0])
    if start is None:
        return None
    o, h, lo, c = (float(to_decimal(v)) for v in row[1:5])
    return Candle(start, o, h, lo, c, to_int(row[5]))
