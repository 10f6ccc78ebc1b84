"""Binary tick packets: the contract's worked example, every size and mode failure named."""

from __future__ import annotations

import pytest

from adapters.smartapi.parsing.ticks import (
    LTP_SIZE,
    QUOTE_SIZE,
    SNAP_QUOTE_SIZE,
    DepthLevel,
    LtpPacket,
    PacketError,
    QuotePacket,
    SnapQuotePacket,
    decode,
    encode,
    price_divisor,
    snap_quote_depth,
)

# The contract's worked example (§7.4): mode 1, nse_fo, token 43210, ts 2024-11-27 09:30 IST.
EXAMPLE = bytes.fromhex(
    "01 02 34 33 32 31 30 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    " 00 00 00 00 00 00 00 00 00 a2 c6 6b 93 01 00 00 39 30 00 00 00 00 00 00"
)

BIDS = [DepthLevel(1, 75 * (i + 1), 12340 - 5 * i, i + 1) for i in range(5)]
ASKS = [DepthLevel(0, 50 * (i + 1), 12350 + 5 * i, i + 2) for i in range(5)]


def snap(**overrides: object) -> SnapQuotePacket:
    values: dict[str, object] = dict(
        mode=3, exchange_type=2, token="43210", sequence=7, exchange_ts_ms=1732680000000,
        ltp_paise=12345, last_traded_qty=75, avg_price_paise=12300, volume=1_234_500,
        total_buy_qty=98765.0, total_sell_qty=87654.0, open_paise=12000, high_paise=12500,
        low_paise=11900, close_paise=12100, last_traded_ts_s=1732679999, open_interest=456_000,
        oi_change_pct=0.0, depth_raw=snap_quote_depth(BIDS + ASKS), upper_circuit_paise=30000,
        lower_circuit_paise=5, high_52w_paise=99900, low_52w_paise=100,
    )  # fmt: skip
    values.update(overrides)
    return SnapQuotePacket(**values)  # type: ignore[arg-type]


def test_decode_when_contract_example_then_fields_and_paise_match() -> None:
    packet = decode(EXAMPLE)
    assert packet == LtpPacket(1, 2, "43210", 0, 1732680000000, 12345)
    assert packet.ltp_paise / price_divisor(packet.exchange_type) == 123.45
    assert encode(packet) == EXAMPLE


def test_decode_when_snap_quote_then_depth_bids_then_asks_and_best_prices() -> None:
    packet = snap()
    frame = encode(packet)
    assert len(frame) == SNAP_QUOTE_SIZE
    decoded = decode(frame)
    assert decoded == packet
    assert decoded.bids == tuple(BIDS) and decoded.asks == tuple(ASKS)
    assert (decoded.best_bid_paise, decoded.best_ask_paise) == (12340, 12350)


def test_decode_when_quote_then_running_volume_and_ohlc() -> None:
    packet = QuotePacket(2, 1, "99926000", 0, 1, 2_400_000, 0, 0, 0, 0.0, 0.0, 1, 2, 3, 4)
    frame = encode(packet)
    assert len(frame) == QUOTE_SIZE and decode(frame) == packet


def test_snap_quote_when_depth_zero_padded_then_no_best_prices() -> None:
    empty = snap(depth_raw=(0,) * 40)
    decoded = decode(encode(empty))
    assert decoded.bids == () and decoded.asks == ()
    assert decoded.best_bid_paise is None and decoded.best_ask_paise is None


def test_price_divisor_when_currency_segment_then_ten_million() -> None:
    assert price_divisor(13) == 10_000_000 and price_divisor(1) == 100


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "empty frame"),
        (EXAMPLE[:50], "truncated: mode 1 (LTP) needs 51 bytes, 50 were received"),
        (EXAMPLE + b"\0", "too long: mode 1 (LTP) needs 51 bytes, 52 were received"),
        (b"\x02" + EXAMPLE[1:], "truncated: mode 2 (QUOTE) needs 123 bytes, 51 were received"),
        (b"\x04" + EXAMPLE[1:], "unknown subscription mode 4"),
        (EXAMPLE[:1] + b"\x09" + EXAMPLE[2:], "unknown exchange type 9"),
        (EXAMPLE[:2] + b"\0" * 25 + EXAMPLE[27:], "is not a non-empty alphanumeric token"),
        (EXAMPLE[:2] + b"4\xff" + EXAMPLE[4:], "is not a non-empty alphanumeric token"),
    ],
)
def test_decode_when_frame_malformed_then_packet_error_names_reason(
    frame: bytes, reason: str
) -> None:
    with pytest.raises(PacketError) as info:
        decode(frame)
    assert reason in str(info.value)
    assert info.value.size == len(frame)


def test_decode_when_token_fills_all_25_bytes_then_read_without_terminator() -> None:
    frame = EXAMPLE[:2] + b"1" * 25 + EXAMPLE[27:]
    assert decode(frame).token == "1" * 25


def test_encode_when_token_too_long_or_not_alphanumeric_then_value_error() -> None:
    with pytest.raises(ValueError, match="1 to 24 ASCII"):
        encode(LtpPacket(1, 2, "1" * 25, 0, 0, 0))
    with pytest.raises(ValueError, match="1 to 24 ASCII"):
        encode(LtpPacket(1, 2, "NIFTY 50", 0, 0, 0))


def test_sizes_when_compared_with_contract_then_equal() -> None:
    assert (LTP_SIZE, QUOTE_SIZE, SNAP_QUOTE_SIZE) == (51, 123, 379)
