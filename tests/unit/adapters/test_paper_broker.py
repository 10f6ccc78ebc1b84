"""The paper broker and its fill table (adapters/paper/fills.py), row by row.

The contract is the real NIFTY weekly of 2024-03-07 (lot 50, tick 0.05). Every price
below is worked by hand in its comment: slippage is max(one tick, 0.1 % of the price)
rounded up onto the tick; a buy pays price + slippage rounded up, a sell gets price -
slippage rounded down, and a limit order fills only when that crosses its limit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.paper import FillModel, PaperBroker
from engine.clock import SimClock
from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.market import to_ns
from engine.model.trading import (
    Instrument,
    OptionKind,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderPurpose,
    OrderRejected,
    OrderSide,
)
from engine.ports import Broker
from engine.timeutil import IST

D = Decimal
TICK = D("0.05")
T0 = to_ns(datetime(2024, 3, 6, 11, 0, tzinfo=IST))  # the decision instant
MINUTE = 60_000_000_000


@pytest.fixture(scope="module")
def contract() -> Instrument:
    source = CalendarInstruments(Calendar.default())
    return source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, date(2024, 3, 6))


def intent(
    contract: Instrument,
    *,
    key: str = "k1",
    side: OrderSide = OrderSide.BUY,
    qty: int = 50,
    limit: str = "150.75",
    ts: int = T0,
) -> OrderIntent:
    return OrderIntent(
        key=key,
        rule="adx_trend",
        underlying="NIFTY",
        instrument=contract,
        side=side,
        purpose=OrderPurpose.ENTRY if side is OrderSide.BUY else OrderPurpose.EXIT,
        qty=qty,
        limit_price=D(limit),
        ts_decision=ts,
        reason="test",
    )


class Rig:
    """A paper broker bound to a list of its events and a simulated clock."""

    def __init__(self, fills: FillModel | None = None, *, clock: bool = True) -> None:
        self.events: list[Any] = []
        self.clock = SimClock(T0)
        self.broker = PaperBroker(fills)
        self.broker.bind(self.events.append, self.clock if clock else None)

    def fills(self) -> list[OrderFilled]:
        return [e for e in self.events if isinstance(e, OrderFilled)]


def test_paper_broker_when_checked_then_it_is_a_broker() -> None:
    broker = PaperBroker()
    assert isinstance(broker, Broker)
    assert "0.1% of premium" in broker.description


def test_submit_when_valid_then_accepted_at_once_with_an_order_id(contract: Instrument) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract))
    assert rig.events == [OrderAccepted("k1", "P000001", T0)]
    assert rig.broker.working == 1


def test_submit_when_key_seen_before_then_ignored(contract: Instrument) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract))
    rig.broker.submit(intent(contract))
    rig.broker.submit(intent(contract, limit="999.00"))  # same tag, other price: still ignored
    assert len(rig.events) == 1 and rig.broker.working == 1
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    assert [f.qty for f in rig.fills()] == [50]
    assert rig.broker.positions() == {contract.symbol: 50}


def test_submit_when_key_seen_before_and_order_filled_then_still_ignored(
    contract: Instrument,
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    rig.broker.submit(intent(contract))
    rig.broker.market(contract.symbol, T0 + 2 * MINUTE, D("150.00"))
    assert len(rig.fills()) == 1 and rig.broker.positions() == {contract.symbol: 50}


@pytest.mark.parametrize(("qty", "limit"), [(0, "150.00"), (-50, "150.00"), (50, "0")])
def test_submit_when_quantity_or_price_not_positive_then_rejected(
    contract: Instrument, qty: int, limit: str
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, qty=qty, limit=limit))
    assert rig.events == [OrderRejected("k1", "quantity and price must be positive", T0)]
    assert rig.broker.working == 0


def test_market_when_price_was_shown_before_the_order_then_never_fills_on_it(
    contract: Instrument,
) -> None:
    """The deciding bar's own close is never the fill (NautilusTrader issue 1537): only a
    price shown after the order came in, and not older than the decision, fills it."""
    rig = Rig()
    rig.broker.market(contract.symbol, T0, D("150.00"))  # the price the decision saw
    rig.broker.submit(intent(contract))
    assert rig.fills() == []
    rig.broker.market(contract.symbol, T0 - MINUTE, D("150.00"))  # a stale, older print
    assert rig.fills() == []
    # the next bar's open: shown after the order, stamped with the deciding bar's end
    rig.broker.market(contract.symbol, T0, D("150.00"))
    assert [(f.price, f.ts_event) for f in rig.fills()] == [(D("150.15"), T0)]


def test_market_when_other_symbol_then_no_fill(contract: Instrument) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract))
    rig.broker.market("NIFTY07MAR2422000PE", T0 + MINUTE, D("1.00"))
    assert rig.fills() == [] and rig.broker.working == 1


@pytest.mark.parametrize(
    ("price", "paid"),
    [
        ("150.00", "150.15"),  # slip 0.15 (0.1 % exactly three ticks): 150.15 <= 150.75
        ("150.55", "150.75"),  # slip 0.15055 -> 0.20: 150.75, exactly the limit
        ("120.00", "120.15"),  # far below the limit: pays market plus slippage, not the limit
        ("10.00", "10.05"),  # 0.01 is less than a tick: one tick
        ("150.03", "150.25"),  # off the tick (a modelled premium): slip 0.20, 150.23 -> 150.25
    ],
)
def test_buy_when_price_plus_slippage_within_limit_then_fills_at_price_plus_slippage(
    contract: Instrument, price: str, paid: str
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, limit="150.75"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D(price))
    assert [f.price for f in rig.fills()] == [D(paid)]


@pytest.mark.parametrize("price", ["150.60", "150.70", "151.00", "200.00"])
def test_buy_when_price_plus_slippage_above_limit_then_waits(
    contract: Instrument, price: str
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, limit="150.75"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D(price))  # 150.60 + 0.20 = 150.80
    assert rig.fills() == [] and rig.broker.working == 1


@pytest.mark.parametrize(
    ("price", "got"),
    [
        ("149.40", "149.25"),  # slip 0.1494 -> 0.15: 149.25, exactly the limit
        ("160.00", "159.80"),  # slip 0.16 -> 0.20
        ("149.98", "149.80"),  # off the tick: slip 0.15, 149.83 rounded down to 149.80
    ],
)
def test_sell_when_price_minus_slippage_at_or_above_limit_then_fills(
    contract: Instrument, price: str, got: str
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, side=OrderSide.SELL, limit="149.25"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D(price))
    assert [f.price for f in rig.fills()] == [D(got)]


@pytest.mark.parametrize("price", ["149.35", "140.00"])
def test_sell_when_price_minus_slippage_below_limit_then_waits(
    contract: Instrument, price: str
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, side=OrderSide.SELL, limit="149.25"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D(price))  # 149.35 - 0.15 = 149.20
    assert rig.fills() == []


def test_sell_when_premium_near_zero_then_never_below_one_tick(contract: Instrument) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, side=OrderSide.SELL, limit="0.05"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("0.05"))  # 0.05 - 0.05 = 0.00 -> 0.05
    assert [f.price for f in rig.fills()] == [D("0.05")]


def test_fill_model_when_slippage_pct_set_then_used() -> None:
    model = FillModel(slippage_pct=D("1"))
    assert model.slippage(D("150.00"), TICK) == D("1.50")
    assert model.slippage(D("150.01"), TICK) == D("1.55")  # 1.5001 rounded up
    assert model.fill_price(OrderSide.BUY, D("152.00"), D("150.00"), TICK) == D("151.50")
    assert model.fill_price(OrderSide.SELL, D("148.00"), D("150.00"), TICK) == D("148.50")


def test_fill_model_when_zero_slippage_pct_then_still_one_tick() -> None:
    model = FillModel(slippage_pct=D("0"))
    assert model.slippage(D("150.00"), TICK) == TICK


prices = st.decimals(min_value=D("0.05"), max_value=D("5000"), places=2)


@given(prices, st.sampled_from([OrderSide.BUY, OrderSide.SELL]))
def test_fill_model_when_any_price_then_fill_on_the_tick_and_against_us(
    price: Decimal, side: OrderSide
) -> None:
    model = FillModel()
    limit = D("100000") if side is OrderSide.BUY else TICK  # always crosses
    got = model.fill_price(side, limit, price, TICK)
    assert got is not None and got % TICK == 0 and got >= TICK
    if side is OrderSide.BUY:
        assert got >= price + TICK  # at least a tick worse than the market
    else:
        assert got <= max(price - TICK, TICK)


def test_market_when_max_fill_qty_then_partial_fills_until_done(contract: Instrument) -> None:
    rig = Rig(FillModel(max_fill_qty=50))
    rig.broker.submit(intent(contract, qty=150))
    for i in range(1, 5):
        rig.broker.market(contract.symbol, T0 + i * MINUTE, D("150.00"))
    fills = rig.fills()
    assert [(f.qty, f.remaining, f.fill_id) for f in fills] == [
        (50, 100, "P000001-1"),
        (50, 50, "P000001-2"),
        (50, 0, "P000001-3"),
    ]
    assert all(f.order_id == "P000001" for f in fills)
    assert rig.broker.working == 0
    assert rig.broker.positions() == {contract.symbol: 150}


@pytest.mark.parametrize(
    ("max_fill_qty", "first"),
    [
        (70, 50),  # rounded down to whole lots
        (20, 50),  # less than a lot: one lot
        (100, 100),
        (1000, 150),  # more than the order: the whole order
    ],
)
def test_fill_qty_when_max_fill_qty_not_a_lot_multiple_then_whole_lots(
    contract: Instrument, max_fill_qty: int, first: int
) -> None:
    rig = Rig(FillModel(max_fill_qty=max_fill_qty))
    rig.broker.submit(intent(contract, qty=150))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    assert rig.fills()[0].qty == first


def test_market_when_price_moves_away_between_partials_then_rest_waits(
    contract: Instrument,
) -> None:
    rig = Rig(FillModel(max_fill_qty=50))
    rig.broker.submit(intent(contract, qty=100))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    rig.broker.market(contract.symbol, T0 + 2 * MINUTE, D("155.00"))  # beyond the limit
    assert [f.qty for f in rig.fills()] == [50] and rig.broker.working == 1


def test_cancel_when_working_then_cancelled_with_filled_qty_at_clock_time(
    contract: Instrument,
) -> None:
    rig = Rig(FillModel(max_fill_qty=50))
    rig.broker.submit(intent(contract, qty=100))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    rig.clock.set(T0 + 3 * MINUTE)
    rig.broker.cancel("k1")
    assert rig.events[-1] == OrderCancelled("k1", T0 + 3 * MINUTE, 50, "cancelled on request",
                                            "P000001")  # fmt: skip
    assert rig.broker.working == 0
    rig.broker.market(contract.symbol, T0 + 4 * MINUTE, D("150.00"))
    assert len(rig.fills()) == 1  # a cancelled order never fills


def test_cancel_when_no_clock_then_stamped_with_the_last_price_time(contract: Instrument) -> None:
    rig = Rig(clock=False)
    rig.broker.submit(intent(contract, limit="100.00"))
    rig.broker.market(contract.symbol, T0 + 2 * MINUTE, D("150.00"))  # does not cross
    rig.broker.cancel("k1")
    assert isinstance(rig.events[-1], OrderCancelled)
    assert rig.events[-1].ts_event == T0 + 2 * MINUTE


def test_cancel_when_unknown_or_done_then_nothing_happens(contract: Instrument) -> None:
    rig = Rig()
    rig.broker.cancel("nope")
    rig.broker.submit(intent(contract))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    count = len(rig.events)
    rig.broker.cancel("k1")
    assert len(rig.events) == count


def test_positions_when_bought_then_sold_then_book_nets_and_flat_drops_out(
    contract: Instrument,
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, key="buy", qty=100))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    assert rig.broker.positions() == {contract.symbol: 100}
    exit_ts = T0 + 10 * MINUTE
    rig.broker.submit(intent(contract, key="sell1", side=OrderSide.SELL, qty=50,
                             limit="100.00", ts=exit_ts))  # fmt: skip
    rig.broker.market(contract.symbol, exit_ts + MINUTE, D("160.00"))
    assert rig.broker.positions() == {contract.symbol: 50}
    rig.broker.submit(intent(contract, key="sell2", side=OrderSide.SELL, qty=50,
                             limit="100.00", ts=exit_ts))  # fmt: skip
    rig.broker.market(contract.symbol, exit_ts + 2 * MINUTE, D("160.00"))
    assert rig.broker.positions() == {}


def test_market_when_two_orders_cross_then_both_fill_in_submission_order(
    contract: Instrument,
) -> None:
    rig = Rig()
    rig.broker.submit(intent(contract, key="a"))
    rig.broker.submit(intent(contract, key="b"))
    rig.broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    assert [(f.key, f.order_id) for f in rig.fills()] == [("a", "P000001"), ("b", "P000002")]


def test_paper_broker_when_unbound_then_submits_silently(contract: Instrument) -> None:
    broker = PaperBroker()
    broker.submit(intent(contract))
    broker.market(contract.symbol, T0 + MINUTE, D("150.00"))
    assert broker.positions() == {contract.symbol: 50}


@given(
    st.integers(1, 40).flatmap(
        lambda lots: st.tuples(
            st.just(lots), st.sampled_from([15, 25, 50, 75]), st.integers(1, 400)
        )
    ),
    st.integers(-24, 0),
)
def test_fill_qty_when_filled_repeatedly_then_never_more_than_remains(
    lots_lot_max: tuple[int, int, int], odd: int
) -> None:
    """Partial fills add up to the order exactly, even for a quantity that is not whole
    lots (an exit of what a broker reported filled, say)."""
    lots, lot, max_fill = lots_lot_max
    qty = max(1, lots * lot + odd)
    model = FillModel(max_fill_qty=max_fill)
    remaining, fills = qty, 0
    while remaining:
        got = model.fill_qty(remaining, lot)
        assert 0 < got <= remaining
        remaining -= got
        fills += 1
        assert fills <= qty
