"""``engine test connection`` / ``engine test websocket``: health checks of the broker link.

``connection`` logs in (client code, PIN, TOTP), reads the profile, the funds and the
NIFTY index LTP, then logs out. ``websocket`` logs in, opens the market-data feed,
subscribes to the NIFTY index in LTP mode and waits for ticks. Endpoints come from
``--rest-url``/``--ws-url`` or ``SMARTAPI_REST_URL``/``SMARTAPI_WS_URL`` (Angel One by
default); credentials from the OS keyring or the ``SMARTAPI_*`` variables (``engine
login``). Exit code 0 when healthy, 1 when the broker failed the check.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

NIFTY_TOKEN = "99926000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["connection", "websocket"], help="what to check")
    parser.add_argument("--rest-url", default=None, help="REST base URL (SMARTAPI_REST_URL)")
    parser.add_argument("--ws-url", default=None, help="WebSocket URL (SMARTAPI_WS_URL)")
    parser.add_argument("--timeout", type=float, default=7.0, help="seconds per request")
    parser.add_argument("--ticks", type=int, default=3, help="ticks to wait for (websocket)")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for them")


def run(args: argparse.Namespace) -> int:
    import anyio

    from adapters.smartapi.redact import install_log_redaction
    from engine.errors import BrokerError

    install_log_redaction()
    try:
        return anyio.run(_check, args)
    except BrokerError as e:
        print(f"FAILED: {e}")
        return 1


def _step(name: str, started: float, detail: str = "") -> None:
    print(f"ok  {name:<10} {(time.perf_counter() - started) * 1000:7.0f} ms  {detail}".rstrip())


async def _check(args: argparse.Namespace) -> int:
    from adapters.smartapi.auth import SmartApiSession
    from adapters.smartapi.config import SmartApiConfig
    from adapters.smartapi.http import SmartApiHttp
    from adapters.smartapi.secrets import load_credentials

    config = SmartApiConfig.from_env(
        rest_url=args.rest_url, ws_url=args.ws_url, timeout_s=args.timeout, max_attempts=2
    )
    creds = load_credentials()
    print(f"checking {args.what} of {creds.client_code} at {config.rest_url}")
    async with SmartApiHttp(config, client_code=creds.client_code, api_key=creds.api_key) as http:
        session = SmartApiSession(http, creds)
        t = time.perf_counter()
        profile = await session.login()
        _step(
            "login",
            t,
            f"session valid until {session.expires_at:%Y-%m-%d %H:%M} UTC; "
            f"exchanges {', '.join(profile.exchanges)}",
        )
        try:
            if args.what == "connection":
                await _rest(http)
            else:
                await _feed(config, session, args)
        finally:
            t = time.perf_counter()
            await session.logout()
            _step("logout", t)
    return 0


async def _rest(http: Any) -> None:
    from adapters.smartapi.market import SmartApiMarket
    from adapters.smartapi.orders import SmartApiOrders

    t = time.perf_counter()
    funds = await SmartApiOrders(http).funds()
    _step("funds", t, f"available cash {funds.available_cash}")
    t = time.perf_counter()
    ltp = await SmartApiMarket(http).ltp("NSE", "Nifty 50", NIFTY_TOKEN)
    _step("ltp", t, f"NIFTY {ltp.ltp}")


async def _feed(config: Any, session: Any, args: argparse.Namespace) -> None:
    import anyio

    from adapters.smartapi.ws import SmartApiFeed
    from engine.errors import BrokerUnavailableError

    got: list[Any] = []
    done = anyio.Event()

    def on_packet(packet: Any) -> None:
        got.append(packet)
        if len(got) >= args.ticks:
            done.set()

    feed = SmartApiFeed(
        config,
        client_code=session.credentials.client_code,
        api_key=session.credentials.api_key,
        jwt=lambda: session.tokens.jwt,
        feed_token=lambda: session.tokens.feed,
        on_packet=on_packet,
    )
    await feed.subscribe(1, 1, [NIFTY_TOKEN])
    t = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(feed.run)
        with anyio.move_on_after(args.wait):
            await done.wait()
        await feed.close()
    if len(got) < args.ticks:
        raise BrokerUnavailableError(
            f"websocket: {len(got)} of {args.ticks} ticks in {args.wait:g} s "
            f"(connects {feed.stats.connects}, malformed {feed.stats.malformed})"
        )
    last = got[-1]
    _step("websocket", t, f"{len(got)} ticks; last NIFTY {last.ltp_paise / 100:.2f}")
