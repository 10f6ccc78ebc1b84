"""A full simulated session, logged at TRACE into a file: no secret value appears in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import httpx
import pytest
from loguru import logger

from adapters.smartapi.auth import SessionPolicy, SmartApiSession
from adapters.smartapi.instruments import InstrumentMaster
from adapters.smartapi.orders import OrderModify, OrderRequest, SmartApiOrders
from adapters.smartapi.redact import install_log_redaction
from adapters.smartapi.secrets import Credentials
from adapters.smartapi.simulator import Fault
from adapters.smartapi.ws import SmartApiFeed
from engine.errors import BrokerError

pytestmark = pytest.mark.anyio


async def test_full_session_when_logged_at_trace_then_no_secret_in_log_file(
    start_sim, client_config, creds, make_http, tmp_path: Path
) -> None:
    sim = start_sim(token_lifetime_s=3.0, enforce_rate_limits=False)
    config = client_config(sim)
    log_file = tmp_path / "session.log"
    install_log_redaction()
    sink = logger.add(log_file, level="TRACE", serialize=True, backtrace=True, diagnose=True)
    logger.enable("adapters")
    try:
        await _session(sim, config, creds, make_http)
    finally:
        logger.remove(sink)
    text = log_file.read_text(encoding="utf-8")
    assert "order" in text and "logged in" in text and "feed connected" in text
    secrets = [creds.pin.reveal(), creds.totp_secret.reveal(), creds.api_key.reveal()]
    for s in sim.sessions._by_jwt.values():
        secrets += [s.jwt, s.refresh, s.feed]
    assert len(secrets) >= 3 + 3 * 3  # login, refreshes, a fresh login
    leaked = [s[:6] + "..." for s in secrets if s in text]
    assert leaked == []


async def _session(sim, config, creds: Credentials, make_http) -> None:  # type: ignore[no-untyped-def]
    master = InstrumentMaster.from_json(httpx.get(sim.instruments_url).json())
    expiry = master.expiries("NIFTY")[0]
    inst = master.option("NIFTY", expiry, master.strikes("NIFTY", expiry)[10], "CE")
    policy = SessionPolicy(refresh_margin=timedelta(seconds=2.5),
                           alarm_margin=timedelta(seconds=0.2))  # fmt: skip
    async with make_http(config) as http:
        session = SmartApiSession(http, creds, policy=policy)
        await session.login()
        await session.refresh()
        orders = SmartApiOrders(http)
        sim.faults.inject("place_order", Fault.LOST_REPLY)
        placed = await orders.place(OrderRequest("leak-1", inst.symbol, inst.token, "NFO", "BUY",
                                                 inst.lot_size, price=Decimal("1.00")))  # fmt: skip
        await orders.modify(OrderModify(placed.orderid, inst.symbol, inst.token, "NFO",
                                        inst.lot_size, Decimal("1.10")))  # fmt: skip
        await orders.cancel(placed.orderid)
        sim.faults.inject("funds", Fault.SESSION_EXPIRED)
        try:
            await orders.funds()
        except BrokerError as e:
            logger.opt(exception=e).bind(category="test").error("funds failed: {}", e)
        session.tokens = None
        await session.ensure_valid(datetime.now(UTC) + timedelta(seconds=1))
        feed = SmartApiFeed(
            config, client_code=creds.client_code, api_key=creds.api_key,
            jwt=lambda: session.tokens.jwt, feed_token=lambda: session.tokens.feed,
            on_packet=lambda p: None,
        )  # fmt: skip
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed.run)
            await feed.subscribe(3, 2, [inst.token])
            await feed.wait_connected()
            sim.send_malformed([b"\x03" * 40])
            await anyio.sleep(0.3)
            await feed.close()
        logger.bind(category="test").debug("tokens at the end: {}", session.tokens)
        logger.bind(category="test").debug("raw jwt by mistake: {}", session.tokens.jwt.reveal())
        await session.keep_alive(datetime.now(UTC))  # logs out at once
