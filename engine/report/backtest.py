"""What a backtest hands its user: the summary, trades.csv and the text printed at the end.

``trades.csv`` has a fixed column order (below) with ISO 8601 timestamps carrying the
+05:30 offset; ``summary.json`` holds every figure of the text report plus the run's
inputs. Both come from the ledger's closed trades and the engine's counters, so they
agree with the journal by construction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.model.market import ns_to_datetime
from engine.portfolio.ledger import Trade
from engine.report.metrics import Metrics, TradeResult, compute_metrics
from engine.timeutil import IST

__all__ = ["TRADE_COLUMNS", "BacktestReport", "build_report", "trades_csv"]

TRADE_COLUMNS = (
    "trade_id",
    "underlying",
    "side",
    "symbol",
    "expiry",
    "strike",
    "lots",
    "qty",
    "decision_ts",
    "entry_ts",
    "entry_underlying",
    "entry_price",
    "exit_decision_ts",
    "exit_ts",
    "exit_underlying",
    "exit_price",
    "exit_reason",
    "gross_pnl",
    "charges",
    "net_pnl",
)


def _iso(ns: int | None) -> str:
    return "" if ns is None else ns_to_datetime(ns, IST).isoformat()


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def trade_row(t: Trade) -> list[str]:
    return [
        t.trade_id,
        t.underlying,
        t.instrument.kind.value,
        t.instrument.symbol,
        t.instrument.expiry.isoformat(),
        str(t.instrument.strike),
        str(t.lots),
        str(t.bought_qty),
        _iso(t.decision_ts),
        _iso(t.entry_ts),
        _num(t.entry_underlying),
        "" if t.entry_price is None else f"{t.entry_price:.2f}",
        _iso(t.exit_decision_ts),
        _iso(t.exit_ts),
        _num(t.exit_underlying),
        "" if t.exit_price is None else f"{t.exit_price:.2f}",
        t.exit_reasons,
        f"{t.gross_pnl():.2f}",
        f"{t.charges:.2f}",
        f"{t.net_pnl:.2f}",
    ]


def trades_csv(trades: Sequence[Trade]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for t in trades:
        writer.writerow(trade_row(t))
    return out.getvalue()


@dataclass(slots=True)
class BacktestReport:
    metrics: Metrics
    trades: list[Trade]
    bars: int
    sessions: int
    warmup_sessions: int
    starved: Mapping[str, int]
    premiums: str  # "modelled" | "market" | "market and modelled"
    inputs: Mapping[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics.to_dict(),
            "bars": self.bars,
            "sessions": self.sessions,
            "warmup_sessions": self.warmup_sessions,
            "starved_conditions": dict(sorted(self.starved.items())),
            "premiums": self.premiums,
            "inputs": dict(self.inputs),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def render(self) -> str:
        m = self.metrics

        def money(x: Decimal) -> str:
            return f"Rs {x:,.2f}"

        def opt(x: float | None, fmt: str = "{:.2f}") -> str:
            return "n/a" if x is None else fmt.format(x)

        lines = [
            f"bars {self.bars:,}  sessions {self.sessions}  warming up {self.warmup_sessions} "
            f"session(s)",
            f"trades {m.trades}  won {m.wins}  lost {m.losses}  win rate "
            f"{opt(m.win_rate_pct, '{:.1f}%')}",
            f"net P&L {money(m.net_pnl)}  (gross {money(m.gross_pnl)}, charges {money(m.charges)})",
            f"profit factor {opt(m.profit_factor)}  max drawdown {money(m.max_drawdown)} "
            f"({opt(m.max_drawdown_pct, '{:.2f}%')})  Sharpe {opt(m.sharpe)}",
            f"average hold {opt(m.avg_hold_minutes, '{:.1f} min')}  exposure "
            f"{opt(m.exposure_pct, '{:.1f}%')}",
            f"option premiums: {self.premiums}",
        ]
        if self.starved:
            worst = sorted(self.starved.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            shown = ", ".join(f"{name} {count:,}x" for name, count in worst)
            lines.append(f"conditions starved of data (missing values): {shown}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def build_report(
    trades: Sequence[Trade],
    *,
    capital: Decimal,
    sessions: Sequence[tuple[int, int]],
    bars: int,
    warmup_sessions: int,
    starved: Mapping[str, int],
    premiums: str,
    inputs: Mapping[str, Any],
    notes: Sequence[str] = (),
) -> BacktestReport:
    closed = [t for t in trades if t.closed and t.entry_ts is not None and t.exit_ts is not None]
    results = [
        TradeResult(t.entry_ts, t.exit_ts, t.gross_pnl(), t.charges, t.net_pnl)  # type: ignore[arg-type]
        for t in closed
    ]
    metrics = compute_metrics(results, capital=capital, sessions=sessions)
    return BacktestReport(
        metrics, list(closed), bars, len(sessions), warmup_sessions, starved, premiums,
        inputs, list(notes),
    )  # fmt: skip
