"""The backtest report: trades.csv's fixed columns and ISO timestamps, the summary from trades."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.model.market import to_ns
from engine.model.trading import OptionKind, OrderSide
from engine.portfolio.ledger import Ledger, Trade
from engine.report.backtest import TRADE_COLUMNS, build_report, trades_csv
from engine.timeutil import IST

D = Decimal
DAY = date(2024, 3, 6)

#: The columns the product promises, in this order (docs and users' spreadsheets rely on it).
PROMISED = (
    "trade_id,underlying,side,symbol,expiry,strike,lots,qty,decision_ts,entry_ts,"
    "entry_underlying,entry_price,exit_decision_ts,exit_ts,exit_underlying,exit_price,"
    "exit_reason,gross_pnl,charges,net_pnl"
).split(",")


def at(hh: int, mm: int, d: date = DAY) -> int:
    return to_ns(datetime.combine(d, time(hh, mm), tzinfo=IST))


@pytest.fixture
def trades() -> list[Trade]:
    """A closed winning CE trade and a PE trade still open."""
    source = CalendarInstruments(Calendar.default())
    ce = source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.CE, DAY)
    pe = source.option("NIFTY", date(2024, 3, 7), 22000, OptionKind.PE, DAY)
    ledger = Ledger()
    won = ledger.open_trade("adx", "NIFTY", ce, at(11, 0), "adx_cross")
    ledger.fill(won, OrderSide.BUY, 100, D("150.15"), at(11, 1), 22010.5)
    ledger.charge(won, D("23.57"))
    won.exit_decision_ts, won.exit_reason = at(14, 0), "target"
    ledger.fill(won, OrderSide.SELL, 100, D("160.00"), at(14, 1), 22095.25)
    ledger.charge(won, D("42.44"))
    ledger.finish(won)
    held = ledger.open_trade("adx", "BANKNIFTY", pe, at(15, 0), "adx_cross")
    ledger.fill(held, OrderSide.BUY, 50, D("88.00"), at(15, 1), 22001.0)
    return ledger.trades


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_trade_columns_when_read_then_exactly_the_promised_order() -> None:
    assert list(TRADE_COLUMNS) == PROMISED


def test_trades_csv_when_written_then_header_row_is_the_columns_in_order(
    trades: list[Trade],
) -> None:
    text = trades_csv(trades)
    assert text.splitlines()[0] == ",".join(PROMISED)
    assert all(len(r) == len(PROMISED) for r in rows(text))
    assert "\r" not in text


def test_trades_csv_when_trade_closed_then_every_field_formatted(trades: list[Trade]) -> None:
    row = dict(zip(PROMISED, rows(trades_csv(trades))[1], strict=True))
    assert row == {
        "trade_id": "T0001",
        "underlying": "NIFTY",
        "side": "CE",
        "symbol": "NIFTY07MAR2422000CE",
        "expiry": "2024-03-07",
        "strike": "22000",
        "lots": "2",
        "qty": "100",
        "decision_ts": "2024-03-06T11:00:00+05:30",
        "entry_ts": "2024-03-06T11:01:00+05:30",
        "entry_underlying": "22010.50",
        "entry_price": "150.15",
        "exit_decision_ts": "2024-03-06T14:00:00+05:30",
        "exit_ts": "2024-03-06T14:01:00+05:30",
        "exit_underlying": "22095.25",
        "exit_price": "160.00",
        "exit_reason": "target",
        "gross_pnl": "985.00",  # 100 * (160.00 - 150.15)
        "charges": "66.01",
        "net_pnl": "918.99",
    }


def test_trades_csv_when_trade_open_then_exit_fields_empty(trades: list[Trade]) -> None:
    row = dict(zip(PROMISED, rows(trades_csv(trades))[2], strict=True))
    assert row["side"] == "PE" and row["entry_ts"] == "2024-03-06T15:01:00+05:30"
    for name in ("exit_decision_ts", "exit_ts", "exit_underlying", "exit_price", "exit_reason"):
        assert row[name] == ""


def test_trades_csv_when_timestamps_then_every_one_iso_with_ist_offset(
    trades: list[Trade],
) -> None:
    stamps = [
        value
        for r in rows(trades_csv(trades))[1:]
        for name, value in zip(PROMISED, r, strict=True)
        if name.endswith("_ts") and value
    ]
    assert len(stamps) == 6
    for s in stamps:
        parsed = datetime.fromisoformat(s)
        assert s.endswith("+05:30") and parsed.utcoffset() == timedelta(hours=5, minutes=30)


def test_trades_csv_when_no_trades_then_header_only() -> None:
    assert trades_csv([]) == ",".join(PROMISED) + "\n"


def test_build_report_when_open_trade_left_then_only_closed_trades_count(
    trades: list[Trade],
) -> None:
    report = build_report(
        trades,
        capital=D("100000"),
        sessions=[(at(9, 15), at(15, 30))],
        bars=375,
        warmup_sessions=0,
        starved={"daily.adx": 12, "h1.rsi": 30},
        premiums="modelled",
        inputs={"rules": "rules/adx.yaml"},
        notes=["option premiums are modelled (Black-Scholes, India VIX)"],
    )
    assert [t.trade_id for t in report.trades] == ["T0001"]
    assert report.metrics.trades == 1 and report.metrics.net_pnl == D("918.99")
    data = json.loads(report.to_json())
    assert data["premiums"] == "modelled" and data["sessions"] == 1
    assert list(data["starved_conditions"]) == ["daily.adx", "h1.rsi"]
    text = report.render()
    assert "net P&L Rs 918.99  (gross Rs 985.00, charges Rs 66.01)" in text
    assert "option premiums: modelled" in text
    assert "conditions starved of data (missing values): h1.rsi 30x, daily.adx 12x" in text
