"""What a fill or an order costs beyond its price: brokerage, taxes and exchange fees.

Option strategies that trade small premiums often make less than their charges, so a
backtest that reports gross P&L only flatters them. The rates change by law and circular
(STT on option sales went 0.05 % -> 0.0625 % -> 0.1 % -> 0.15 % in three years), so they
live in a dated table, ``charges.yaml`` beside this module, with a source per row, and a
trade is charged at the rates in force on its trade date.

How one executed order is charged (one order may fill in several parts):

- turnover = sum of premium x quantity over its fills (option charges are on premium);
- brokerage: once per order, ``per_order`` or the ``pct`` cap of the turnover if lower;
- STT, exchange transaction charges, IPFT, SEBI fee, stamp duty: their rate times the
  turnover, when the order's side pays them;
- GST: its rate times the sum of the components it is charged on.

Rounding: each component is rounded to the paisa, half up, on the order's turnover (not
per fill), and GST is computed on the rounded components, as contract notes print them.
Contract notes compute on the whole day's turnover per segment and round STT to the
rupee, so a day's real charges can differ from the sum of these by a few paise per
component (under a rupee for STT).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from engine.costs._table import Brokerage, Gst, Rate, Row, SegmentTable, load_table
from engine.errors import UserInputError
from engine.money import as_decimal

__all__ = ["DEFAULT_TABLE", "ChargeBreakdown", "ChargesError", "ChargesTable"]

DEFAULT_TABLE = Path(__file__).resolve().parent / "charges.yaml"
_PAISA = Decimal("0.01")
_ZERO = Decimal("0.00")
_SIDES = ("buy", "sell")


class ChargesError(UserInputError):
    """Raised when the table has no rate for a trade date or names no such segment."""


def _paise(x: Decimal) -> Decimal:
    return x.quantize(_PAISA, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ChargeBreakdown:
    """One order's charges in rupees, each component rounded to the paisa (half up).

    ``ipft`` (NSE's investor protection fund charge) is shown apart; contract notes often
    fold it into the exchange transaction charges.
    """

    brokerage: Decimal
    stt: Decimal
    exchange: Decimal
    sebi: Decimal
    stamp: Decimal
    gst: Decimal
    ipft: Decimal = _ZERO

    @property
    def total(self) -> Decimal:
        return (
            self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst
        ) + self.ipft

    def to_dict(self) -> dict[str, str]:
        """Every component and the total as strings with two decimals (for the journal)."""
        out = {f.name: f"{getattr(self, f.name):.2f}" for f in fields(self)}
        out["total"] = f"{self.total:.2f}"
        return out

    def __add__(self, other: ChargeBreakdown) -> ChargeBreakdown:
        return ChargeBreakdown(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )

    @classmethod
    def zero(cls) -> ChargeBreakdown:
        return cls(_ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO)


class ChargesTable:
    """The dated charges of each segment; ``for_order`` prices one executed order."""

    def __init__(self, segments: dict[str, SegmentTable], origin: str) -> None:
        """Use ``default`` or ``from_file``."""
        self._segments = segments
        self.origin = origin
        self._starts = {
            (name, comp): [r.start for r in rows]
            for name, seg in segments.items()
            for comp, rows in seg.rows.items()
        }

    @classmethod
    def default(cls) -> ChargesTable:
        """The table shipped with the engine, loaded once."""
        return _load_cached(str(DEFAULT_TABLE))

    @classmethod
    def from_file(cls, path: str | Path) -> ChargesTable:
        """A table from a YAML file of the same layout; SpecError with every problem."""
        return cls(load_table(path), str(path))

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self._segments)

    def coverage(self, segment: str = "index_option") -> tuple[date, date | None]:
        """The first and last trade date every component has a rate for (None: open)."""
        seg = self._segment(segment)
        first = max(rows[0].start for rows in seg.rows.values())
        ends = [rows[-1].end for rows in seg.rows.values() if rows[-1].end is not None]
        return first, (min(ends) if ends else None)

    def for_fill(
        self,
        trade_date: date,
        side: str,
        price: Decimal,
        qty: int,
        *,
        segment: str = "index_option",
    ) -> ChargeBreakdown:
        """Charges of one fill treated as a whole order (brokerage included once)."""
        return self.for_order(trade_date, side, [(price, qty)], segment=segment)

    def for_order(
        self,
        trade_date: date,
        side: str,
        fills: Sequence[tuple[Decimal, int]],
        *,
        segment: str = "index_option",
    ) -> ChargeBreakdown:
        """Charges of one executed order made of ``fills`` ((premium per unit, units) each)."""
        if side not in _SIDES:
            raise ValueError(f"side must be 'buy' or 'sell'; it was {side!r}")
        if not fills:
            raise ValueError("an executed order has at least one fill")
        turnover = sum((_turnover(p, q) for p, q in fills), Decimal(0))
        seg = self._segment(segment)
        brokerage = self._row(seg, "brokerage", trade_date)
        assert isinstance(brokerage, Brokerage)
        amounts = {"brokerage": _paise(_brokerage(brokerage, turnover))}
        for comp in ("stt", "exchange", "ipft", "sebi", "stamp"):
            rate = self._row(seg, comp, trade_date)
            assert isinstance(rate, Rate)
            pays = rate.side in ("both", side)
            amounts[comp] = _paise(turnover * rate.fraction) if pays else _ZERO
        gst = self._row(seg, "gst", trade_date)
        assert isinstance(gst, Gst)
        amounts["gst"] = _paise(sum((amounts[c] for c in gst.on), Decimal(0)) * gst.fraction)
        return ChargeBreakdown(**amounts)

    def _segment(self, segment: str) -> SegmentTable:
        try:
            return self._segments[segment]
        except KeyError:
            known = ", ".join(self._segments) or "none"
            raise ChargesError(
                f"the charges table {self.origin} has no segment '{segment}' (it has {known})"
            ) from None

    def _row(self, seg: SegmentTable, component: str, d: date) -> Row:
        rows = seg.rows[component]
        i = bisect_right(self._starts[(seg.name, component)], d) - 1
        if i >= 0 and (rows[i].end is None or d <= rows[i].end):  # type: ignore[operator]
            return rows[i]
        first, last = rows[0].start, rows[-1].end
        span = f"{first} .. {last.isoformat() if last else 'today'}"
        raise ChargesError(
            f"no '{component}' rate for {seg.name} trades on {d.isoformat()}: the charges "
            f"table {self.origin} covers {span}; add a dated row (see docs/backtesting.md)"
        )


def _turnover(price: Decimal, qty: int) -> Decimal:
    p = as_decimal(price, "price")
    if p < 0:
        raise ValueError(f"price must not be negative; it was {price!r}")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError(f"quantity must be a positive whole number of units; it was {qty!r}")
    return p * qty


def _brokerage(row: Brokerage, turnover: Decimal) -> Decimal:
    if row.cap_fraction is None:
        return row.per_order
    return min(row.per_order, turnover * row.cap_fraction)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> ChargesTable:
    return ChargesTable.from_file(path)
