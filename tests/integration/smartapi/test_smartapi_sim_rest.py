"""Every REST route and every REST fault against the simulator, over real sockets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from adapters.smartapi.auth import SmartApiSession
from adapters.smartapi.instruments import InstrumentCache, InstrumentMaster
from adapters.smartapi.market import SmartApiMarket
from adapters.smartapi.orders import OrderModify, OrderRequest, SmartApiOrders
from adapters.smartapi.simulator import Fault
from engine.data.calendar import Calendar
from engine.errors import BrokerError, BrokerUnavailableError, RateLimitedError
from engine.timeutil import IST

pytestmark = pytest.mark.anyio


@pytest.fixture
def master(sim) -> InstrumentMaster:  # type: ignore[no-untyped-def]
    return InstrumentMaster.from_json(httpx.get(sim.instruments_url).json())


def atm_call(sim, master: InstrumentMaster):  # type: ignore[no-untyped-def]
    expiry = master.expiries("NIFTY")[0]
    strikes = master.strikes("NIFTY", expiry)
    return master.option("NIFTY", expiry, strikes[len(strikes) // 2], "CE")


def order_for(inst, tag: str, **kw: object) -> OrderRequest:  # type: ignore[no-untyped-def]
    values: dict[str, object] = dict(ordertype="LIMIT", price=Decimal("1.00"))
    values.update(kw)
    return OrderRequest(tag, inst.symbol, inst.token, "NFO", "BUY", inst.lot_size,
                        **values)  # type: ignore[arg-type]  # fmt: skip


async def test_routes_when_called_then_contract_shapes(sim, config, creds, make_http, master):
    inst = atm_call(sim, master)
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        orders, market = SmartApiOrders(http), SmartApiMarket(http)
        assert await orders.order_book() == []  # the server sends null for an empty book
        placed = await orders.place(order_for(inst, "route-1", price=Decimal("1.00")))
        await orders.modify(OrderModify(placed.orderid, inst.symbol, inst.token, "NFO",
                                        inst.lot_size * 2, Decimal("1.50")))  # fmt: skip
        [row] = await orders.order_book()
        assert (row.quantity, row.price, row.tag) == (inst.lot_size * 2, Decimal("1.50"), "route-1")
        details = await http.call("order_details", suffix=f"/{placed.uniqueorderid}")
        assert details["orderid"] == placed.orderid
        await orders.cancel(placed.orderid)
        assert (await orders.order_book())[0].status == "cancelled"
        filled = await orders.place(order_for(inst, "route-2", ordertype="MARKET"))
        assert filled.orderid != placed.orderid
        ltp = await market.ltp("NSE", "Nifty 50", "99926000")
        assert Decimal(20000) < ltp.ltp < Decimal(25000)
        full, unfetched = await market.quote(
            "FULL", {"NSE": ["99926000"], "NFO": [inst.token, "1"]}
        )
        assert [q.token for q in full] == ["99926000", inst.token] and len(unfetched) == 1
        assert full[1].best_bid is not None and full[1].best_bid < full[1].best_ask
        ohlc, _ = await market.quote("OHLC", {"NSE": ["99926017"]})
        assert ohlc[0].open is not None
        found = await http.call("search_scrip", {"exchange": "NFO", "searchscrip": inst.symbol})
        assert found == [{"exchange": "NFO", "tradingsymbol": inst.symbol,
                          "symboltoken": inst.token}]  # fmt: skip
        trades = await orders.trade_book()
        positions = await orders.positions()
        funds = await orders.funds()
    assert [t.orderid for t in trades] == [filled.orderid]
    assert positions[0].netqty == inst.lot_size and funds.available_cash > 0


async def test_candles_when_range_exceeds_limit_then_split_and_joined(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        market = SmartApiMarket(http)
        start = datetime(2024, 1, 25, 9, 15, tzinfo=IST)
        bars = await market.candles("NSE", "99926000", "ONE_MINUTE", start,
                                    datetime(2024, 3, 1, 15, 30, tzinfo=IST))  # fmt: skip
        fives = await market.candles("NSE", "99926000", "FIVE_MINUTE",
                                     datetime(2024, 3, 1, 9, 15, tzinfo=IST),
                                     datetime(2024, 3, 1, 9, 29, tzinfo=IST))  # fmt: skip
    candle_calls = [r for r in sim.requests if r.path.endswith("getCandleData")]
    assert len(candle_calls) == 3  # 37 days of 1m bars need two requests
    assert len(bars) == 375 and bars[0].start == datetime(2024, 3, 1, 9, 15, tzinfo=IST)
    assert [c.start.minute for c in fives] == [15, 20, 25]
    assert fives[0].open == bars[0].open and fives[0].high == max(b.high for b in bars[:5])


@pytest.mark.parametrize("fault", [Fault.RATE_LIMIT_429, Fault.RATE_LIMIT_403,
                                   Fault.SERVER_ERROR, Fault.EMPTY_BODY])  # fmt: skip
async def test_data_call_when_temporary_fault_then_backed_off_and_retried(
    sim, config, creds, make_http, fault: Fault
) -> None:
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        sim.faults.inject("ltp", fault, times=2)
        ltp = await SmartApiMarket(http).ltp("NSE", "Nifty 50", "99926000")
    assert ltp.ltp > 0
    assert sum(r.path.endswith("getLtpData") for r in sim.requests) == 3


async def test_data_call_when_reply_slower_than_timeout_then_retried(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        sim.faults.inject("ltp", Fault.SLOW, delay_s=config.timeout_s + 0.3)
        ltp = await SmartApiMarket(http).ltp("NSE", "Nifty 50", "99926000")
    assert ltp.ltp > 0


async def test_data_call_when_faults_outlast_attempts_then_typed_error(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        sim.faults.inject("ltp", Fault.RATE_LIMIT_403, times=10)
        with pytest.raises(RateLimitedError) as info:
            await SmartApiMarket(http).ltp("NSE", "Nifty 50", "99926000")
    assert info.value.status == 403


async def test_business_error_when_returned_then_raised_once_never_retried(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        with pytest.raises(BrokerError) as info:
            await SmartApiMarket(http).ltp("NSE", "NOPE", "12")
        with pytest.raises(BrokerError) as tag_error:
            await http.call("place_order", {"ordertag": "x" * 20, "variety": "NORMAL"})
    assert info.value.code == "AB1009" and tag_error.value.code == "AB4008"
    assert sum(r.path.endswith("getLtpData") for r in sim.requests) == 1
    assert not isinstance(info.value, BrokerUnavailableError)


@pytest.mark.parametrize(
    ("fault", "recovered"),
    [
        (Fault.LOST_REPLY, True),  # accepted, reply dropped
        (Fault.EMPTY_BODY, True),  # accepted, empty reply
        (Fault.SLOW, True),  # accepted after the client gave up
        (Fault.SERVER_ERROR, False),  # not accepted: found absent, sent again
        (Fault.RATE_LIMIT_403, False),  # refused at the gateway: sent again
    ],
)
async def test_place_when_reply_unclear_then_exactly_one_order(
    sim, config, creds, make_http, master, fault: Fault, recovered: bool
) -> None:
    inst = atm_call(sim, master)
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        orders = SmartApiOrders(http)
        sim.faults.inject("place_order", fault, delay_s=config.timeout_s + 0.2)
        placed = await orders.place(order_for(inst, f"dup-{fault.value[:10]}"))
        again = await orders.place(order_for(inst, f"dup-{fault.value[:10]}"))
    assert placed.recovered is recovered and again == placed
    book = sim.orders()
    assert len(book) == 1 and book[0]["orderid"] == placed.orderid


async def test_place_when_book_unreadable_after_lost_reply_then_state_unknown_nothing_resent(
    sim, config, creds, make_http, master
) -> None:
    from engine.errors import OrderStateUnknownError

    inst = atm_call(sim, master)
    async with make_http(client_config_no_retry(config)) as http:
        await SmartApiSession(http, creds).login()
        sim.faults.inject("place_order", Fault.LOST_REPLY)
        sim.faults.inject("order_book", Fault.SERVER_ERROR, times=5)
        with pytest.raises(OrderStateUnknownError):
            await SmartApiOrders(http).place(order_for(inst, "unknown-1"))
    assert len(sim.orders()) == 1
    assert sum(r.path.endswith("placeOrder") for r in sim.requests) == 1


def client_config_no_retry(config):  # type: ignore[no-untyped-def]
    return config.with_(max_attempts=1)


async def test_modify_and_cancel_when_reply_lost_then_applied_once(
    sim, config, creds, make_http, master
) -> None:
    inst = atm_call(sim, master)
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        orders = SmartApiOrders(http)
        placed = await orders.place(order_for(inst, "mod-1"))
        sim.faults.inject("modify_order", Fault.LOST_REPLY)
        await orders.modify(OrderModify(placed.orderid, inst.symbol, inst.token, "NFO",
                                        inst.lot_size, Decimal("1.25")))  # fmt: skip
        sim.faults.inject("cancel_order", Fault.LOST_REPLY)
        await orders.cancel(placed.orderid)
    [row] = sim.orders()
    assert row["price"] == "1.25" and row["status"] == "cancelled"
    assert sum(r.path.endswith("modifyOrder") for r in sim.requests) == 1
    assert sum(r.path.endswith("cancelOrder") for r in sim.requests) == 1


async def test_orders_when_burst_then_never_more_than_nine_a_second_and_none_refused(
    sim, config, creds, make_http, master
) -> None:
    import anyio

    inst = atm_call(sim, master)
    async with make_http(config) as http:
        await SmartApiSession(http, creds).login()
        orders = SmartApiOrders(http)
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(orders.place, order_for(inst, f"burst-{i}"))
    times = sorted(r.at for r in sim.requests if r.path.endswith("placeOrder"))
    assert len(times) == 20 and len(sim.orders()) == 20
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 9
    assert not any(f == Fault.RATE_LIMIT_403 for _, f in sim.faults.fired)


async def test_instrument_master_when_loaded_then_cached_and_agrees_with_calendar(
    sim, config, tmp_path
) -> None:
    cache = InstrumentCache(tmp_path)
    now = datetime.now(IST)
    master = await cache.load(config.instruments_url, now)
    assert cache.is_fresh(now) and master.vix_token() == "99926017"
    day = date(2024, 3, 1)
    assert master.cross_check(Calendar.default(), day) == []
    expiry = master.expiries("NIFTY")[0]
    assert master.lot_size("NIFTY", expiry) == Calendar.default().lot_size("NIFTY", expiry)
    # a failed download keeps yesterday's copy
    again = await InstrumentCache(tmp_path).load(sim.rest_url + "/missing", now + timedelta(days=1))
    assert len(again) == len(master)
