"""`engine run` on the simulator over real sockets: paper parity with the backtest, the live
gates and a live session, a session that cannot be renewed, and no secret in any file.

Every run here talks to a simulator on 127.0.0.1 (``_sim_env`` refuses anything else), so
no test can reach a real broker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.smartapi.simulator import Fault, SimCredentials, Simulator, SimulatorOptions

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "engine" / "sample_data"
BARS = SAMPLE / "nifty_1m_2024-01-08_19.csv"
DAILY = SAMPLE / "nifty_daily_2023-01_2024-03.csv"
VIX = SAMPLE / "india_vix_daily_2023-12_2024-03.csv"
#: Not the simulator's public defaults: values that cannot occur by chance in a file.
CREDS = SimCredentials(
    "S7654321", "739146", "KRSXG5DJMFXGK3TUNFXXEZLTN5ZA2YLV", "rehearsal-key-8e1f"
)


def _start(**options: Any) -> Simulator:
    values: dict[str, Any] = {
        "data": BARS, "sessions": None, "ticks_per_s": 10_000.0, "loop": False,
        "wait_for_subscriber": True,
    }  # fmt: skip
    values.update(options)
    return Simulator(SimulatorOptions(**values), CREDS).start()


@pytest.fixture
def sim_factory() -> Iterator[Any]:
    started: list[Simulator] = []

    def start(**options: Any) -> Simulator:
        started.append(_start(**options))
        return started[-1]

    yield start
    for s in started:
        s.stop()


def _sim_env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    """The environment of a run against ``sim``: its loopback URLs and its credentials."""
    for url in (sim.rest_url, sim.ws_url, sim.instruments_url):
        assert url.split("://", 1)[1].startswith("127.0.0.1:"), url
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTAPI_")}
    env.update(
        SMARTAPI_REST_URL=sim.rest_url, SMARTAPI_WS_URL=sim.ws_url,
        SMARTAPI_INSTRUMENTS_URL=sim.instruments_url, SMARTAPI_CLIENT_CODE=CREDS.client_code,
        SMARTAPI_PIN=CREDS.pin, SMARTAPI_TOTP_SECRET=CREDS.totp_secret,
        SMARTAPI_API_KEY=CREDS.api_key, XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )  # fmt: skip
    return env


def _engine(args: list[str], env: dict[str, str], *, stdin: str | None = None,
            log: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    top = ["--log-level", "TRACE", "--log-json"] if log is not None else []
    result = subprocess.run(
        [sys.executable, "-m", "engine", *top, *args],
        env=env, cwd=REPO, input=stdin or "", capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if log is not None:
        log.write_text(result.stderr, encoding="utf-8")
    return result


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _records(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def _run_args(out: Path, config: str, *mode: str) -> list[str]:
    return ["run", "rules/adx.yaml", *mode, "--quiet", "--daily", str(DAILY), "--vix", str(VIX),
            "--config", config, "--out", str(out)]  # fmt: skip


def test_paper_on_simulator_feed_when_compared_with_backtest_then_same_trades_and_journal(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory()
    env = _sim_env(sim, tmp_path)
    config = _config(tmp_path, "idle_stop_s: 1.5\n")
    paper = _engine(_run_args(tmp_path / "paper", config, "--paper"), env)
    assert paper.returncode == 0, paper.stdout + paper.stderr
    assert "PAPER TRADING on SmartAPI market data" in paper.stdout
    assert "feed: 15000 ticks, 3750 bars, 0 outages" in paper.stdout
    backtest = _engine(["backtest", "rules/adx.yaml", "--data", str(BARS), "--daily", str(DAILY),
                        "--vix", str(VIX), "--out", str(tmp_path / "bt")], env)  # fmt: skip
    assert backtest.returncode == 0, backtest.stderr

    trades = (tmp_path / "paper" / "trades.csv").read_text()
    assert trades == (tmp_path / "bt" / "trades.csv").read_text()
    assert trades.count("\n") - 1 == 3  # the fortnight's trades under the full strategy

    def decisions(folder: str) -> list[dict[str, Any]]:
        skip = ("journal", "summary")  # the header and the summary name their inputs
        return [r for r in _records(tmp_path / folder / "journal.jsonl") if r["kind"] not in skip]

    assert decisions("paper") == decisions("bt")


def test_live_without_a_live_run_config_when_run_then_refused(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(sessions=1)
    env = _sim_env(sim, tmp_path)
    no_config = _engine(["run", "rules/adx.yaml", "--live", "--i-understand-live-trading"], env)
    assert no_config.returncode == 2
    assert "'mode: live'" in no_config.stderr
    paper_config = _config(tmp_path, "mode: paper\n")
    said_paper = _engine(["run", "rules/adx.yaml", "--live", "--config", paper_config,
                          "--i-understand-live-trading"], env)  # fmt: skip
    assert said_paper.returncode == 2 and "'mode: live'" in said_paper.stderr
    live_config = _config(tmp_path, "mode: live\n")
    unconfirmed = _engine(["run", "rules/adx.yaml", "--live", "--config", live_config], env)
    assert unconfirmed.returncode == 2
    assert "--i-understand-live-trading" in unconfirmed.stderr
    assert sim.orders() == [] and not any(r.path.endswith("loginByPassword")
                                          for r in sim.requests)  # fmt: skip


def test_live_when_the_broker_has_a_working_order_then_refused_before_trading(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(sessions=1)
    env = _sim_env(sim, tmp_path)
    _place_resting_order(sim)
    config = _config(tmp_path, "mode: live\nidle_stop_s: 1\n")
    out = tmp_path / "live"
    result = _engine(_run_args(out, config, "--live", "--i-understand-live-trading"), env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "LIVE TRADING REFUSED" in result.stdout
    assert "reconciliation: order" in result.stdout and "is working" in result.stdout
    assert len(sim.orders()) == 1  # nothing was sent
    assert not (out / "journal.jsonl").exists()


def _place_resting_order(sim: Simulator) -> None:
    import httpx

    from adapters.smartapi.config import SmartApiConfig
    from adapters.smartapi.instruments import InstrumentMaster
    from adapters.smartapi.link import SmartApiLink
    from adapters.smartapi.orders import OrderRequest
    from adapters.smartapi.secrets import Credentials

    master = InstrumentMaster.from_json(httpx.get(sim.instruments_url).json())
    expiry = master.expiries("NIFTY")[0]
    inst = master.option("NIFTY", expiry, master.strikes("NIFTY", expiry)[10], "CE")
    assert inst is not None
    config = SmartApiConfig(rest_url=sim.rest_url, ws_url=sim.ws_url)
    link = SmartApiLink(config, Credentials.of(CREDS.client_code, CREDS.pin, CREDS.totp_secret,
                                               CREDS.api_key))  # fmt: skip
    link.start()
    try:
        request = OrderRequest(tag="resting1", tradingsymbol=inst.symbol, symboltoken=inst.token,
                               exchange="NFO", transactiontype="BUY", quantity=inst.lot_size,
                               price=inst.tick_size)  # fmt: skip
        orders = link.orders
        assert orders is not None
        link.call(lambda: orders.place(request))
    finally:
        link.stop()


def test_live_session_on_simulator_when_run_then_orders_tagged_once_and_logged_out(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(ticks_per_s=3000.0)
    env = _sim_env(sim, tmp_path)
    config = _config(tmp_path, "mode: live\nidle_stop_s: 1.5\norder_poll_s: 0.1\n")
    out = tmp_path / "live"
    # the first order's reply and the first cancel's reply are lost on the way back
    sim.faults.inject("place_order", Fault.LOST_REPLY)
    sim.faults.inject("cancel_order", Fault.LOST_REPLY)
    result = _engine(_run_args(out, config, "--live", "--i-understand-live-trading"), env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "LIVE TRADING: REAL ORDERS" in result.stdout
    records = _records(out / "journal.jsonl")
    intents = [r["key"] for r in records if r["kind"] == "intent"]
    assert intents, "the strategy sent no order"
    placed = sim.orders()
    tags = [o["ordertag"] for o in placed]
    assert len(tags) == len(set(tags)), "an intent reached the broker twice"
    assert set(tags) <= set(intents)  # nothing the journal does not name
    # In a rehearsal, market time runs hundreds of times faster than the broker's round
    # trips: on a loaded machine an order can still be on its way when the data ends, and
    # is then never sent. What must hold is that nothing is sent twice or unnamed.
    accepted = {r["key"]: r["order_id"] for r in records if r["kind"] == "order_accepted"}
    assert accepted == {o["ordertag"]: o["orderid"] for o in placed}
    assert ("place_order", Fault.LOST_REPLY) in sim.faults.fired
    assert ("cancel_order", Fault.LOST_REPLY) in sim.faults.fired
    assert sim.requests[-1].path.endswith("/logout")  # the session is closed at the end


def test_paper_when_the_session_cannot_be_renewed_then_kill_switch_halts(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(ticks_per_s=2000.0, sessions=3, token_lifetime_s=1.0)
    env = _sim_env(sim, tmp_path)
    config = _config(tmp_path, "idle_stop_s: 1.5\n")
    out = tmp_path / "paper"
    result = _engine(_run_args(out, config, "--paper"), env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    records = _records(out / "journal.jsonl")
    alarm = [r for r in records if r["kind"] == "broker_session_expiring"]
    assert alarm and alarm[0]["expires_at"] > 0
    assert any(r["kind"] == "broker_session_ending" for r in records)
    reached = {r["dest"] for r in records
               if r["kind"] == "transition" and r["machine"] == "killswitch"}  # fmt: skip
    assert {"triggered", "halted"} <= reached


def test_full_run_when_logged_at_trace_then_no_secret_in_any_log_or_journal(
    sim_factory: Any, tmp_path: Path
) -> None:
    sim = sim_factory(ticks_per_s=3000.0)
    env = _sim_env(sim, tmp_path)
    config = _config(tmp_path, "mode: live\nidle_stop_s: 1.5\norder_poll_s: 0.1\n")
    out = tmp_path / "run"
    log = tmp_path / "engine.log.jsonl"
    result = _engine(_run_args(out, config, "--live", "--i-understand-live-trading"), env,
                     log=log)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    (tmp_path / "stdout.txt").write_text(result.stdout, encoding="utf-8")
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())  # the cache included
    assert {p.name for p in files} >= {"journal.jsonl", "summary.json", "trades.csv",
                                       "OpenAPIScripMaster.json", log.name}  # fmt: skip
    text = {p: p.read_text(encoding="utf-8") for p in files}
    assert "placed (tag" in text[log] and "logged in as" in text[log]  # the log is real
    secrets = [CREDS.pin, CREDS.totp_secret, CREDS.api_key]
    for s in sim.sessions._by_jwt.values():
        secrets += [s.jwt, s.refresh, s.feed]
    assert len(secrets) >= 6
    leaked = [(p.name, s[:4] + "...") for p, body in text.items() for s in secrets if s in body]
    assert leaked == []
