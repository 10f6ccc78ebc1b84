"""Money in paise and prices on the exchange's tick grid, computed exactly.

Binary floats cannot hold 0.05 or 0.10, so a premium that drifted to 123.44999999 would be
rejected by the exchange (tick 0.05) or booked a paisa off. Everything that ends up in an
order, a fill or a P&L line passes through here: amounts become whole paise (``int``) or
``Decimal`` rupees, and prices are snapped to the tick by integer arithmetic, never by
float division. A float coming from a data file or a model is read through ``repr`` (the
shortest text that round-trips), so ``123.45`` is ``Decimal("123.45")``, not the binary
value's 50-digit expansion.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

__all__ = [
    "PAISE_PER_RUPEE",
    "TICK",
    "as_decimal",
    "from_paise",
    "is_on_tick",
    "round_to_tick",
    "to_paise",
]

PAISE_PER_RUPEE = 100
#: The NSE option price step (rupees); contract facts may name another.
TICK = Decimal("0.05")

_PAISA = Decimal("0.01")
_MODES = ("nearest", "up", "down")


def as_decimal(x: Decimal | float | int | str, what: str = "value") -> Decimal:
    """``x`` as a finite Decimal: exact for Decimal, int and str; a float through ``repr``."""
    if isinstance(x, bool):
        raise TypeError(f"{what} must be a number, not a bool ({x!r})")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        d = Decimal(repr(x))
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise ValueError(f"{what} '{x}' is not a number") from None
    else:
        raise TypeError(f"{what} must be a Decimal, float, int or str, not {type(x).__name__}")
    if not d.is_finite():
        raise ValueError(f"{what} must be a finite number; it was {x!r}")
    return d


def to_paise(x: Decimal | float | int | str) -> int:
    """Rupees to whole paise, half-even at the paisa (banker's rounding: no drift in sums)."""
    d = as_decimal(x, "amount")
    return int(d.quantize(_PAISA, rounding=ROUND_HALF_EVEN).scaleb(2))


def from_paise(p: int) -> Decimal:
    """Whole paise to rupees with exactly two decimal places (``150`` -> ``Decimal("1.50")``)."""
    if isinstance(p, bool) or not isinstance(p, int):
        raise TypeError(f"paise must be an int, not {type(p).__name__}")
    return Decimal(p).scaleb(-2)


def _scaled(price: Decimal, tick: Decimal) -> tuple[int, int, int]:
    """Price and tick as integers on their common exponent: (price, tick, exponent)."""
    exp = min(_exponent(price), _exponent(tick))
    return int(price.scaleb(-exp)), int(tick.scaleb(-exp)), exp


def _exponent(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)  # finite: checked by as_decimal
    return exp


def _check_tick(tick: Decimal | float | str) -> Decimal:
    t = as_decimal(tick, "tick")
    if t <= 0:
        raise ValueError(f"tick must be positive; it was {tick!r}")
    return t


def round_to_tick(price: Decimal | float, tick: Decimal = TICK, mode: str = "nearest") -> Decimal:
    """``price`` on the tick grid, with the tick's exponent (``round_to_tick(1.02)`` -> ``1.00``).

    ``mode``: ``"nearest"`` (a price exactly between two ticks goes up), ``"up"`` (the
    smallest tick multiple >= price) or ``"down"`` (the largest <= price). Buy limits are
    usually rounded down and sell limits up, so the engine never pays more than it meant.
    Non-finite or negative prices raise ValueError: they are bugs upstream, not prices.
    """
    if mode not in _MODES:
        raise ValueError(f"mode '{mode}' is not one of {', '.join(_MODES)}")
    t = _check_tick(tick)
    p = as_decimal(price, "price")
    if p < 0:
        raise ValueError(f"price must not be negative; it was {price!r}")
    units, step, exp = _scaled(p, t)
    q, r = divmod(units, step)
    if r and (mode == "up" or (mode == "nearest" and 2 * r >= step)):
        q += 1
    return Decimal(q * step).scaleb(exp).quantize(t)


def is_on_tick(price: Decimal | float | str, tick: Decimal | float | str = TICK) -> bool:
    """True when ``price`` is an exact multiple of ``tick`` (floats read through ``repr``)."""
    t = _check_tick(tick)
    try:
        p = as_decimal(price, "price")
    except ValueError:
        return False
    units, step, _ = _scaled(abs(p), t)
    return units % step == 0
