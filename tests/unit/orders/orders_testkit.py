"""Values shared by the order tests (a uniquely named helper module)."""

from __future__ import annotations

from datetime import datetime

from engine.model.market import to_ns
from engine.timeutil import IST

#: 2024-03-06 11:00 IST, a regular session; the contract is the next day's NIFTY weekly.
DECISION_NS = to_ns(datetime(2024, 3, 6, 11, 0, tzinfo=IST))
