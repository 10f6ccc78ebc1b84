"""One line per thing a trader wants to see as it happens, from the journal's records."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from engine.model.market import ns_to_datetime
from engine.timeutil import IST

__all__ = ["EventPrinter"]


def _when(ts: int) -> str:
    return ns_to_datetime(ts, IST).strftime("%Y-%m-%d %H:%M:%S")


class EventPrinter:
    """A journal listener that prints entries, exits, fills, P&L and machine transitions."""

    def __init__(self, out: TextIO | None = None, *, transitions: bool = True) -> None:
        self.out = out or sys.stdout
        self.transitions = transitions

    def __call__(self, r: Mapping[str, Any]) -> None:
        line = self._line(r)
        if line:
            print(f"{_when(r['ts'])}  {line}", file=self.out, flush=True)

    def _line(self, r: Mapping[str, Any]) -> str:
        kind = r.get("kind")
        if kind == "direction":
            sides = ", ".join(r["sides"]) or "none (no entries today)"
            return f"direction {r['underlying']}: {sides}"
        if kind == "entry_decision" and r.get("outcome") == "sent":
            strike = r.get("strike", {})
            return (
                f"ENTRY  {r['trade_id']} {r['trigger']} -> buy {strike.get('symbol')} "
                f"limit {r.get('limit_price')} (premium {strike.get('premium')})"
            )
        if kind == "exit_decision" and r.get("outcome") == "sent":
            return f"EXIT   {r['trade_id']} {r.get('exit') or r.get('reason')}"
        if kind == "order_filled":
            return f"fill   {r['key']} {r['qty']} @ {r['price']}"
        if kind == "trade_closed":
            return (
                f"CLOSED {r['trade_id']} {r['symbol']} {r['entry_price']} -> {r['exit_price']} "
                f"[{r['exit_reason']}] gross {r['gross_pnl']} charges {r['charges']} "
                f"net {r['net_pnl']}"
            )
        if kind == "transition" and self.transitions:
            return f"{r['machine']}: {r['source']} -> {r['dest']} ({r['transition']})"
        if kind in ("notify", "emergency"):
            return f"{kind.upper()} {r.get('machine')}: {r.get('message')}"
        if kind == "forced_close":
            return f"CLOSED {r['trade_id']} at the last premium {r['price']}: {r['why']}"
        return ""
