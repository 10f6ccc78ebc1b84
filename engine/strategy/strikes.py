"""Which contract an entry buys: the expiry the rule names and the strike it selects.

ATM is ``round(ltp / step) * step`` (halves round up) with the strike step from the
contract facts in force that day; ``otm``/``itm`` move ``steps`` strikes away from the
money; ``premium`` takes the strike whose premium is closest to ``premium_inr``. The
expiry comes from the instrument source (the calendar in backtests):
``nearest_weekly`` and ``next_weekly`` need weekly contracts to exist for the underlying
on that date (BANKNIFTY's ended in November 2024), ``nearest_monthly`` takes the month's.
Premium bounds (``min_premium_inr``, ``max_premium_inr``) skip a contract outside them,
and ``min_volume`` one whose last completed minute traded less (a contract whose volume
is not known, as with modelled premiums, is skipped: a missing value never trades). With
``fallback: adjacent`` a skipped strike gives way to one strike either side, the one
nearer the underlying first; every strike tried is recorded with why it was skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine.errors import UserInputError
from engine.model.trading import Instrument, OptionKind
from engine.ports import ExpiryInfo, InstrumentSource

__all__ = ["NoWeeklyExpiryError", "StrikeChoice", "atm_strike", "choose_expiry", "choose_strike"]


class NoWeeklyExpiryError(UserInputError):
    """The rule asks for a weekly expiry the underlying does not have on a date."""


@dataclass(frozen=True, slots=True)
class StrikeChoice:
    instrument: Instrument | None  # None: nothing acceptable (see reason)
    premium: Decimal | None
    reason: str
    values: Mapping[str, Any]


def atm_strike(ltp: float, step: int) -> int:
    """The at-the-money strike: the nearest multiple of ``step`` (halves round up)."""
    # float() first: a numpy float is a float, but its repr is not a number Decimal reads
    halves = Decimal(repr(float(ltp))) / step + Decimal("0.5")
    return int(halves.to_integral_value(rounding="ROUND_FLOOR")) * step


def choose_expiry(
    mode: str, expiries: Sequence[ExpiryInfo], weekly_available: bool, underlying: str, on: date
) -> ExpiryInfo:
    """The expiry for ``mode``; NoWeeklyExpiryError when the rule asks for what does not exist."""
    if mode in ("nearest_weekly", "next_weekly"):
        if not weekly_available:
            raise NoWeeklyExpiryError(
                f"strikes.expiry '{mode}': {underlying} has no weekly options on "
                f"{on.isoformat()} (only monthly contracts); use 'nearest_monthly'"
            )
        index = 0 if mode == "nearest_weekly" else 1
        if len(expiries) <= index:
            raise NoWeeklyExpiryError(
                f"strikes.expiry '{mode}': no such {underlying} expiry is known after {on}"
            )
        return expiries[index]
    monthly = [e for e in expiries if e.kind == "monthly"]
    if not monthly:
        raise NoWeeklyExpiryError(f"no monthly {underlying} expiry is known after {on}")
    return monthly[0]


def choose_strike(
    strikes: Mapping[str, Any],
    *,
    underlying: str,
    kind: OptionKind,
    ltp: float,
    expiry: ExpiryInfo,
    on: date,
    instruments: InstrumentSource,
    premium_of: Callable[[int], Decimal | None],
    volume_of: Callable[[int], float | None] | None = None,
) -> StrikeChoice:
    step = instruments.strike_step(underlying, on)
    atm = atm_strike(ltp, step)
    select = strikes.get("select", "atm")
    values: dict[str, Any] = {
        "ltp": ltp,
        "step": step,
        "atm": atm,
        "select": select,
        "expiry": expiry.date.isoformat(),
        "expiry_kind": expiry.kind,
    }
    strike = _selected(strikes, select, atm, step, kind, premium_of, values)
    candidates = [strike]
    if strikes.get("fallback", "none") == "adjacent":
        candidates += sorted((strike - step, strike + step), key=lambda k: (abs(k - ltp), k))
    tried: list[dict[str, Any]] = []
    reason = ""
    premium: Decimal | None = None
    for candidate in candidates:
        premium, reason, facts = _acceptable(strikes, candidate, premium_of, volume_of)
        if len(candidates) > 1:
            tried.append({"strike": candidate, **facts, "skipped": reason})
        if not reason:
            strike = candidate
            break
    if tried:
        values["tried"] = tried
    values["strike"] = strike
    if premium is not None:
        values["premium"] = str(premium)
    if reason:
        for key in ("min_premium_inr", "max_premium_inr", "min_volume"):
            if key in strikes and key in reason:
                values[key] = strikes[key]
        return StrikeChoice(None, premium, reason, values)
    instrument = instruments.option(underlying, expiry.date, strike, kind, on)
    values["symbol"] = instrument.symbol
    return StrikeChoice(instrument, premium, "", values)


def _selected(
    strikes: Mapping[str, Any],
    select: str,
    atm: int,
    step: int,
    kind: OptionKind,
    premium_of: Callable[[int], Decimal | None],
    values: dict[str, Any],
) -> int:
    """The strike ``select`` names, before any bound or fallback."""
    steps = int(strikes.get("steps", 0) or 0)
    away = 1 if kind is OptionKind.CE else -1  # out of the money: above for calls
    if select == "otm":
        strike = atm + away * steps * step
    elif select == "itm":
        strike = atm - away * steps * step
    elif select == "premium":
        target = Decimal(str(strikes["premium_inr"]))
        best: tuple[Decimal, int] | None = None
        for k in range(-20, 21):
            candidate = atm + k * step
            p = premium_of(candidate)
            if p is not None and (best is None or abs(p - target) < best[0]):
                best = (abs(p - target), candidate)
        strike = best[1] if best is not None else atm
        values["premium_target"] = str(target)
    else:
        strike = atm
    return strike


def _acceptable(
    strikes: Mapping[str, Any],
    strike: int,
    premium_of: Callable[[int], Decimal | None],
    volume_of: Callable[[int], float | None] | None,
) -> tuple[Decimal | None, str, dict[str, Any]]:
    """(premium, why the strike is skipped or '', the facts read) for one strike."""
    premium = premium_of(strike)
    facts: dict[str, Any] = {"premium": None if premium is None else str(premium)}
    if premium is None:
        return None, "no premium for the contract", facts
    low, high = strikes.get("min_premium_inr"), strikes.get("max_premium_inr")
    if low is not None and premium < Decimal(str(low)):
        return premium, "premium below min_premium_inr", facts
    if high is not None and premium > Decimal(str(high)):
        return premium, "premium above max_premium_inr", facts
    least = strikes.get("min_volume")
    if least is not None:
        volume = volume_of(strike) if volume_of is not None else None
        facts["volume"] = volume
        if volume is None:
            return premium, "no volume known for the contract (min_volume)", facts
        if volume < least:
            return premium, "volume below min_volume", facts
    return premium, "", facts
