"""Login, refresh, expiry, logout and the contract's headers, over real sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from adapters.smartapi.auth import SessionPolicy, SessionRefreshFailed, SmartApiSession
from adapters.smartapi.orders import SmartApiOrders
from adapters.smartapi.simulator import Fault
from engine.errors import LoginRefusedError, SessionExpiredError

pytestmark = pytest.mark.anyio

CONTRACT_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "X-UserType": "USER",
    "X-SourceID": "WEB",
}


async def test_login_when_credentials_right_then_tokens_profile_and_contract_headers(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        profile = await session.login()
    assert profile.client_code == creds.client_code and "nse_fo" in profile.exchanges
    assert session.tokens is not None and session.lasts_until(datetime.now(UTC))
    login, prof = sim.requests[0], sim.requests[1]
    assert login.path.endswith("/user/v1/loginByPassword") and "Authorization" not in login.headers
    for name, value in CONTRACT_HEADERS.items():
        assert login.headers[name] == value
    for name in ("X-ClientLocalIP", "X-ClientPublicIP", "X-MACAddress"):
        assert login.headers[name]
    assert login.headers["X-PrivateKey"] == creds.api_key.reveal()
    assert prof.headers["Authorization"] == f"Bearer {session.tokens.jwt.reveal()}"


async def test_login_when_totp_secret_wrong_then_login_refused(sim, config, creds, make_http):
    from adapters.smartapi.secrets import Credentials

    other_key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    wrong = Credentials.of(creds.client_code, creds.pin.reveal(), other_key, creds.api_key.reveal())
    async with make_http(config) as http:
        with pytest.raises(LoginRefusedError) as info:
            await SmartApiSession(http, wrong).login()
    assert info.value.code == "AB1050"


async def test_login_when_server_refuses_totp_then_login_refused_without_retry(
    sim, config, creds, make_http
) -> None:
    sim.faults.inject("login", Fault.WRONG_TOTP)
    async with make_http(config) as http:
        with pytest.raises(LoginRefusedError):
            await SmartApiSession(http, creds).login()
    assert sum(r.path.endswith("loginByPassword") for r in sim.requests) == 1


async def test_refresh_when_called_then_all_three_tokens_replaced(sim, config, creds, make_http):
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        await session.login()
        before = session.tokens
        await session.refresh()
        after = session.tokens
        await SmartApiOrders(http).funds()  # the new JWT works
    assert before is not None and after is not None
    assert before.jwt != after.jwt and before.refresh != after.refresh
    assert before.feed != after.feed and sim.sessions.refreshes == 1


async def test_keep_alive_when_token_short_lived_then_refreshed_then_logged_out(
    start_sim, client_config, creds, make_http
) -> None:
    sim = start_sim(token_lifetime_s=1.5)
    policy = SessionPolicy(refresh_margin=timedelta(seconds=0.8),
                           alarm_margin=timedelta(seconds=0.2))  # fmt: skip
    async with make_http(client_config(sim)) as http:
        session = SmartApiSession(http, creds, policy=policy)
        await session.login()
        first_expiry = session.expires_at
        assert first_expiry is not None
        assert not session.lasts_until(datetime.now(UTC) + timedelta(seconds=3))
        logout_at = datetime.now(UTC) + timedelta(seconds=1.6)
        with anyio.fail_after(5):
            await session.keep_alive(logout_at)
    assert sim.sessions.refreshes >= 1
    assert session.tokens is None
    assert any(r.path.endswith("/user/v1/logout") for r in sim.requests)


async def test_keep_alive_when_refresh_and_login_fail_then_alarm_before_expiry(
    start_sim, client_config, creds, make_http
) -> None:
    sim = start_sim(token_lifetime_s=4.0, enforce_rate_limits=False)
    events: list[SessionRefreshFailed] = []
    policy = SessionPolicy(refresh_margin=timedelta(seconds=3), alarm_margin=timedelta(
        seconds=1.5), retry_every=timedelta(seconds=0.1))  # fmt: skip
    async with make_http(client_config(sim, max_attempts=1)) as http:
        session = SmartApiSession(http, creds, policy=policy)
        session.on_refresh_failed(events.append)
        await session.login()
        sim.faults.inject("generate_tokens", Fault.SERVER_ERROR, times=50)
        sim.faults.inject("login", Fault.WRONG_TOTP, times=50)
        with anyio.fail_after(5):
            await session.keep_alive(datetime.now(UTC) + timedelta(hours=1))
    assert len(events) == 1
    event = events[0]
    assert event.at < event.expires_at, "the alarm must come while the session is still valid"
    assert "refresh failed" in event.reason


async def test_session_when_expired_by_server_then_session_expired_error_then_renewed(
    sim, config, creds, make_http
) -> None:
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        await session.login()
        orders = SmartApiOrders(http)
        sim.faults.inject("funds", Fault.SESSION_EXPIRED)
        with pytest.raises(SessionExpiredError) as info:
            await orders.funds()
        assert info.value.code == "AG8001"
        # our view still says valid: the server said otherwise, so renew explicitly
        session.tokens = None
        await session.ensure_valid(datetime.now(UTC) + timedelta(minutes=5))
        funds = await orders.funds()
    assert funds.available_cash > 0 and sim.sessions.logins == 2


async def test_logout_when_done_then_jwt_refused_afterwards(sim, config, creds, make_http):
    async with make_http(config) as http:
        session = SmartApiSession(http, creds)
        await session.login()
        jwt = session.tokens.jwt
        await session.logout()
        http.jwt = jwt
        with pytest.raises(SessionExpiredError):
            await SmartApiOrders(http).funds()
