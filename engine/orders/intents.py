"""Order intents and their idempotency keys.

The key is a hash of what makes a decision this decision: the rule, the underlying, the
contract, the side, the purpose, the quantity, the decision instant and the reason. The
same decision made again (a retry, or a restart that replays the journal) gives the same
key, which the order manager has already seen; a new decision gives a new key. Keys are
16 characters of base-32, so they fit SmartAPI's order tag (under 20 characters).

Limit prices are protected market-like orders: the last price plus (buy) or minus (sell)
a band, rounded away from the touch onto the contract's tick, never below one tick.
"""

from __future__ import annotations

import base64
import hashlib
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from engine.model.trading import Instrument, OrderIntent, OrderPurpose, OrderSide

__all__ = ["DEFAULT_LIMIT_BAND_PCT", "intent_key", "limit_price", "make_intent"]

#: How far beyond the last price a protected limit order is placed (0.5%).
DEFAULT_LIMIT_BAND_PCT = Decimal("0.5")


def intent_key(
    *,
    rule: str,
    underlying: str,
    symbol: str,
    side: str,
    purpose: str,
    qty: int,
    ts_decision: int,
    reason: str,
) -> str:
    text = "|".join((rule, underlying, symbol, side, purpose, str(qty), str(ts_decision), reason))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:16].lower()


def limit_price(
    last: Decimal, side: OrderSide, tick: Decimal, band_pct: Decimal = DEFAULT_LIMIT_BAND_PCT
) -> Decimal:
    """``last`` moved by ``band_pct`` against us, on the tick, at least one tick."""
    factor = (100 + band_pct) / 100 if side is OrderSide.BUY else (100 - band_pct) / 100
    raw = last * factor / tick
    steps = raw.to_integral_value(ROUND_CEILING if side is OrderSide.BUY else ROUND_FLOOR)
    return max(steps, Decimal(1)) * tick


def make_intent(
    *,
    rule: str,
    underlying: str,
    instrument: Instrument,
    side: OrderSide,
    purpose: OrderPurpose,
    qty: int,
    last: Decimal,
    ts_decision: int,
    reason: str,
    band_pct: Decimal = DEFAULT_LIMIT_BAND_PCT,
) -> OrderIntent:
    key = intent_key(
        rule=rule,
        underlying=underlying,
        symbol=instrument.symbol,
        side=side.value,
        purpose=purpose.value,
        qty=qty,
        ts_decision=ts_decision,
        reason=reason,
    )
    return OrderIntent(
        key=key,
        rule=rule,
        underlying=underlying,
        instrument=instrument,
        side=side,
        purpose=purpose,
        qty=qty,
        limit_price=limit_price(last, side, instrument.tick_size, band_pct),
        ts_decision=ts_decision,
        reason=reason,
    )
