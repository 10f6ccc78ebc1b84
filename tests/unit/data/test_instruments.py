"""Option contracts from the calendar's dated contract facts (the backtest's instrument source)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments, option_symbol
from engine.errors import CalendarError
from engine.model.trading import OptionKind
from engine.ports import ExpiryInfo, InstrumentSource

CE, PE = OptionKind.CE, OptionKind.PE


@pytest.fixture(scope="module")
def source() -> CalendarInstruments:
    return CalendarInstruments(Calendar.default())


def test_calendar_instruments_when_checked_then_an_instrument_source(
    source: CalendarInstruments,
) -> None:
    assert isinstance(source, InstrumentSource)


@pytest.mark.parametrize(
    ("underlying", "expiry", "strike", "kind", "symbol"),
    [
        ("NIFTY", date(2024, 11, 28), 23500, CE, "NIFTY28NOV2423500CE"),
        ("NIFTY", date(2024, 3, 7), 22000, PE, "NIFTY07MAR2422000PE"),  # day zero-padded
        ("BANKNIFTY", date(2024, 11, 27), 51000, "CE", "BANKNIFTY27NOV2451000CE"),
        ("NIFTY", date(2026, 1, 6), 26000, "PE", "NIFTY06JAN2626000PE"),
    ],
)
def test_option_symbol_when_contract_given_then_broker_pattern(
    underlying: str, expiry: date, strike: int, kind: OptionKind | str, symbol: str
) -> None:
    assert option_symbol(underlying, expiry, strike, kind) == symbol


@pytest.mark.parametrize(
    ("expiry", "lot"),
    [
        (date(2024, 4, 25), 50),  # the last contract with the old lot
        (date(2024, 5, 2), 25),
        (date(2024, 11, 28), 25),
        (date(2024, 12, 26), 25),
        (date(2025, 2, 6), 75),
        (date(2025, 12, 30), 75),
        (date(2026, 1, 6), 65),
    ],
)
def test_option_when_nifty_then_lot_size_of_the_contracts_expiry(
    source: CalendarInstruments, expiry: date, lot: int
) -> None:
    """Whatever the trade date: here every contract is priced as of 2024-04-22."""
    assert source.option("NIFTY", expiry, 22000, CE, date(2024, 4, 22)).lot_size == lot


def test_option_when_same_trade_date_then_lot_follows_each_contracts_expiry(
    source: CalendarInstruments,
) -> None:
    """On 2024-04-22 the April contract still trades in 50s and the May one in 25s."""
    on = date(2024, 4, 22)
    assert source.option("NIFTY", date(2024, 4, 25), 22000, CE, on).lot_size == 50
    assert source.option("NIFTY", date(2024, 5, 2), 22000, CE, on).lot_size == 25
    # and a contract bought in November 2024 expiring in February 2025 has the new lot
    assert source.option("NIFTY", date(2025, 2, 27), 24000, PE, date(2024, 11, 25)).lot_size == 75


def test_option_when_built_then_every_fact_of_the_contract(source: CalendarInstruments) -> None:
    i = source.option("NIFTY", date(2024, 11, 28), 23500, CE, date(2024, 11, 25))
    assert i.symbol == "NIFTY28NOV2423500CE"
    assert (i.underlying, i.expiry, i.strike, i.kind) == ("NIFTY", date(2024, 11, 28), 23500, CE)
    assert i.tick_size == Decimal("0.05") and isinstance(i.tick_size, Decimal)
    assert i.freeze_qty == 1800 and i.exchange == "NFO"


@pytest.mark.parametrize(
    ("on", "freeze"),
    [
        (date(2024, 11, 25), 900),
        (date(2025, 5, 2), 600),
        (date(2025, 9, 15), 900),
        (date(2025, 10, 15), None),  # no verified figure for that month: unknown, not guessed
    ],
)
def test_option_when_banknifty_then_freeze_quantity_of_the_trade_date(
    source: CalendarInstruments, on: date, freeze: int | None
) -> None:
    expiry = source.expiries("BANKNIFTY", on)[0].date
    assert source.option("BANKNIFTY", expiry, 51000, PE, on).freeze_qty == freeze


def test_option_when_no_lot_size_known_for_the_expiry_then_calendar_error(
    source: CalendarInstruments,
) -> None:
    with pytest.raises(CalendarError, match="no lot_size is known for NIFTY contracts expiring"):
        source.option("NIFTY", date(2024, 4, 30), 22000, CE, date(2024, 4, 22))


def test_option_when_underlying_unknown_then_calendar_error(source: CalendarInstruments) -> None:
    with pytest.raises(CalendarError, match="unknown underlying 'SENSEX'"):
        source.option("SENSEX", date(2024, 11, 29), 80000, CE, date(2024, 11, 25))


@pytest.mark.parametrize(("underlying", "step"), [("NIFTY", 50), ("BANKNIFTY", 100)])
def test_strike_step_when_asked_then_from_the_facts(
    source: CalendarInstruments, underlying: str, step: int
) -> None:
    assert source.strike_step(underlying, date(2024, 6, 3)) == step


def test_expiries_when_asked_then_up_to_six_nearest_first(source: CalendarInstruments) -> None:
    got = source.expiries("NIFTY", date(2024, 3, 6))
    assert got == (
        ExpiryInfo(date(2024, 3, 7), "weekly"),
        ExpiryInfo(date(2024, 3, 14), "weekly"),
        ExpiryInfo(date(2024, 3, 21), "weekly"),
        ExpiryInfo(date(2024, 3, 28), "monthly"),
        ExpiryInfo(date(2024, 4, 4), "weekly"),
        ExpiryInfo(date(2024, 4, 10), "weekly"),  # Thursday 11 April is a holiday
    )


def test_expiries_when_banknifty_after_weeklies_then_monthlies_only(
    source: CalendarInstruments,
) -> None:
    got = source.expiries("BANKNIFTY", date(2024, 11, 14))
    assert got[0] == ExpiryInfo(date(2024, 11, 27), "monthly")
    assert {e.kind for e in got} == {"monthly"}


@pytest.mark.parametrize(
    ("underlying", "on", "weekly"),
    [
        ("NIFTY", date(2024, 11, 14), True),
        ("NIFTY", date(2026, 6, 1), True),
        ("BANKNIFTY", date(2024, 11, 13), True),
        ("BANKNIFTY", date(2024, 11, 14), False),
        ("FINNIFTY", date(2024, 11, 19), True),
        ("FINNIFTY", date(2024, 11, 20), False),
    ],
)
def test_weekly_available_when_asked_then_the_dated_fact(
    source: CalendarInstruments, underlying: str, on: date, weekly: bool
) -> None:
    assert source.weekly_available(underlying, on) is weekly
