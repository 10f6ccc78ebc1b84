"""Tick packets: encode then decode gives the packet back, decode then encode gives the
bytes back, and no byte string makes the decoder raise anything but ``PacketError``."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.smartapi.parsing.ticks import (
    EXCHANGE_TYPES,
    LTP_SIZE,
    QUOTE_SIZE,
    SNAP_QUOTE_SIZE,
    LtpPacket,
    PacketError,
    QuotePacket,
    SnapQuotePacket,
    decode,
    encode,
)

I64 = st.integers(-(2**63), 2**63 - 1)
I16 = st.integers(-(2**15), 2**15 - 1)
F64 = st.floats(allow_nan=False)
TOKENS = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                 min_size=1, max_size=24)  # fmt: skip
EXCHANGES = st.sampled_from(sorted(EXCHANGE_TYPES))


def _head(mode: int) -> st.SearchStrategy[tuple]:
    return st.tuples(st.just(mode), EXCHANGES, TOKENS, I64, I64, I64)


LTP = _head(1).map(lambda t: LtpPacket(*t))
QUOTE = st.tuples(_head(2), st.tuples(I64, I64, I64, F64, F64, I64, I64, I64, I64)).map(
    lambda t: QuotePacket(*t[0], *t[1])
)
DEPTH = st.tuples(*[st.tuples(I16, I64, I64, I16) for _ in range(10)]).map(
    lambda levels: tuple(x for level in levels for x in level)
)
SNAP = st.tuples(
    _head(3),
    st.tuples(I64, I64, I64, F64, F64, I64, I64, I64, I64, I64, I64, F64),
    DEPTH,
    st.tuples(I64, I64, I64, I64),
).map(lambda t: SnapQuotePacket(*t[0], *t[1], t[2], *t[3]))


@settings(max_examples=300, deadline=None)
@given(packet=st.one_of(LTP, QUOTE, SNAP))
def test_decode_when_encoded_packet_then_same_packet(packet) -> None:  # type: ignore[no-untyped-def]
    assert decode(encode(packet)) == packet


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from([1, 2, 3]),
    exchange=EXCHANGES,
    token=TOKENS,
    body=st.binary(min_size=SNAP_QUOTE_SIZE, max_size=SNAP_QUOTE_SIZE),
)
def test_encode_when_decoded_valid_frame_then_same_bytes(
    mode: int, exchange: int, token: str, body: bytes
) -> None:
    size = {1: LTP_SIZE, 2: QUOTE_SIZE, 3: SNAP_QUOTE_SIZE}[mode]
    frame = struct.pack("<BB25s", mode, exchange, token.encode()) + body[27:size]
    assert encode(decode(frame)) == frame  # NaN floats included: compared as bytes


@settings(max_examples=500, deadline=None)
@given(
    frame=st.one_of(
        st.binary(max_size=400),
        st.sampled_from([LTP_SIZE, QUOTE_SIZE, SNAP_QUOTE_SIZE])
        .flatmap(lambda n: st.tuples(st.integers(0, 5), st.binary(min_size=n - 1, max_size=n - 1)))
        .map(lambda t: bytes([t[0]]) + t[1]),
    )
)
def test_decode_when_random_bytes_then_packet_or_packet_error(frame: bytes) -> None:
    try:
        packet = decode(frame)
    except PacketError as e:
        assert e.size == len(frame)
    else:
        assert packet.token and packet.exchange_type in EXCHANGE_TYPES
