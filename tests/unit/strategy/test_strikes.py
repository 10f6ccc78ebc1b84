"""Strike and expiry selection over the real calendar and real option premiums.

Premiums are the real NIFTY June 2023 monthly contract's 1-minute closes at 10:00 IST on
2023-06-05 (nifty_options_1m_2023-06-05.csv); the spot is that day's official open,
18,612.00, so the ATM strike is 18,600. Around it (the 09:59 bar's close):

    strike   CE       PE
    18500    313.65   107.30
    18550    281.00   122.15
    18600    246.20   138.40
    18650    214.50   156.20
    18700    184.85   176.60
    18750    158.15   198.50
    18800    133.00   223.70
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data.calendar import Calendar
from engine.data.instruments import CalendarInstruments
from engine.errors import UserInputError
from engine.model.market import to_ns
from engine.model.trading import OptionKind
from engine.ports import ExpiryInfo
from engine.pricing.option_bars import read_option_bars
from engine.pricing.premiums import MarketPremiums
from engine.strategy.strikes import NoWeeklyExpiryError, atm_strike, choose_expiry, choose_strike
from engine.timeutil import IST

D = Decimal
CE, PE = OptionKind.CE, OptionKind.PE
DAY = date(2023, 6, 5)
EXPIRY = ExpiryInfo(date(2023, 6, 29), "monthly")
SPOT = 18612.00
AT = to_ns(datetime(2023, 6, 5, 10, 0, tzinfo=IST))


@pytest.fixture(scope="module")
def instruments() -> CalendarInstruments:
    return CalendarInstruments(Calendar.default())


@pytest.fixture(scope="module")
def market(market_dir: Path) -> MarketPremiums:
    bars = read_option_bars(
        market_dir / "nifty_options_1m_2023-06-05.csv", expiries={"2023-06 monthly": EXPIRY.date}
    )
    return MarketPremiums(bars)


def premiums(market: MarketPremiums, kind: OptionKind) -> Callable[[int], Decimal | None]:
    def of(strike: int) -> Decimal | None:
        quote = market.premium(AT, "NIFTY", SPOT, strike, kind.value, EXPIRY.date)
        return None if quote is None else quote.price

    return of


def choose(
    strikes: dict[str, Any],
    kind: OptionKind,
    instruments: CalendarInstruments,
    market: MarketPremiums,
    ltp: float = SPOT,
):  # type: ignore[no-untyped-def]
    return choose_strike(
        strikes,
        underlying="NIFTY",
        kind=kind,
        ltp=ltp,
        expiry=EXPIRY,
        on=DAY,
        instruments=instruments,
        premium_of=premiums(market, kind),
    )


# -- ATM ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ltp", "step", "atm"),
    [
        (22025.0, 50, 22050),  # a half rounds up
        (22024.99, 50, 22000),
        (22025, 50, 22050),  # an int
        (22075.0, 50, 22100),  # halves round up, not to even
        (21975.0, 50, 22000),
        (22000.0, 50, 22000),
        (22049.99, 50, 22050),
        (47150.0, 100, 47200),  # BANKNIFTY steps of 100
        (47149.95, 100, 47100),
        (0.1 + 22024.8, 50, 22000),  # 22024.899999999998 is not a half
    ],
)
def test_atm_strike_when_ltp_given_then_nearest_step_halves_up(
    ltp: float, step: int, atm: int
) -> None:
    assert atm_strike(ltp, step) == atm


def test_atm_strike_when_ltp_is_a_numpy_float_then_same_as_a_python_float() -> None:
    """A numpy float is a float: a price from a numpy column must not crash the strike."""
    assert atm_strike(np.float64(22025.0), 50) == 22050
    assert atm_strike(np.float64(22024.99), 50) == 22000


# -- strikes --------------------------------------------------------------------------------


def test_choose_strike_when_atm_then_contract_of_the_atm_strike(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    c = choose({"select": "atm"}, CE, instruments, market)
    assert c.instrument is not None and c.reason == ""
    assert c.instrument.symbol == "NIFTY29JUN2318600CE"
    assert (c.instrument.strike, c.instrument.lot_size, c.instrument.tick_size) == (
        18600,
        50,
        D("0.05"),
    )
    assert c.premium == D("246.20")
    assert c.values == {
        "ltp": SPOT,
        "step": 50,
        "atm": 18600,
        "select": "atm",
        "expiry": "2023-06-29",
        "expiry_kind": "monthly",
        "strike": 18600,
        "premium": "246.20",
        "symbol": "NIFTY29JUN2318600CE",
    }


def test_choose_strike_when_no_select_then_atm(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    assert choose({}, PE, instruments, market).values["strike"] == 18600


@pytest.mark.parametrize(
    ("select", "kind", "steps", "strike", "premium"),
    [
        ("otm", CE, 2, 18700, "184.85"),  # calls: out of the money above the spot
        ("otm", PE, 2, 18500, "107.30"),  # puts: below it
        ("itm", CE, 1, 18550, "281.00"),
        ("itm", PE, 1, 18650, "156.20"),
        ("otm", CE, 0, 18600, "246.20"),
    ],
)
def test_choose_strike_when_otm_or_itm_then_steps_away_in_the_kinds_direction(
    instruments: CalendarInstruments,
    market: MarketPremiums,
    select: str,
    kind: OptionKind,
    steps: int,
    strike: int,
    premium: str,
) -> None:
    c = choose({"select": select, "steps": steps}, kind, instruments, market)
    assert c.instrument is not None
    assert c.instrument.strike == strike and c.instrument.kind is kind
    assert c.premium == D(premium)


def test_choose_strike_when_otm_premium_cheaper_than_itm_then_direction_is_right(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    for kind in (CE, PE):
        otm = choose({"select": "otm", "steps": 1}, kind, instruments, market)
        itm = choose({"select": "itm", "steps": 1}, kind, instruments, market)
        assert otm.premium is not None and itm.premium is not None
        assert otm.premium < itm.premium


@pytest.mark.parametrize(
    ("kind", "target", "strike", "premium"),
    [
        (CE, 150, 18750, "158.15"),  # 158.15 is 8.15 away; 133.00 is 17.00 away
        (PE, 150, 18650, "156.20"),  # 156.20 is 6.20 away; 138.40 is 11.60 away
        (CE, 246.2, 18600, "246.20"),  # exactly a premium
        (CE, 300, 18500, "313.65"),  # 313.65 is 13.65 away, 281.00 is 19.00
    ],
)
def test_choose_strike_when_premium_select_then_strike_with_closest_premium(
    instruments: CalendarInstruments,
    market: MarketPremiums,
    kind: OptionKind,
    target: float,
    strike: int,
    premium: str,
) -> None:
    c = choose({"select": "premium", "premium_inr": target}, kind, instruments, market)
    assert c.instrument is not None and c.instrument.strike == strike
    assert c.premium == D(premium)
    assert c.values["premium_target"] == str(target)


def test_choose_strike_when_premium_select_and_no_premium_anywhere_then_nothing(
    instruments: CalendarInstruments,
) -> None:
    c = choose_strike(
        {"select": "premium", "premium_inr": 100},
        underlying="NIFTY",
        kind=CE,
        ltp=SPOT,
        expiry=EXPIRY,
        on=DAY,
        instruments=instruments,
        premium_of=lambda strike: None,
    )
    assert c.instrument is None and c.premium is None
    assert c.reason == "no premium for the contract"


def test_choose_strike_when_strike_has_no_premium_then_nothing_with_reason(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    c = choose({"select": "otm", "steps": 40}, CE, instruments, market)  # 20600: not listed
    assert c.instrument is None and c.reason == "no premium for the contract"
    assert c.values["strike"] == 20600


def test_choose_strike_when_premium_below_min_then_skipped_with_values(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    c = choose({"select": "otm", "steps": 2, "min_premium_inr": 200}, CE, instruments, market)
    assert c.instrument is None and c.premium == D("184.85")
    assert c.reason == "premium below min_premium_inr"
    assert c.values["min_premium_inr"] == 200


def test_choose_strike_when_premium_above_max_then_skipped_with_values(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    c = choose({"select": "atm", "max_premium_inr": 200}, CE, instruments, market)
    assert c.instrument is None and c.premium == D("246.20")
    assert c.reason == "premium above max_premium_inr"
    assert c.values["max_premium_inr"] == 200


def test_choose_strike_when_premium_within_bounds_then_taken(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    bounds = {"min_premium_inr": 184.85, "max_premium_inr": 184.85}  # inclusive both ends
    c = choose({"select": "otm", "steps": 2, **bounds}, CE, instruments, market)
    assert c.instrument is not None and c.premium == D("184.85")


# -- expiries -------------------------------------------------------------------------------


def expiry_for(
    instruments: CalendarInstruments, mode: str, underlying: str, on: date
) -> ExpiryInfo:
    return choose_expiry(
        mode,
        instruments.expiries(underlying, on),
        instruments.weekly_available(underlying, on),
        underlying,
        on,
    )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("nearest_weekly", ExpiryInfo(date(2024, 3, 7), "weekly")),
        ("next_weekly", ExpiryInfo(date(2024, 3, 14), "weekly")),
        ("nearest_monthly", ExpiryInfo(date(2024, 3, 28), "monthly")),
    ],
)
def test_choose_expiry_when_nifty_in_march_2024_then_calendar_expiries(
    instruments: CalendarInstruments, mode: str, expected: ExpiryInfo
) -> None:
    assert expiry_for(instruments, mode, "NIFTY", date(2024, 3, 6)) == expected


def test_choose_expiry_when_nifty_weekly_moved_to_tuesday_then_tuesday(
    instruments: CalendarInstruments,
) -> None:
    got = expiry_for(instruments, "nearest_weekly", "NIFTY", date(2025, 9, 1))
    assert got == ExpiryInfo(date(2025, 9, 2), "weekly")
    assert got.date.strftime("%a") == "Tue"


def test_choose_expiry_when_banknifty_last_weekly_day_then_weekly_allowed(
    instruments: CalendarInstruments,
) -> None:
    got = expiry_for(instruments, "nearest_weekly", "BANKNIFTY", date(2024, 11, 13))
    assert got == ExpiryInfo(date(2024, 11, 13), "weekly")


@pytest.mark.parametrize("on", [date(2024, 11, 14), date(2025, 3, 3), date(2026, 6, 1)])
@pytest.mark.parametrize("mode", ["nearest_weekly", "next_weekly"])
def test_choose_expiry_when_banknifty_weekly_on_or_after_2024_11_14_then_refused(
    instruments: CalendarInstruments, on: date, mode: str
) -> None:
    assert not instruments.weekly_available("BANKNIFTY", on)
    with pytest.raises(NoWeeklyExpiryError) as info:
        expiry_for(instruments, mode, "BANKNIFTY", on)
    assert isinstance(info.value, UserInputError)  # a user's mistake: exit 2, no traceback
    message = str(info.value)
    assert f"'{mode}'" in message and "BANKNIFTY" in message and on.isoformat() in message
    assert "nearest_monthly" in message


def test_choose_expiry_when_banknifty_monthly_after_weeklies_ended_then_month_end(
    instruments: CalendarInstruments,
) -> None:
    got = expiry_for(instruments, "nearest_monthly", "BANKNIFTY", date(2024, 11, 14))
    assert got == ExpiryInfo(date(2024, 11, 27), "monthly")


def test_choose_expiry_when_list_too_short_then_refused_cleanly() -> None:
    only = [ExpiryInfo(date(2026, 12, 29), "monthly")]
    with pytest.raises(NoWeeklyExpiryError, match="no such NIFTY expiry"):
        choose_expiry("next_weekly", only, True, "NIFTY", date(2026, 12, 28))
    with pytest.raises(NoWeeklyExpiryError, match="no monthly NIFTY expiry"):
        choose_expiry("nearest_monthly", [], True, "NIFTY", date(2026, 12, 28))


def test_choose_expiry_when_weekly_and_monthly_coincide_then_monthly_counts_as_nearest(
    instruments: CalendarInstruments,
) -> None:
    got = expiry_for(instruments, "nearest_weekly", "NIFTY", date(2024, 3, 27))
    assert got == ExpiryInfo(date(2024, 3, 28), "monthly")


# -- liquidity and the adjacent-strike fallback ---------------------------------------------


def volumes(market: MarketPremiums, kind: OptionKind) -> Callable[[int], float | None]:
    def of(strike: int) -> float | None:
        quote = market.premium(AT, "NIFTY", SPOT, strike, kind.value, EXPIRY.date)
        return None if quote is None else float(quote.inputs["volume"])  # type: ignore[arg-type]

    return of


def choose_liquid(strikes, kind, instruments, market, ltp, volume_of=None):  # type: ignore[no-untyped-def]
    return choose_strike(
        strikes,
        underlying="NIFTY",
        kind=kind,
        ltp=ltp,
        expiry=EXPIRY,
        on=DAY,
        instruments=instruments,
        premium_of=premiums(market, kind),
        volume_of=volume_of if volume_of is not None else volumes(market, kind),
    )


def test_min_volume_when_atm_traded_too_little_then_skipped_with_its_volume(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    # 18560 -> ATM 18550; its PE traded 250 in the 09:59 minute
    choice = choose_liquid({"min_volume": 1000}, PE, instruments, market, 18560.0)
    assert choice.instrument is None and choice.reason == "volume below min_volume"
    assert choice.values["strike"] == 18550 and choice.values["min_volume"] == 1000


def test_fallback_adjacent_when_atm_illiquid_then_the_nearer_neighbour_that_trades(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    choice = choose_liquid(
        {"min_volume": 1000, "fallback": "adjacent"}, PE, instruments, market, 18560.0
    )
    assert choice.instrument is not None and choice.instrument.strike == 18600
    assert choice.premium == D("138.40")
    assert choice.values["tried"] == [
        {
            "strike": 18550,
            "premium": "122.15",
            "volume": 250.0,
            "skipped": "volume below min_volume",
        },
        {"strike": 18600, "premium": "138.40", "volume": 15150.0, "skipped": ""},
    ]  # 18600 is 40 from the underlying, 18500 is 60: the nearer is tried first


def test_fallback_adjacent_when_no_neighbour_trades_enough_then_nothing_with_every_try(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    choice = choose_liquid(
        {"min_volume": 20000, "fallback": "adjacent"}, PE, instruments, market, 18560.0
    )
    assert choice.instrument is None and choice.reason == "volume below min_volume"
    assert [t["strike"] for t in choice.values["tried"]] == [18550, 18600, 18500]


def test_min_volume_when_premiums_are_modelled_then_no_volume_known_never_trades(
    instruments: CalendarInstruments, market: MarketPremiums
) -> None:
    choice = choose_liquid(
        {"min_volume": 1}, CE, instruments, market, SPOT, volume_of=lambda strike: None
    )
    assert choice.instrument is None
    assert choice.reason == "no volume known for the contract (min_volume)"
