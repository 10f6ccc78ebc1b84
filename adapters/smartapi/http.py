"""The one async REST client: the contract's headers, typed errors, backoff with jitter.

Every call goes through ``SmartApiHttp.call``: wait for the client's rate limiter, send
with the contract's headers (§2.1), turn the reply into ``data`` or a typed error
(``parsing.envelope``), and for idempotent calls back off with full jitter and retry on a
temporary error (429, plain-text 403, 5xx, timeouts, empty replies). A 4xx or a business
error is never retried. Order calls are never resent here: a rate-limit refusal is
retried (the gateway turned it away unprocessed), anything else goes back to the order
layer, which looks the order up by its tag first (``orders.py``).

One INFO line per request (method, path, status, milliseconds); bodies are never logged.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import anyio
import httpx

from adapters.smartapi.config import SmartApiConfig
from adapters.smartapi.parsing.envelope import parse_reply
from adapters.smartapi.ratelimit import ClientLimiter, limiter_for
from adapters.smartapi.redact import adapter_logger
from adapters.smartapi.routes import ROUTES, Route
from adapters.smartapi.secrets import Secret
from engine.errors import BrokerUnavailableError, RateLimitedError, TemporaryBrokerError

__all__ = ["SmartApiHttp", "backoff_delay"]

log = adapter_logger("broker")


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt counts from 0)."""
    return rng.uniform(0.0, min(cap, base * (2**attempt)))


class SmartApiHttp:
    """REST calls for one client code. Use as ``async with SmartApiHttp(...) as http``."""

    def __init__(
        self,
        config: SmartApiConfig,
        *,
        client_code: str,
        api_key: Secret,
        limiter: ClientLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.client_code = client_code
        self._api_key = api_key
        self.limiter = limiter or limiter_for(client_code, config.orders_per_s)
        self.jwt: Secret | None = None
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=config.rest_url,
            timeout=httpx.Timeout(config.timeout_s),
            transport=transport,
            headers=self._fixed_headers(),
        )

    def _fixed_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-UserType": "USER",
            "X-SourceID": "WEB",
            "X-ClientLocalIP": self.config.local_ip,
            "X-ClientPublicIP": self.config.public_ip,
            "X-MACAddress": self.config.mac_address,
            "X-PrivateKey": self._api_key.reveal(),
        }

    async def __aenter__(self) -> SmartApiHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        name: str,
        body: dict[str, Any] | None = None,
        *,
        suffix: str = "",
        retry: bool | None = None,
        urgent: bool = False,
    ) -> Any:
        """Call route ``name`` and return its ``data``; typed ``BrokerError`` otherwise.

        ``retry`` defaults to True for auth and data routes and False for order routes.
        ``urgent`` lets a data call (an order lookup) skip the queue behind orders.
        """
        route = ROUTES[name]
        retry = route.kind != "order" if retry is None else retry
        attempt = 0
        while True:
            try:
                return await self._once(route, body, suffix, urgent)
            except TemporaryBrokerError as e:
                refused = isinstance(e, RateLimitedError)
                if attempt + 1 >= self.config.max_attempts or not (retry or refused):
                    raise
                delay = backoff_delay(
                    attempt, self.config.backoff_base_s, self.config.backoff_max_s, self._rng
                )
                log.warning("{}; retry {} in {:.2f} s", e, attempt + 1, delay)
                attempt += 1
                await anyio.sleep(delay)

    async def _once(
        self, route: Route, body: dict[str, Any] | None, suffix: str, urgent: bool
    ) -> Any:
        if route.kind == "order":
            await self.limiter.order()
        else:
            await self.limiter.data(route.name, route.per_second, urgent=urgent)
        headers = {}
        if route.bearer and self.jwt is not None:
            headers["Authorization"] = f"Bearer {self.jwt.reveal()}"
        content = None
        if route.method == "POST":
            clean = {k: v for k, v in (body or {}).items() if v is not None}
            content = json.dumps(clean).encode()
        path = route.path + suffix
        started = time.perf_counter()
        try:
            reply = await self._client.request(route.method, path, content=content, headers=headers)
        except httpx.TimeoutException as e:
            raise BrokerUnavailableError(
                f"{route.name}: no reply within {self.config.timeout_s} s",
                maybe_processed=not isinstance(e, httpx.ConnectTimeout),
                route=route.name,
            ) from None
        except httpx.ConnectError:
            raise BrokerUnavailableError(
                f"{route.name}: could not connect to {self.config.rest_url}",
                maybe_processed=False,
                route=route.name,
            ) from None
        except httpx.TransportError as e:
            raise BrokerUnavailableError(
                f"{route.name}: the connection failed ({type(e).__name__})", route=route.name
            ) from None
        ms = (time.perf_counter() - started) * 1000
        log.info("{} {} -> {} in {:.0f} ms", route.method, path, reply.status_code, ms)
        return parse_reply(reply.status_code, reply.content, route.name)
