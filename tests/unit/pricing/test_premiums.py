"""Modelled, market and chained premiums: timing, inputs recorded, ticks and fall-backs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from engine.model.market import to_ns
from engine.money import is_on_tick, round_to_tick
from engine.pricing.black_scholes import bs_price
from engine.pricing.option_bars import OptionBar, read_option_bars
from engine.pricing.premiums import (
    DEFAULT_RATE,
    YEAR_SECONDS,
    BlackScholesPremiums,
    ChainedPremiums,
    DailyVixSource,
    MarketPremiums,
    Quote,
)
from engine.timeutil import IST

JUNE_2023 = date(2023, 6, 28)


def ist(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, s, tzinfo=IST))


@pytest.fixture(scope="module")
def vix(market_dir: Path) -> DailyVixSource:
    return DailyVixSource.from_csv(market_dir / "india_vix_daily_2012_2026.csv")


@pytest.fixture(scope="module")
def market(market_dir: Path) -> MarketPremiums:
    bars = read_option_bars(
        market_dir / "nifty_options_1m_2023-06-05.csv", expiries={"2023-06 monthly": JUNE_2023}
    )
    return MarketPremiums(bars)


def test_model_when_expiry_in_calendar_then_time_to_its_close_and_inputs_recorded(
    vix: DailyVixSource,
) -> None:
    model = BlackScholesPremiums(vix)
    ts = ist(2024, 6, 20, 10, 0)
    quote = model.premium(ts, "NIFTY", 23500.0, 23600.0, "CE", date(2024, 6, 27))
    assert quote is not None and quote.source == "model"
    # 2024-06-20 10:00 -> 2024-06-27 15:30 IST: 7 days 5.5 hours = 624,600 s; / 31,536,000.
    t = 624_600 / YEAR_SECONDS
    assert quote.inputs["t_years"] == pytest.approx(t, rel=1e-12)
    assert quote.inputs["expiry_close"] == "2024-06-27T15:30:00+05:30"
    assert quote.inputs["expiry_close_source"] == "calendar"
    # VIX of the previous session, 2024-06-19: 13.7125 -> vol 0.137125.
    assert quote.inputs["vix"] == 13.7125 and quote.inputs["vol"] == pytest.approx(0.137125)
    assert quote.inputs["rate"] == DEFAULT_RATE == 0.065
    raw = bs_price(23500.0, 23600.0, t, 0.137125, 0.065, "CE")
    assert quote.inputs["model_price"] == pytest.approx(raw)
    assert quote.price == round_to_tick(raw) and is_on_tick(quote.price)
    assert quote.price.as_tuple().exponent == -2


def test_model_when_derivatives_close_moved_to_1540_then_calendar_close_used(
    vix: DailyVixSource,
) -> None:
    model = BlackScholesPremiums(vix)
    quote = model.premium(
        ist(2026, 7, 31, 10, 0), "NIFTY", 25000.0, 25000.0, "PE", date(2026, 8, 4)
    )
    assert quote is not None
    assert quote.inputs["expiry_close"] == "2026-08-04T15:40:00+05:30"


def test_model_when_expiry_outside_calendar_then_1530_assumed_and_said(
    vix: DailyVixSource,
) -> None:
    model = BlackScholesPremiums(vix)
    far = date(2040, 6, 28)  # beyond what the calendar answers, even provisionally
    quote = model.premium(ist(2023, 6, 5, 10, 0), "NIFTY", 18600.0, 18600.0, "CE", far)
    assert quote is not None
    assert quote.inputs["expiry_close"] == "2040-06-28T15:30:00+05:30"
    assert quote.inputs["expiry_close_source"] == (
        "15:30 IST assumed (2040-06-28 is outside the calendar (2009-01-01 .. 2036-12-31))"
    )
    holiday = model.premium(
        ist(2024, 6, 20, 10, 0), "NIFTY", 23500.0, 23500.0, "CE", date(2024, 6, 29)
    )
    assert holiday is not None
    assert holiday.inputs["expiry_close_source"] == (
        "15:30 IST assumed (2024-06-29 is not a session in the calendar)"
    )


def test_model_when_past_expiry_then_intrinsic_floored_at_one_tick(vix: DailyVixSource) -> None:
    model = BlackScholesPremiums(vix)
    after = ist(2024, 6, 27, 15, 45)
    itm = model.premium(after, "NIFTY", 23650.0, 23600.0, "CE", date(2024, 6, 27))
    otm = model.premium(after, "NIFTY", 23650.0, 23600.0, "PE", date(2024, 6, 27))
    assert itm is not None and otm is not None
    assert itm.price == Decimal("50.00") and itm.inputs["t_years"] == 0.0
    assert otm.price == Decimal("0.05")  # worthless, but nothing trades below one tick


def test_model_when_no_vix_then_no_quote_and_bad_kind_refused(vix: DailyVixSource) -> None:
    model = BlackScholesPremiums(vix)
    assert (
        model.premium(ist(2011, 6, 1, 10, 0), "NIFTY", 5500.0, 5500.0, "CE", date(2011, 6, 30))
        is None
    )
    with pytest.raises(ValueError, match="CE or PE"):
        model.premium(ist(2024, 6, 20, 10, 0), "NIFTY", 23500.0, 23500.0, "CALL", date(2024, 6, 27))


def test_market_when_bar_completes_then_its_close_is_the_premium(market: MarketPremiums) -> None:
    # NIFTY23JUN18600CE: the 09:15 bar closes 243.00, the 09:16 bar 247.50.
    args = ("NIFTY", 18612.0, 18600.0, "CE", JUNE_2023)
    assert market.premium(ist(2023, 6, 5, 9, 15, 59), *args) is None
    first = market.premium(ist(2023, 6, 5, 9, 16), *args)
    assert first == Quote(
        Decimal("243.00"),
        "market",
        {
            "symbol": "NIFTY23JUN18600CE",
            "bar_start": "2023-06-05T09:15:00+05:30",
            "age_s": 0.0,
            "volume": 84700,
            "spot": 18612.0,
        },
    )
    later = market.premium(ist(2023, 6, 5, 9, 17), *args)
    assert later is not None and later.price == Decimal("247.50")


def test_market_when_bar_at_then_the_bar_covering_the_instant(market: MarketPremiums) -> None:
    bar = market.bar_at(ist(2023, 6, 5, 9, 16), 18600, "CE", JUNE_2023)
    assert bar is not None and (bar.open, bar.high, bar.low) == (
        Decimal("244.60"), Decimal("250.60"), Decimal("244.00"),
    )  # fmt: skip
    assert market.bar_at(ist(2023, 6, 5, 9, 16, 59), 18600, "CE", JUNE_2023) == bar
    assert market.bar_at(ist(2023, 6, 5, 10, 16), 18600, "CE", JUNE_2023) is None  # after the file
    assert market.bar_at(ist(2023, 6, 5, 9, 16), 18625, "CE", JUNE_2023) is None  # no such strike


def test_market_when_other_day_or_unknown_contract_then_no_quote(market: MarketPremiums) -> None:
    assert (
        market.premium(ist(2023, 6, 6, 9, 30), "NIFTY", 18600.0, 18600.0, "CE", JUNE_2023) is None
    )
    assert (
        market.premium(ist(2023, 6, 5, 9, 30), "BANKNIFTY", 18600.0, 18600.0, "CE", JUNE_2023)
        is None
    )
    assert (
        market.premium(ist(2023, 6, 5, 9, 30), "NIFTY", 18600.0, 18600.0, "CE", date(2023, 7, 27))
        is None
    )


def test_market_when_last_bar_too_old_then_no_quote() -> None:
    d = Decimal("100.00")
    start = ist(2024, 6, 20, 10, 0)
    bar = OptionBar(
        start, "NIFTY", "NIFTY24JUN23500CE", date(2024, 6, 27), Decimal(23500), "CE", d, d, d, d, 10
    )
    market = MarketPremiums([bar], max_age_s=300)
    args = ("NIFTY", 23500.0, 23500.0, "CE", date(2024, 6, 27))
    assert market.premium(start + 360 * 10**9, *args) is not None  # ended 10:01, asked 10:06
    assert market.premium(start + 361 * 10**9, *args) is None


def test_market_when_two_underlyings_share_a_strike_then_bar_at_needs_the_name() -> None:
    d = Decimal("1.00")
    start = ist(2024, 6, 20, 10, 0)
    expiry = date(2024, 6, 27)
    bars = [
        OptionBar(start, u, f"{u}X", expiry, Decimal(50000), "CE", d, d, d, d, 1)
        for u in ("BANKNIFTY", "NIFTY")
    ]
    market = MarketPremiums(bars)
    with pytest.raises(ValueError, match="BANKNIFTY, NIFTY"):
        market.bar_at(start, 50000, "CE", expiry)
    found = market.bar_at(start, 50000, "CE", expiry, underlying="nifty")
    assert found is not None and found.underlying == "NIFTY"


def test_chained_when_market_has_a_bar_then_market_else_model(
    market: MarketPremiums, vix: DailyVixSource
) -> None:
    chained = ChainedPremiums(market, BlackScholesPremiums(vix))
    ts = ist(2023, 6, 5, 9, 30)
    real = chained.premium(ts, "NIFTY", 18600.0, 18600.0, "CE", JUNE_2023)
    assert real is not None and real.source == "market"
    # NIFTY23JUN17750CE has no bar before 09:54: the model answers.
    modelled = chained.premium(ts, "NIFTY", 18600.0, 17750.0, "CE", JUNE_2023)
    assert modelled is not None and modelled.source == "model"
    assert modelled.inputs["strike"] == 17750.0
    after = chained.premium(ist(2023, 6, 5, 9, 56), "NIFTY", 18600.0, 17750.0, "CE", JUNE_2023)
    assert after is not None and after.source == "market"
