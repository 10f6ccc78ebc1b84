"""Paths and a calm world shared by the machine tests (a uniquely named helper module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
MACHINES = REPO / "machines"
SHIPPED = ("killswitch", "breakers", "session", "position")

#: A calm market and a flat account: no breaker, kill or entry condition holds.
CALM: dict[str, Any] = {
    "positions.open": 0, "orders.pending": 0, "account.day_pnl_pct": 0.0, "vix": 14.0,
    "vix_change_5m": 0.0, "vix_change_10m": 0.0, "broker.session_ending": False,
    "account.error_rate_5m_pct": 0.0, "account.margin_used_pct": 10.0,
    "account.consecutive_losses": 0, "underlying.change_5m_pct": 0.1,
    "account.reject_rate_15m_pct": 0.0, "data.gap": False, "data.silent_min": 0,
    "data.last_gap_min": 0.0, "position.entries_today": 0,
    "underlying.side_held": "none", "position.open": False,
}  # fmt: skip
