"""Performance statistics on hand-computed runs."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from engine.model.market import to_ns
from engine.report.metrics import Metrics, TradeResult, compute_metrics
from engine.timeutil import IST

D = Decimal
CAPITAL = D("100000")


def at(d: int, hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    return to_ns(datetime.combine(date(2024, 1, d), time(h, m), tzinfo=IST))


def trade(
    day_in: int, t_in: str, day_out: int, t_out: str, gross: str, charges: str
) -> TradeResult:
    g, c = D(gross), D(charges)
    return TradeResult(at(day_in, t_in), at(day_out, t_out), g, c, g - c)


# Three sessions 09:15-15:30 (375 minutes each), 2024-01-01 .. 2024-01-03.
SESSIONS = [(at(d, "09:15"), at(d, "15:30")) for d in (1, 2, 3)]
RUN = [
    trade(1, "10:00", 1, "11:00", "1200", "50"),  # net +1,150
    trade(2, "09:30", 2, "10:30", "-800", "45"),  # net -845
    trade(2, "13:00", 2, "14:30", "-300", "40"),  # net -340
]


def test_compute_metrics_when_three_sessions_then_hand_computed_figures() -> None:
    m = compute_metrics(RUN, capital=CAPITAL, sessions=SESSIONS)
    assert (m.trades, m.wins, m.losses) == (3, 1, 2)
    assert m.win_rate_pct == pytest.approx(100 / 3)
    # gross 1200 - 800 - 300 = 100; charges 50 + 45 + 40 = 135; net 1150 - 845 - 340 = -35.
    assert (m.gross_pnl, m.charges, m.net_pnl) == (D("100"), D("135"), D("-35"))
    # profit factor 1150 / (845 + 340) = 0.97046.
    assert m.profit_factor == pytest.approx(1150 / 1185)
    # equity 100,000 -> 101,150 (peak) -> 100,305 -> 99,965: drawdown 1,185, which is
    # 1,185 / 101,150 = 1.1715 % of the peak.
    assert m.max_drawdown == D("1185")
    assert m.max_drawdown_pct == pytest.approx(1.1715274345)
    # daily returns +0.0115, -0.01185, 0 (a flat session counts): mean -0.000116667,
    # sample sd 0.0116754; -0.000116667 / 0.0116754 * sqrt(252) = -0.158626.
    assert m.sharpe == pytest.approx(-0.1586258304)
    # holds 60, 60 and 90 minutes: mean 70.
    assert m.avg_hold_minutes == pytest.approx(70.0)
    # 210 minutes held of 3 * 375 = 1,125 session minutes: 18.667 %.
    assert m.exposure_pct == pytest.approx(18.6666666667)


def test_to_dict_when_serialised_then_json_with_exact_amounts() -> None:
    m = compute_metrics(RUN, capital=CAPITAL, sessions=SESSIONS)
    out = m.to_dict()
    assert out["net_pnl"] == "-35" and out["max_drawdown"] == "1185"
    assert out["trades"] == 3 and out["sharpe"] == pytest.approx(-0.1586258304)
    assert list(out) == [f for f in Metrics.__dataclass_fields__]
    json.dumps(out)


def test_compute_metrics_when_no_losing_trade_then_profit_factor_none() -> None:
    wins = [trade(1, "10:00", 1, "10:30", "500", "40"), trade(2, "10:00", 2, "10:30", "40", "40")]
    m = compute_metrics(wins, capital=CAPITAL, sessions=SESSIONS)
    # the second trade nets exactly 0: neither a win nor a loss.
    assert (m.wins, m.losses, m.profit_factor) == (1, 0, None)
    assert m.win_rate_pct == 50.0
    assert m.max_drawdown == 0 and m.max_drawdown_pct == 0.0


def test_compute_metrics_when_only_losses_then_profit_factor_zero() -> None:
    m = compute_metrics(RUN[1:], capital=CAPITAL, sessions=SESSIONS)
    assert m.profit_factor == 0.0
    # equity 100,000 -> 99,155 -> 98,815: the starting capital is the first peak.
    assert m.max_drawdown == D("1185") and m.max_drawdown_pct == pytest.approx(1.185)


def test_compute_metrics_when_no_trades_then_empty_figures() -> None:
    m = compute_metrics([], capital=CAPITAL, sessions=SESSIONS)
    assert (m.trades, m.win_rate_pct, m.profit_factor, m.avg_hold_minutes) == (0, None, None, None)
    assert m.net_pnl == 0 and m.max_drawdown == 0
    assert m.sharpe is None  # every daily return is 0: no variance
    assert m.exposure_pct == 0.0


def test_compute_metrics_when_one_session_or_none_then_no_sharpe_or_exposure() -> None:
    one = compute_metrics(RUN[:1], capital=CAPITAL, sessions=SESSIONS[:1])
    assert one.sharpe is None and one.exposure_pct == pytest.approx(60 / 375 * 100)
    none = compute_metrics([], capital=CAPITAL, sessions=[])
    assert none.sharpe is None and none.exposure_pct is None


def test_compute_metrics_when_held_overnight_or_overlapping_then_session_time_counted_once() -> (
    None
):
    trades = [
        trade(1, "15:00", 2, "09:45", "100", "10"),  # 30 min on day 1 + 30 min on day 2
        trade(2, "09:30", 2, "10:00", "100", "10"),  # overlaps: adds 09:45-10:00 only
    ]
    m = compute_metrics(trades, capital=CAPITAL, sessions=SESSIONS)
    # held in session: 15:00-15:30 and 09:15-10:00 = 30 + 45 = 75 of 1,125 minutes.
    assert m.exposure_pct == pytest.approx(75 / 1125 * 100)
    # the first trade held 18 h 45 min = 1,125 minutes of clock time; the second 30.
    assert m.avg_hold_minutes == pytest.approx((1125 + 30) / 2)


def test_compute_metrics_when_trades_exit_together_then_equity_moves_once() -> None:
    same_exit = [
        trade(1, "10:00", 1, "11:00", "-500", "0"),
        trade(1, "10:30", 1, "11:00", "800", "0"),
    ]
    m = compute_metrics(same_exit, capital=CAPITAL, sessions=SESSIONS)
    assert m.max_drawdown == 0  # +300 at 11:00, whichever is listed first


def test_compute_metrics_when_exit_after_the_close_then_counted_on_that_session() -> None:
    late = [trade(1, "15:00", 1, "15:45", "1000", "0")]
    m = compute_metrics(late, capital=CAPITAL, sessions=SESSIONS)
    # returns +0.01, 0, 0: mean 0.003333, sd 0.0057735: 0.57735 * sqrt(252) = 9.1652.
    assert m.sharpe == pytest.approx(0.01 / 3 / 0.0057735027 * math.sqrt(252))
    assert m.exposure_pct == pytest.approx(30 / 1125 * 100)


@pytest.mark.parametrize(
    ("trades", "capital", "sessions", "match"),
    [
        (RUN, D("0"), SESSIONS, "capital must be a positive Decimal"),
        (RUN, 100000, SESSIONS, "capital must be a positive Decimal"),
        (
            [TradeResult(at(1, "11:00"), at(1, "10:00"), D(1), D(0), D(1))],
            CAPITAL,
            SESSIONS,
            "exits",
        ),
        (
            [TradeResult(at(1, "10:00"), at(1, "11:00"), D(5), D(1), D(5))],
            CAPITAL,
            SESSIONS,
            "minus charges",
        ),
        (RUN, CAPITAL, [(at(1, "15:30"), at(1, "09:15"))], "closes"),
        (RUN, CAPITAL, [SESSIONS[0], (at(1, "12:00"), at(1, "16:00"))], "overlap"),
        (RUN, CAPITAL, SESSIONS[1:], "before the first session"),
    ],
)
def test_compute_metrics_when_inconsistent_input_then_value_error(
    trades: list[TradeResult], capital: Decimal, sessions: list[tuple[int, int]], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        compute_metrics(trades, capital=capital, sessions=sessions)
