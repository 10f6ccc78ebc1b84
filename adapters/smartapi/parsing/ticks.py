"""SmartAPI WebSocket 2.0 binary tick packets: decode and encode, exactly per the byte layout.

One packet per binary frame, little-endian, prices as integer paise (``cde_fo`` currency
prices as 1/10,000,000 rupee; see ``price_divisor``). Layout, from the wire contract §7.4:

- LTP (mode 1), 51 bytes: mode u8, exchange type u8, token 25 bytes NUL-padded,
  sequence i64, exchange timestamp i64 (epoch ms), last traded price i64.
- QUOTE (mode 2), 123 bytes: LTP, then last traded qty, average price, volume (i64),
  total buy qty, total sell qty (f64), open, high, low, close (i64).
- SNAP_QUOTE (mode 3), 379 bytes: QUOTE, then last traded time i64 (epoch seconds),
  open interest i64, OI change % f64 (a dummy value, kept as sent), ten 20-byte best-five
  levels ``<hqqh`` (flag 1 = buy, 0 = sell; quantity, price, orders), upper circuit,
  lower circuit, 52-week high, 52-week low (i64).

The contract's LTP type column says int32 but gives it 8 bytes; like the Python and Java
SDKs this reads and writes int64. DEPTH (mode 4) is not subscribed by this adapter and is
rejected like any other unknown mode.

Packets are ``NamedTuple``s built with ``tuple.__new__``: immutable, typed, and cheap
enough to decode half a million LTP packets a second on one core (``benchmarks/``).
Anything that is not a well-formed packet raises ``PacketError`` and nothing else.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = [
    "EXCHANGE_TYPES",
    "LTP_SIZE",
    "MODE_LTP",
    "MODE_QUOTE",
    "MODE_SNAP_QUOTE",
    "QUOTE_SIZE",
    "SNAP_QUOTE_SIZE",
    "DepthLevel",
    "LtpPacket",
    "Packet",
    "PacketError",
    "QuotePacket",
    "SnapQuotePacket",
    "decode",
    "encode",
    "price_divisor",
    "snap_quote_depth",
]

MODE_LTP, MODE_QUOTE, MODE_SNAP_QUOTE = 1, 2, 3
LTP_SIZE, QUOTE_SIZE, SNAP_QUOTE_SIZE = 51, 123, 379
#: exchangeType codes of the contract's table §7.2 (1 nse_cm ... 13 cde_fo).
EXCHANGE_TYPES = frozenset({1, 2, 3, 4, 5, 7, 13})
_CURRENCY = 13
TOKEN_BYTES = 25

_HEAD = "<BB25sqqq"
_QUOTE_TAIL = "qqqddqqqq"
_SNAP_TAIL = "qqd" + "hqqh" * 10 + "qqqq"
_LTP = struct.Struct(_HEAD)
_QUOTE = struct.Struct(_HEAD + _QUOTE_TAIL)
_SNAP = struct.Struct(_HEAD + _QUOTE_TAIL + _SNAP_TAIL)
assert (_LTP.size, _QUOTE.size, _SNAP.size) == (LTP_SIZE, QUOTE_SIZE, SNAP_QUOTE_SIZE)

_SIZE_OF_MODE = {MODE_LTP: LTP_SIZE, MODE_QUOTE: QUOTE_SIZE, MODE_SNAP_QUOTE: SNAP_QUOTE_SIZE}
_MODE_NAME = {MODE_LTP: "LTP", MODE_QUOTE: "QUOTE", MODE_SNAP_QUOTE: "SNAP_QUOTE"}


class PacketError(ValueError):
    """A binary frame that is not a well-formed tick packet (size, mode, exchange or token)."""

    def __init__(self, reason: str, size: int) -> None:
        self.reason = reason
        self.size = size
        super().__init__(f"malformed tick packet ({size} bytes): {reason}")


class LtpPacket(NamedTuple):
    mode: int
    exchange_type: int
    token: str
    sequence: int
    exchange_ts_ms: int
    ltp_paise: int


class QuotePacket(NamedTuple):
    mode: int
    exchange_type: int
    token: str
    sequence: int
    exchange_ts_ms: int
    ltp_paise: int
    last_traded_qty: int
    avg_price_paise: int
    volume: int  # traded today so far, a running total
    total_buy_qty: float
    total_sell_qty: float
    open_paise: int
    high_paise: int
    low_paise: int
    close_paise: int  # previous session's close


class DepthLevel(NamedTuple):
    """One best-five level: ``flag`` 1 = buy (bid), 0 = sell (ask); zeros pad missing levels."""

    flag: int
    quantity: int
    price_paise: int
    orders: int


class SnapQuotePacket(NamedTuple):
    mode: int
    exchange_type: int
    token: str
    sequence: int
    exchange_ts_ms: int
    ltp_paise: int
    last_traded_qty: int
    avg_price_paise: int
    volume: int
    total_buy_qty: float
    total_sell_qty: float
    open_paise: int
    high_paise: int
    low_paise: int
    close_paise: int
    last_traded_ts_s: int
    open_interest: int
    oi_change_pct: float  # a dummy value on the wire; kept as sent, never used
    depth_raw: tuple[int, ...]  # 40 ints: (flag, quantity, price, orders) x 10, as sent
    upper_circuit_paise: int
    lower_circuit_paise: int
    high_52w_paise: int
    low_52w_paise: int

    @property
    def depth(self) -> tuple[DepthLevel, ...]:
        """The ten best-five levels, built on access (decoding keeps the flat integers)."""
        r = self.depth_raw
        return tuple(_new(DepthLevel, r[i : i + 4]) for i in range(0, 40, 4))

    @property
    def bids(self) -> tuple[DepthLevel, ...]:
        """Buy levels (flag 1) with a quantity, best first; zero-padding is dropped."""
        return tuple(level for level in self.depth if level.flag == 1 and level.quantity)

    @property
    def asks(self) -> tuple[DepthLevel, ...]:
        """Sell levels (flag 0) with a quantity, best first; zero-padding is dropped."""
        return tuple(level for level in self.depth if level.flag == 0 and level.quantity)

    @property
    def best_bid_paise(self) -> int | None:
        """Price of the first buy level with a quantity, or None."""
        r = self.depth_raw
        for i in range(0, 40, 4):
            if r[i] == 1 and r[i + 1]:
                return r[i + 2]
        return None

    @property
    def best_ask_paise(self) -> int | None:
        """Price of the first sell level with a quantity, or None."""
        r = self.depth_raw
        for i in range(0, 40, 4):
            if r[i] == 0 and r[i + 1]:
                return r[i + 2]
        return None


def snap_quote_depth(levels: tuple[DepthLevel, ...] | list[DepthLevel]) -> tuple[int, ...]:
    """The flat ``depth_raw`` of ten levels (5 buys then 5 sells), for building packets."""
    if len(levels) != 10:
        raise ValueError(f"a SNAP_QUOTE carries 10 depth levels; {len(levels)} were given")
    return tuple(x for level in levels for x in level)


Packet = LtpPacket | QuotePacket | SnapQuotePacket

_new = tuple.__new__
_tokens: dict[bytes, str] = {}
_TOKEN_CACHE_MAX = 8192


def price_divisor(exchange_type: int) -> int:
    """What a wire price is divided by to give rupees: 100, or 10**7 for cde_fo (13)."""
    return 10_000_000 if exchange_type == _CURRENCY else 100


def _token(raw: bytes, size: int) -> str:
    token = _tokens.get(raw)
    if token is not None:
        return token
    text = raw.partition(b"\0")[0]
    if not text or not text.isascii() or not text.isalnum():
        shown = text[:25].decode("ascii", "backslashreplace")
        raise PacketError(f"token field '{shown}' is not a non-empty alphanumeric token", size)
    token = text.decode("ascii")
    if len(_tokens) >= _TOKEN_CACHE_MAX:
        _tokens.clear()
    _tokens[raw] = token
    return token


def _fail_size(data: bytes | bytearray | memoryview, size: int) -> PacketError:
    if size == 0:
        return PacketError("empty frame", 0)
    mode = data[0]
    expected = _SIZE_OF_MODE.get(mode)
    if expected is None:
        return PacketError(f"unknown subscription mode {mode}", size)
    kind = "truncated" if size < expected else "too long"
    return PacketError(
        f"{kind}: mode {mode} ({_MODE_NAME[mode]}) needs {expected} bytes, {size} were received",
        size,
    )


def decode(data: bytes | bytearray | memoryview) -> Packet:
    """One binary frame to its packet; ``PacketError`` for anything malformed."""
    size = len(data)
    if size == LTP_SIZE and data[0] == MODE_LTP:
        f = _LTP.unpack(data)
        if f[1] not in EXCHANGE_TYPES:
            raise PacketError(f"unknown exchange type {f[1]}", size)
        return _new(LtpPacket, (1, f[1], _token(f[2], size), f[3], f[4], f[5]))
    if size == SNAP_QUOTE_SIZE and data[0] == MODE_SNAP_QUOTE:
        f = _SNAP.unpack(data)
        if f[1] not in EXCHANGE_TYPES:
            raise PacketError(f"unknown exchange type {f[1]}", size)
        return _new(
            SnapQuotePacket,
            (3, f[1], _token(f[2], size), *f[3:18], f[18:58], f[58], f[59], f[60], f[61]),
        )
    if size == QUOTE_SIZE and data[0] == MODE_QUOTE:
        f = _QUOTE.unpack(data)
        if f[1] not in EXCHANGE_TYPES:
            raise PacketError(f"unknown exchange type {f[1]}", size)
        return _new(QuotePacket, (2, f[1], _token(f[2], size), *f[3:]))
    raise _fail_size(data, size)


def _token_bytes(token: str) -> bytes:
    raw = token.encode("ascii")
    if not raw or len(raw) >= TOKEN_BYTES or not raw.isalnum():
        raise ValueError(f"token '{token}' must be 1 to 24 ASCII letters or digits")
    return raw


def encode(packet: Packet) -> bytes:
    """The binary frame of a packet (the simulator's side of ``decode``)."""
    token = _token_bytes(packet.token)
    if isinstance(packet, SnapQuotePacket):
        if len(packet.depth_raw) != 40:
            raise ValueError(f"depth_raw carries 40 integers; {len(packet.depth_raw)} were given")
        return _SNAP.pack(
            MODE_SNAP_QUOTE,
            packet.exchange_type,
            token,
            *packet[3:18],
            *packet.depth_raw,
            *packet[19:],
        )
    if isinstance(packet, QuotePacket):
        return _QUOTE.pack(MODE_QUOTE, packet.exchange_type, token, *packet[3:])
    return _LTP.pack(MODE_LTP, packet.exchange_type, token, *packet[3:])
