"""Packets to the engine's ``Tick``: rupees, UTC nanoseconds, volume per tick.

The runtime's feed port takes ``engine.model.Tick``; this is the one place that turns a
decoded packet into one. Prices are divided by ``price_divisor`` (100, or 10**7 for
currency); the exchange timestamp (epoch ms) becomes ``ts_exchange`` in nanoseconds;
QUOTE and SNAP_QUOTE carry the day's running volume, which becomes the quantity traded
since the previous packet of the same token (0 on the first one, and after a reset);
SNAP_QUOTE gives the best bid and ask and the open interest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from adapters.smartapi.parsing.ticks import (
    LtpPacket,
    Packet,
    SnapQuotePacket,
    price_divisor,
)
from engine.model.market import Tick

__all__ = ["TickConverter"]


class TickConverter:
    """Stateful (it remembers each token's running volume); one per feed."""

    def __init__(
        self,
        symbols: Mapping[tuple[int, str], str],
        *,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.symbols = dict(symbols)
        self._volumes: dict[tuple[int, str], int] = {}
        self._now_ns = now_ns

    def __call__(self, packet: Packet) -> Tick | None:
        """The tick of a packet, or None for a token no symbol was given for."""
        key = (packet.exchange_type, packet.token)
        symbol = self.symbols.get(key)
        if symbol is None:
            return None
        div = price_divisor(packet.exchange_type)
        ts_exchange = packet.exchange_ts_ms * 1_000_000 if packet.exchange_ts_ms > 0 else None
        if isinstance(packet, LtpPacket):
            return Tick(symbol, packet.ltp_paise / div, self._now_ns(), ts_exchange)
        previous = self._volumes.get(key)
        self._volumes[key] = packet.volume
        volume = packet.volume - previous if previous is not None else 0
        bid = ask = None
        oi = None
        if isinstance(packet, SnapQuotePacket):
            best_bid, best_ask = packet.best_bid_paise, packet.best_ask_paise
            bid = best_bid / div if best_bid is not None else None
            ask = best_ask / div if best_ask is not None else None
            oi = packet.open_interest
        return Tick(symbol, packet.ltp_paise / div, self._now_ns(), ts_exchange, bid, ask,
                    max(volume, 0), oi)  # fmt: skip
