"""The fill ledger: quantities, average prices, realised and unrealised P&L, charges, trades.

The contract is the real NIFTY 22000 CE of 2024-03-07 (lot 50). Each figure is worked by
hand in a comment; charges come from the shipped charges table for the trade date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from engine.costs.charges import ChargesTable
from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.market import to_ns
from engine.model.trading import Instrument, OptionKind, OrderSide
from engine.portfolio.ledger import Ledger, Trade
from engine.timeutil import IST

D = Decimal
T0 = to_ns(datetime(2024, 3, 6, 11, 0, tzinfo=IST))
MINUTE = 60_000_000_000
BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.fixture(scope="module")
def contract() -> Instrument:
    source = CalendarInstruments(Calendar.default())
    return source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, date(2024, 3, 6))


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


def opened(ledger: Ledger, contract: Instrument, rule: str = "adx", u: str = "NIFTY") -> Trade:
    return ledger.open_trade(rule, u, contract, T0, "adx_cross")


def test_open_trade_when_new_then_numbered_and_current_with_nothing_held(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    assert trade.trade_id == "T0001"
    assert ledger.current("adx", "NIFTY") is trade
    assert (trade.qty, trade.open, trade.closed) == (0, False, False)
    assert trade.entry_price is None and trade.exit_price is None
    assert trade.gross_pnl() == D("0.00") and trade.net_pnl == D("0.00")
    assert ledger.open_count == 0  # waiting for its first fill holds nothing
    assert opened(ledger, contract, rule="other").trade_id == "T0002"


def test_open_trade_when_rule_already_holds_the_underlying_then_refused(
    ledger: Ledger, contract: Instrument
) -> None:
    opened(ledger, contract)
    with pytest.raises(ValueError, match="adx already holds a trade on NIFTY"):
        opened(ledger, contract)
    opened(ledger, contract, u="BANKNIFTY")  # another underlying is another trade


def test_fill_when_two_buys_then_quantity_and_average_entry(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 100, D("150.15"), T0 + MINUTE, 22010.5)
    ledger.fill(trade, BUY, 50, D("152.00"), T0 + 2 * MINUTE, 22030.0)
    assert trade.qty == 150 and trade.lots == 3 and trade.open
    # (100 * 150.15 + 50 * 152.00) / 150 = 22615 / 150 = 150.76666...
    assert trade.entry_price == D("150.7667")
    # the first fill sets the entry time and the underlying then
    assert (trade.entry_ts, trade.entry_underlying) == (T0 + MINUTE, 22010.5)
    assert ledger.open_count == 1


def test_gross_pnl_when_partly_sold_then_realised_plus_unrealised_at_ltp(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 100, D("150.15"), T0 + MINUTE, 22010.5)
    ledger.fill(trade, BUY, 50, D("152.00"), T0 + 2 * MINUTE, 22030.0)
    ledger.fill(trade, SELL, 100, D("160.00"), T0 + 30 * MINUTE, 22100.0)
    assert trade.qty == 50 and trade.open and not trade.closed
    # realised: 100 * 160 - 100 * 150.7666... = 16000 - 15076.666... = 923.333...
    assert trade.realised.quantize(D("0.0001")) == D("923.3333")
    assert trade.gross_pnl() == D("923.33")
    # unrealised at 158: 50 * (158 - 150.7666...) = 361.666...; total exactly 1285.00
    assert trade.unrealised(D("158")).quantize(D("0.0001")) == D("361.6667")
    assert trade.gross_pnl(D("158")) == D("1285.00")
    assert (trade.exit_ts, trade.exit_underlying) == (T0 + 30 * MINUTE, 22100.0)


def test_gross_pnl_when_closed_then_sold_minus_bought_and_ltp_ignored(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 100, D("150.15"), T0 + MINUTE, 22010.5)
    ledger.fill(trade, BUY, 50, D("152.00"), T0 + 2 * MINUTE, 22030.0)
    ledger.fill(trade, SELL, 100, D("160.00"), T0 + 30 * MINUTE, 22100.0)
    ledger.fill(trade, SELL, 50, D("155.00"), T0 + 40 * MINUTE, 22080.0)
    assert trade.qty == 0 and trade.closed and not trade.open
    # 16000 + 7750 - 22615 = 1135.00
    assert trade.gross_pnl() == D("1135.00") == trade.gross_pnl(D("1.00"))
    assert trade.unrealised(D("500")) == 0
    assert trade.exit_price == D("158.3333")  # 23750 / 150
    assert (trade.exit_ts, trade.exit_underlying) == (T0 + 40 * MINUTE, 22080.0)
    assert [f["side"] for f in trade.fills] == ["buy", "buy", "sell", "sell"]
    assert trade.fills[0] == {"side": "buy", "qty": 100, "price": "150.15", "ts": T0 + MINUTE}


def test_gross_pnl_when_losing_trade_then_negative(ledger: Ledger, contract: Instrument) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 50, D("150.15"), T0 + MINUTE, None)
    assert trade.gross_pnl(D("140.00")) == D("-507.50")  # 50 * -10.15
    ledger.fill(trade, SELL, 50, D("120.00"), T0 + 9 * MINUTE, None)
    assert trade.gross_pnl() == D("-1507.50")  # 50 * (120 - 150.15)


def test_net_pnl_when_charged_per_order_then_gross_minus_charges(
    ledger: Ledger, contract: Instrument
) -> None:
    table = ChargesTable.default()
    day = date(2024, 3, 6)
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 100, D("150.15"), T0 + MINUTE, None)
    buy = table.for_order(day, "buy", [(D("150.15"), 100)]).total
    ledger.charge(trade, buy)
    ledger.fill(trade, SELL, 100, D("160.00"), T0 + 30 * MINUTE, None)
    sell = table.for_order(day, "sell", [(D("160.00"), 100)]).total
    ledger.charge(trade, sell)
    assert buy > 0 and sell > buy  # STT is on the sell side
    assert trade.charges == buy + sell
    assert trade.gross_pnl() == D("985.00")  # 100 * (160 - 150.15)
    assert trade.net_pnl == (D("985.00") - buy - sell).quantize(D("0.01"))
    assert trade.net_pnl < trade.gross_pnl()


def test_fill_when_sell_above_holdings_then_refused_and_nothing_booked(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 50, D("150.15"), T0 + MINUTE, None)
    with pytest.raises(ValueError, match="T0001: a sell of 100 is more than the 50 held"):
        ledger.fill(trade, SELL, 100, D("160.00"), T0 + 2 * MINUTE, None)
    assert (trade.qty, trade.sold_qty, trade.sold_value) == (50, 0, 0)
    assert trade.exit_ts is None and len(trade.fills) == 1


def test_fill_when_sell_before_any_buy_then_refused(ledger: Ledger, contract: Instrument) -> None:
    trade = opened(ledger, contract)
    with pytest.raises(ValueError, match="more than the 0 held"):
        ledger.fill(trade, SELL, 50, D("160.00"), T0 + MINUTE, None)


def test_finish_when_flat_then_dropped_from_open_book_but_kept_in_trades(
    ledger: Ledger, contract: Instrument
) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 50, D("150.15"), T0 + MINUTE, None)
    ledger.fill(trade, SELL, 50, D("160.00"), T0 + 9 * MINUTE, None)
    ledger.finish(trade)
    assert ledger.current("adx", "NIFTY") is None
    assert list(ledger.open_trades()) == []
    assert ledger.trades == [trade]
    again = opened(ledger, contract)  # the rule may trade the underlying again
    assert again.trade_id == "T0002" and ledger.trades == [trade, again]


def test_finish_when_still_holding_then_kept_open(ledger: Ledger, contract: Instrument) -> None:
    trade = opened(ledger, contract)
    ledger.fill(trade, BUY, 100, D("150.15"), T0 + MINUTE, None)
    ledger.fill(trade, SELL, 50, D("160.00"), T0 + 9 * MINUTE, None)
    ledger.finish(trade)  # the exit order was cancelled after a partial fill
    assert ledger.current("adx", "NIFTY") is trade
    assert list(ledger.open_trades()) == [trade] and ledger.open_count == 1


def test_finish_when_entry_never_filled_then_dropped(ledger: Ledger, contract: Instrument) -> None:
    trade = opened(ledger, contract)
    ledger.finish(trade)  # the entry order was rejected
    assert ledger.current("adx", "NIFTY") is None
    assert not trade.closed  # never bought: not a closed trade either


def test_finish_when_trade_no_longer_current_then_the_current_one_is_kept(
    ledger: Ledger, contract: Instrument
) -> None:
    old = opened(ledger, contract)
    ledger.finish(old)
    new = opened(ledger, contract)
    ledger.finish(old)  # finishing the old trade twice must not drop the new one
    assert ledger.current("adx", "NIFTY") is new


def test_open_count_when_several_rules_and_underlyings_then_only_those_holding(
    ledger: Ledger, contract: Instrument
) -> None:
    a = opened(ledger, contract, rule="a")
    b = opened(ledger, contract, rule="b")
    opened(ledger, contract, rule="c")  # waiting for its fill
    ledger.fill(a, BUY, 50, D("150"), T0 + MINUTE, None)
    ledger.fill(b, BUY, 50, D("150"), T0 + MINUTE, None)
    assert ledger.open_count == 2
    ledger.fill(b, SELL, 50, D("151"), T0 + 2 * MINUTE, None)
    assert ledger.open_count == 1
    assert {t.rule for t in ledger.open_trades()} == {"a", "b", "c"}
