"""Small pure parts: rate windows, backoff, expiry, static IP, candle windows, values,
order requests, the fill function, the instrument master and the tick converter."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import anyio
import pytest
from loguru import logger

from adapters.smartapi.auth import IpCheck, Profile, check_static_ip, token_expiry
from adapters.smartapi.convert import TickConverter
from adapters.smartapi.http import backoff_delay
from adapters.smartapi.instruments import InstrumentMaster
from adapters.smartapi.market import MAX_DAYS, candle_windows
from adapters.smartapi.orders import OrderRequest, OrderRow
from adapters.smartapi.parsing.ticks import LtpPacket, QuotePacket
from adapters.smartapi.parsing.values import to_date, to_decimal, to_int, to_ist_datetime
from adapters.smartapi.ratelimit import ClientLimiter, SlidingWindow
from adapters.smartapi.simulator.fills import WorkingOrder, fill_at_next_tick_with_limit_crossing
from engine.data.calendar import Calendar
from engine.timeutil import IST


def test_sliding_window_when_full_then_next_grant_one_period_after_oldest() -> None:
    w = SlidingWindow(3, 1.0)
    for t in (0.0, 0.1, 0.2):
        assert w.earliest(t) == t
        w.record(t)
    assert w.earliest(0.3) == pytest.approx(1.0)


def test_client_limiter_when_twenty_orders_then_never_more_than_nine_per_second() -> None:
    clock = [0.0]
    limiter = ClientLimiter(9, monotonic=lambda: clock[0])
    grants = [limiter._reserve(limiter._orders, "order") for _ in range(20)]
    times = sorted(grants)
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 9
    assert times[8] == 0.0 and times[9] == pytest.approx(1.25) and times[18] == pytest.approx(2.5)


def test_client_limiter_when_order_waiting_then_data_call_waits_behind_it() -> None:
    order_first: list[str] = []

    async def main() -> None:
        limiter = ClientLimiter(1)
        await limiter.order()  # uses the only slot of this second

        async def order() -> None:
            await limiter.order()
            order_first.append("order")

        async def data() -> None:
            await anyio.sleep(0.05)
            await limiter.data("ltp", 10)
            order_first.append("data")

        async with anyio.create_task_group() as tg:
            tg.start_soon(order)
            tg.start_soon(data)

    anyio.run(main)
    assert order_first == ["order", "data"]


def test_backoff_when_attempts_grow_then_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(a, 0.5, 4.0, rng) for a in range(10)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) == 10


def _jwt(exp: float) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzUxMiJ9.{payload}.sig"


def test_token_expiry_when_no_exp_claim_then_midnight_ist() -> None:
    issued = datetime(2024, 3, 1, 8, 45, tzinfo=IST)
    assert token_expiry("opaque", issued) == datetime(2024, 3, 2, 0, 0, tzinfo=IST)


def test_token_expiry_when_exp_claim_earlier_then_claim() -> None:
    issued = datetime(2024, 3, 1, 8, 45, tzinfo=IST)
    exp = issued + timedelta(hours=2)
    assert token_expiry(_jwt(exp.timestamp()), issued) == exp


@pytest.mark.parametrize(
    ("registered", "outward", "outcome"),
    [
        ("203.0.113.7", "203.0.113.7", IpCheck.MATCH),
        ("203.0.113.7", "198.51.100.2", IpCheck.MISMATCH),
        ("203.0.113.7", None, IpCheck.NOT_CONFIGURED),
        (None, "203.0.113.7", IpCheck.NOT_REGISTERED),
    ],
)
def test_static_ip_check_when_compared_then_typed_outcome(
    registered: str | None, outward: str | None, outcome: IpCheck
) -> None:
    result = check_static_ip(registered, outward)
    assert result.outcome is outcome and result.ok == (outcome is IpCheck.MATCH)
    assert result.describe()


def test_profile_when_lists_written_as_strings_then_lists() -> None:
    p = Profile.from_data({"clientcode": "A1", "exchanges": '["nse_cm","nse_fo"]',
                           "products": ["MIS", "NRML"]})  # fmt: skip
    assert p.exchanges == ("nse_cm", "nse_fo") and p.products == ("MIS", "NRML")


def test_candle_windows_when_range_longer_than_limit_then_split_without_overlap() -> None:
    start = datetime(2024, 1, 1, 9, 15, tzinfo=IST)
    end = start + timedelta(days=65)
    windows = candle_windows(start, end, "ONE_MINUTE")
    assert len(windows) == 3 and windows[0][0] == start and windows[-1][1] == end
    for (a, b), (c, _) in zip(windows, windows[1:], strict=False):
        assert b - a < timedelta(days=MAX_DAYS["ONE_MINUTE"]) and c == b + timedelta(minutes=1)


def test_values_when_docs_spellings_then_read() -> None:
    assert to_decimal("- 2235.80") == Decimal("-2235.80")
    assert to_decimal(194) == Decimal(194) and to_decimal("x") == 0 and to_int("-1") == -1
    assert to_ist_datetime("20-Oct-2020 13:10:59") == datetime(2020, 10, 20, 13, 10, 59,
                                                               tzinfo=IST)  # fmt: skip
    assert to_date("28NOV2024") == date(2024, 11, 28) and to_ist_datetime("") is None


def test_order_request_when_tag_too_long_then_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="1 to 19"):
        OrderRequest("x" * 20, "S", "1", "NFO", "BUY", 25, "LIMIT", price=Decimal("1"))
    wire = OrderRequest("t", "S", "1", "NFO", "BUY", 25, "LIMIT", price=Decimal("102.3")).to_wire()
    assert wire["price"] == "102.30" and wire["quantity"] == "25" and wire["ordertag"] == "t"


def test_order_row_when_status_unknown_then_not_terminal() -> None:
    row = OrderRow.from_wire({"orderid": "1", "status": "validation pending"})
    assert not row.terminal
    assert OrderRow.from_wire({"orderid": "1", "orderstatus": "complete"}).terminal


@pytest.mark.parametrize(
    ("side", "otype", "limit", "trigger", "triggered", "price", "expected"),
    [
        ("BUY", "LIMIT", 100, 0, False, 101, None),
        ("BUY", "LIMIT", 100, 0, False, 99, 99),
        ("SELL", "LIMIT", 100, 0, False, 100, 100),
        ("BUY", "MARKET", 0, 0, False, 123, 123),
        ("SELL", "STOPLOSS_LIMIT", 90, 95, False, 96, None),
        ("SELL", "STOPLOSS_LIMIT", 90, 95, True, 92, 92),
    ],
)
def test_fill_function_when_tick_then_fill_per_limit_crossing(
    side: str, otype: str, limit: int, trigger: int, triggered: bool, price: int,
    expected: int | None,
) -> None:  # fmt: skip
    decision = fill_at_next_tick_with_limit_crossing(
        WorkingOrder(side, otype, 50, limit, trigger, triggered), price
    )
    assert (decision.fill_paise if decision else None) == expected


def test_fill_function_when_stop_crossed_then_triggers_first() -> None:
    decision = fill_at_next_tick_with_limit_crossing(
        WorkingOrder("SELL", "STOPLOSS_LIMIT", 90, 50, 95, False), 94
    )
    assert decision is not None and decision.trigger and decision.fill_paise is None


MASTER = [
    {"token": "99926000", "symbol": "Nifty 50", "name": "NIFTY", "expiry": "",
     "strike": "0.000000", "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "NSE",
     "tick_size": "0.000000"},
    {"token": "99926017", "symbol": "India VIX", "name": "INDIA VIX", "expiry": "",
     "strike": "0.000000", "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "NSE",
     "tick_size": "0.000000"},
    {"token": "43210", "symbol": "NIFTY28NOV2423500CE", "name": "NIFTY", "expiry": "28NOV2024",
     "strike": "2350000.000000", "lotsize": "25", "instrumenttype": "OPTIDX", "exch_seg": "NFO",
     "tick_size": "5.000000"},
    {"token": "43211", "symbol": "NIFTY28NOV2423500PE", "name": "NIFTY", "expiry": "28NOV2024",
     "strike": "2350000.000000", "lotsize": "50", "instrumenttype": "OPTIDX", "exch_seg": "NFO",
     "tick_size": "5.000000"},
]  # fmt: skip


def test_master_when_contract_rows_then_option_lookup_in_rupees() -> None:
    master = InstrumentMaster.from_json(MASTER)
    ce = master.option("nifty", date(2024, 11, 28), 23500, "CE")
    assert ce is not None and ce.token == "43210" and ce.tick_size == Decimal("0.05")
    assert ce.strike == 23500 and ce.option_type == "CE" and ce.lot_size == 25
    assert master.vix_token() == "99926017" and master.index("NIFTY").token == "99926000"
    assert master.expiries("NIFTY") == [date(2024, 11, 28)]


def test_master_when_lot_size_differs_from_calendar_then_mismatch_logged() -> None:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    logger.enable("adapters")
    try:
        found = InstrumentMaster.from_json(MASTER).cross_check(
            Calendar.default(), date(2024, 11, 21)
        )
    finally:
        logger.remove(sink)
    # the calendar says 25 for NIFTY contracts expiring 2024-11-28; the PE row says 50
    assert [(m.field, m.master, m.calendar) for m in found] == [("lot_size", "50", "25")]
    assert any("disagree" in line and "lot_size" in line for line in lines)


def test_master_when_rows_agree_with_calendar_then_no_mismatch() -> None:
    rows = [r for r in MASTER if r["token"] != "43211"]
    assert (
        InstrumentMaster.from_json(rows).cross_check(Calendar.default(), date(2024, 11, 21)) == []
    )


def test_tick_converter_when_quotes_then_rupees_and_volume_differences() -> None:
    conv = TickConverter({(2, "43210"): "NIFTY28NOV2423500CE"}, now_ns=lambda: 5)
    q = QuotePacket(2, 2, "43210", 1, 1_700_000_000_000, 12345, 0, 0, 1000, 0.0, 0.0, 1, 2, 3, 4)
    first = conv(q)
    second = conv(q._replace(volume=1075))
    assert first is not None and first.ltp == 123.45 and first.volume == 0
    assert second is not None and second.volume == 75
    assert first.ts_exchange == 1_700_000_000_000 * 1_000_000
    assert conv(LtpPacket(1, 1, "99926000", 0, 0, 1)) is None


def test_instrument_cache_freshness_when_saved_before_morning_refresh_then_stale(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    import os

    from adapters.smartapi.instruments import InstrumentCache

    cache = InstrumentCache(tmp_path)
    cache.path.write_text("[]")
    saved = datetime(2024, 3, 1, 8, 0, tzinfo=IST)
    os.utime(cache.path, (saved.timestamp(), saved.timestamp()))
    assert cache.is_fresh(datetime(2024, 3, 1, 8, 20, tzinfo=IST))
    assert not cache.is_fresh(datetime(2024, 3, 1, 9, 0, tzinfo=IST))
    assert not cache.is_fresh(datetime(2024, 3, 2, 8, 0, tzinfo=IST).astimezone(UTC))
