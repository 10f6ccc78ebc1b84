"""The pre-order risk checks: each returns a ``CheckResult`` with the values it compared.

Every check runs before every entry order and all results go to the journal, passed or
not (the first failure does not hide the others), so "why was this order refused?" and
"what did the checks see?" both have answers. Codes are stable ``SCREAMING_SNAKE``
strings. An exit is never refused by a risk check: closing risk is always allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.model.trading import OrderIntent

__all__ = ["CHECKS", "FAT_FINGER_CHECKS", "CheckResult", "RiskState", "run_checks"]


#: Checks whose failure means the engine built a wildly wrong order (a price far off the
#: market, a quantity above the exchange's freeze limit): a fat finger, which pulls the
#: kill switch rather than only refusing the one order.
FAT_FINGER_CHECKS = frozenset({"PRICE_BAND", "FREEZE_QUANTITY"})


@dataclass(frozen=True, slots=True)
class CheckResult:
    code: str
    passed: bool
    values: Mapping[str, Any]

    def to_record(self) -> dict[str, Any]:
        return {"code": self.code, "passed": self.passed, "values": dict(self.values)}


@dataclass(frozen=True, slots=True)
class RiskState:
    """What the checks compare an intent with, gathered by the runtime at decision time."""

    open_positions: int  # across every rule and underlying
    max_open_positions: int | None  # the rule's limit, lowered by any machine's cap
    side_held_on_underlying: str  # "CE", "PE" or "none" (open and working entries, all rules)
    trades_today: int  # entries made today by this rule
    max_trades_per_day: int | None
    day_pnl: Decimal
    capital: Decimal
    max_loss_per_day_pct: float | None
    max_premium_per_order: Decimal | None
    last_price: Decimal  # the contract's price the limit was derived from
    price_band_pct: float
    entries_allowed: bool  # session entry window, no breaker tripped, kill switch armed
    blocked_by: str  # which machine states block entries ("" when none)
    positions_on_underlying: int = 0  # other rules' open positions and working entries here
    max_positions_per_underlying: int | None = 1  # the portfolio's limit across rule files


def _max_positions(i: OrderIntent, s: RiskState) -> CheckResult:
    limit = s.max_open_positions
    ok = limit is None or s.open_positions < limit
    return CheckResult("MAX_OPEN_POSITIONS", ok, {"open": s.open_positions, "limit": limit})


def _per_underlying(i: OrderIntent, s: RiskState) -> CheckResult:
    """CE and PE are never held together on one underlying (open or being entered)."""
    held = s.side_held_on_underlying
    ok = held in ("none", i.instrument.kind.value)
    return CheckResult(
        "OPPOSITE_SIDE_HELD",
        ok,
        {"underlying": i.underlying, "held": held, "wanted": i.instrument.kind.value},
    )


def _one_per_underlying(i: OrderIntent, s: RiskState) -> CheckResult:
    """The portfolio's limit on positions per underlying, across every rule file: two rule
    files on NIFTY do not both hold it (CE and PE apart are OPPOSITE_SIDE_HELD's job)."""
    limit = s.max_positions_per_underlying
    held = s.positions_on_underlying
    ok = limit is None or held < limit
    return CheckResult(
        "POSITIONS_PER_UNDERLYING",
        ok,
        {"underlying": i.underlying, "held": held, "limit": limit},
    )


def _lot_multiple(i: OrderIntent, s: RiskState) -> CheckResult:
    lot = i.instrument.lot_size
    return CheckResult(
        "LOT_MULTIPLE", i.qty > 0 and i.qty % lot == 0, {"qty": i.qty, "lot_size": lot}
    )


def _tick_size(i: OrderIntent, s: RiskState) -> CheckResult:
    tick = i.instrument.tick_size
    ok = i.limit_price > 0 and i.limit_price % tick == 0
    return CheckResult("TICK_SIZE", ok, {"price": str(i.limit_price), "tick": str(tick)})


def _freeze_qty(i: OrderIntent, s: RiskState) -> CheckResult:
    freeze = i.instrument.freeze_qty
    ok = freeze is None or i.qty <= freeze
    return CheckResult("FREEZE_QUANTITY", ok, {"qty": i.qty, "freeze_qty": freeze})


def _price_band(i: OrderIntent, s: RiskState) -> CheckResult:
    last = s.last_price
    band = Decimal(str(s.price_band_pct))
    off = abs(i.limit_price - last) / last * 100 if last > 0 else Decimal(0)
    return CheckResult(
        "PRICE_BAND",
        last > 0 and off <= band,
        {
            "price": str(i.limit_price),
            "last": str(last),
            "off_pct": round(float(off), 4),
            "band_pct": s.price_band_pct,
        },
    )


def _premium_cap(i: OrderIntent, s: RiskState) -> CheckResult:
    outlay = i.limit_price * i.qty
    cap = s.max_premium_per_order
    return CheckResult(
        "MAX_PREMIUM_PER_ORDER",
        cap is None or outlay <= cap,
        {"outlay": str(outlay), "limit": None if cap is None else str(cap)},
    )


def _daily_loss(i: OrderIntent, s: RiskState) -> CheckResult:
    pct = float(s.day_pnl / s.capital * 100) if s.capital else 0.0
    limit = s.max_loss_per_day_pct
    return CheckResult(
        "MAX_LOSS_PER_DAY",
        limit is None or pct > -limit,
        {"day_pnl": str(s.day_pnl), "day_pnl_pct": round(pct, 4), "limit_pct": limit},
    )


def _trades_per_day(i: OrderIntent, s: RiskState) -> CheckResult:
    limit = s.max_trades_per_day
    return CheckResult(
        "MAX_TRADES_PER_DAY",
        limit is None or s.trades_today < limit,
        {"trades_today": s.trades_today, "limit": limit},
    )


def _machines(i: OrderIntent, s: RiskState) -> CheckResult:
    return CheckResult("ENTRIES_ALLOWED", s.entries_allowed, {"blocked_by": s.blocked_by or None})


CHECKS: tuple[Callable[[OrderIntent, RiskState], CheckResult], ...] = (
    _machines,
    _max_positions,
    _per_underlying,
    _one_per_underlying,
    _trades_per_day,
    _daily_loss,
    _lot_multiple,
    _tick_size,
    _freeze_qty,
    _price_band,
    _premium_cap,
)


def run_checks(intent: OrderIntent, state: RiskState) -> list[CheckResult]:
    """Every check, in order; the intent may go only if all passed."""
    return [check(intent, state) for check in CHECKS]
