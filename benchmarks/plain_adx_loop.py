"""The ADX strategy of rules/adx.yaml as one hand-written plain-Python loop: the speed floor.

No rule files, no machines, no journal, no checks: read the CSV files with the csv
module, resample 1m bars to 5m and 1h by integer arithmetic (09:15 anchor, 15:15-15:30
last hour), update the engine's streaming indicators (plain Python, equal to TA-Lib),
decide the direction at the open from the official daily file, test the filters and
triggers with inline comparisons on every 1m close, price the ATM option with
Black-Scholes and the previous session's VIX, and exit on the same four rules at the
next bar's open. It makes the same kind of decisions as the engine, as cheaply as
Python allows: the benchmark compares the engine with it in the same run.

Run alone: ``python benchmarks/plain_adx_loop.py DATA DAILY VIX``.
"""

from __future__ import annotations

import csv
import math
import sys
from datetime import date, datetime

from engine.indicators import Adx, Ema, MinusDi, PlusDi, Rsi

IST_OFFSET = 19_800
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _bs(spot: float, strike: float, t: float, vol: float, call: bool, r: float = 0.065) -> float:
    if t <= 0 or vol <= 0:
        return max(spot - strike, 0.0) if call else max(strike - spot, 0.0)
    sq = vol * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r + vol * vol / 2) * t) / sq
    d2 = d1 - sq

    def n(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    if call:
        return spot * n(d1) - strike * math.exp(-r * t) * n(d2)
    return strike * math.exp(-r * t) * n(-d2) - spot * n(-d1)


def _ist_date(ts: int) -> date:
    return date.fromordinal((ts + IST_OFFSET) // DAY + _EPOCH_ORDINAL)


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def run(data: str, daily: str, vix: str) -> list[tuple[int, int, float, float, str]]:  # noqa: C901
    bars = []
    with open(data, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for ts, o, h, lo, c, _v in rows:
            bars.append((_epoch(ts), float(o), float(h), float(lo), float(c)))
    dailies: dict[date, tuple[float, float, float]] = {}
    with open(daily, newline="") as f:
        for row in csv.DictReader(f):
            dailies[date.fromisoformat(row["date"])] = (
                float(row["high"]), float(row["low"]), float(row["close"]),
            )  # fmt: skip
    vixes: dict[date, float] = {}
    with open(vix, newline="") as f:
        for row in csv.DictReader(f):
            vixes[date.fromisoformat(row["date"])] = float(row["close"])
    first_day = _ist_date(bars[0][0])
    d_adx, d_pdi, d_mdi = Adx(14), PlusDi(14), MinusDi(14)
    for d in sorted(dailies):
        if d < first_day:
            d_adx.update(*dailies[d])
            d_pdi.update(*dailies[d])
            d_mdi.update(*dailies[d])
    h_adx, h_pdi, h_mdi = Adx(14), PlusDi(14), MinusDi(14)
    m5_rsi, m5_ema = Rsi(14), Ema(9)
    trades: list[tuple[int, int, float, float, str]] = []
    day = None
    side = ""
    vix_now = math.nan
    h_bucket = m_bucket = -1
    hh = hl = hc = 0.0
    prev_hh = prev_hl = math.nan
    m5c = math.nan
    entries_today = 0
    pos: list = []  # [side, strike, expiry_t, entry_price, entry_spot, entry_ts]
    pending = ""
    expiry_s = 0
    for ts, o, h, lo, c in bars:
        local = ts + IST_OFFSET
        d = _ist_date(ts)
        if d != day:
            day = d
            entries_today = 0
            prev = [x for x in sorted(dailies) if x < d][-1:]  # direction from yesterday
            if prev and prev[0] != first_day:
                d_adx.update(*dailies[prev[0]])
                d_pdi.update(*dailies[prev[0]])
                d_mdi.update(*dailies[prev[0]])
            a, p, m = d_adx.value, d_pdi.value, d_mdi.value
            side = "" if a is None or a < 25 else ("CE" if p > m else "PE")
            vprev = [x for x in sorted(vixes) if x < d][-1:]
            vix_now = vixes[vprev[0]] if vprev else math.nan
            expiry_s = local - local % DAY + 7 * DAY  # a week out: enough for the arithmetic
        sod = local % DAY
        minute = sod // 60
        if pending and pos:  # fill the decision of the last close at this bar's open
            pos[3] = _bs(o, pos[1], (expiry_s - local) / 31_536_000, vix_now / 100, pos[0] == "CE")
            pos[4] = o
            pending = ""
        hb = (minute - 555) // 60 if minute < 915 else 6
        if hb != h_bucket:
            if h_bucket >= 0:
                h_adx.update(hh, hl, hc)
                h_pdi.update(hh, hl, hc)
                h_mdi.update(hh, hl, hc)
                prev_hh, prev_hl = hh, hl
            h_bucket, hh, hl = hb, h, lo
        hh, hl, hc = max(hh, h), min(hl, lo), c
        mb = (minute - 555) // 5
        if mb != m_bucket:
            m_bucket = mb
        if (minute - 554) % 5 == 0:
            m5_rsi.update(c)
            m5_ema.update(c)
            m5c = c
        if pos:
            prem = _bs(c, pos[1], (expiry_s - local) / 31_536_000, vix_now / 100, pos[0] == "CE")
            move = (c / pos[4] - 1) * 100 * (1 if pos[0] == "CE" else -1)
            ema = m5_ema.value
            fade = ema is not None and (
                (pos[0] == "CE" and m5c < ema) or (pos[0] == "PE" and m5c > ema)
            )
            if sod >= 55_200 or move <= -1.0 or (prem / pos[3] - 1) * 100 >= 40 or fade:
                trades.append((pos[5], ts, pos[3], prem, pos[0]))
                pos = []
            continue
        if not side or entries_today >= 2 or not 36_000 <= sod <= 52_200 or not vix_now < 30:
            continue
        ha, hp, hm, r = h_adx.value, h_pdi.value, h_mdi.value, m5_rsi.value
        if ha is None or ha < 25 or r is None:
            continue
        up = side == "CE" and c > prev_hh and hp > hm and r < 70
        down = side == "PE" and c < prev_hl and hm > hp and r > 30
        if up or down:
            strike = round(c / 50) * 50
            pos = [side, strike, 0, 0.0, c, ts]
            pending = side
            entries_today += 1
    return trades


if __name__ == "__main__":
    found = run(*sys.argv[1:4])
    print(f"{len(found)} trades")
