"""The simulator's market-data WebSocket (contract §7) on the ``websockets`` library.

The handshake needs the four headers (``Authorization`` with or without ``Bearer``,
``x-api-key``, ``x-client-code``, ``x-feed-token``) or the browser's query parameters;
a failure is HTTP 401 with ``x-error-message`` set as the docs list. Text ``ping`` is
answered ``pong``; (un)subscribe requests update the connection's set of
``(mode, exchange type, token)``, at most 1000 (E1002); a request that cannot be read is
answered with an E1001 error frame. Successful requests get no acknowledgement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

if TYPE_CHECKING:
    from adapters.smartapi.simulator.server import Simulator

__all__ = ["FeedClient", "handshake_check", "serve_client"]

MAX_SUBSCRIPTIONS = 1000
PATH = "/smart-stream"


@dataclass(eq=False)
class FeedClient:
    ws: ServerConnection
    subscriptions: set[tuple[int, int, str]] = field(default_factory=set)


def _refuse(connection: ServerConnection, message: str) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
    response.headers["x-error-message"] = f"Invalid Header - {message}"
    return response


def handshake_check(sim: Simulator, connection: ServerConnection, request: Request) -> Any:
    parts = urlsplit(request.path)
    if parts.path.rstrip("/") != PATH:
        return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    h = request.headers
    jwt = h.get("Authorization", "").removeprefix("Bearer ").strip()
    client = h.get("x-client-code") or query.get("clientCode", "")
    api_key = h.get("x-api-key") or query.get("apiKey", "")
    feed = h.get("x-feed-token") or query.get("feedToken", "")
    jwt_ok, feed_ok = sim.sessions.feed_ok(jwt, feed)
    if jwt and not jwt_ok:
        return _refuse(connection, "Invalid Auth token")
    if not jwt and not query:
        return _refuse(connection, "Invalid Auth token")
    if client != sim.credentials.client_code:
        return _refuse(connection, "Invalid Client Code")
    if api_key != sim.credentials.api_key:
        return _refuse(connection, "Invalid API Key")
    if not feed_ok:
        return _refuse(connection, "Invalid Feed Token")
    return None


def _error(correlation: Any, code: str, message: str) -> str:
    return json.dumps({"correlationID": correlation or "", "errorCode": code,
                       "errorMessage": message})  # fmt: skip


def apply_request(client: FeedClient, text: str) -> str | None:
    """Update the subscriptions; the error frame to send back, or None."""
    request: Any = None
    try:
        request = json.loads(text)
        action = request["action"]
        mode = int(request["params"]["mode"])
        pairs = [
            (int(group["exchangeType"]), str(token))
            for group in request["params"]["tokenList"]
            for token in group["tokens"]
        ]
        if action not in (0, 1) or mode not in (1, 2, 3):
            raise ValueError(action)
    except (ValueError, KeyError, TypeError):
        correlation = request.get("correlationID") if isinstance(request, dict) else None
        return _error(correlation, "E1001", "Invalid Request Payload.")
    keys = {(mode, ex, token) for ex, token in pairs}
    if action == 0:
        client.subscriptions -= keys
        return None
    if len(client.subscriptions | keys) > MAX_SUBSCRIPTIONS:
        return _error(request.get("correlationID"), "E1002",
                      "Invalid Request. Subscription Limit Exceeded")  # fmt: skip
    client.subscriptions |= keys
    return None


async def serve_client(sim: Simulator, ws: ServerConnection) -> None:
    client = FeedClient(ws)
    sim.feed_clients.add(client)
    try:
        async for message in ws:
            if isinstance(message, bytes):
                continue
            if message == "ping":
                await ws.send("pong")
                continue
            error = apply_request(client, message)
            if error is not None:
                await ws.send(error)
    except ConnectionClosed:
        pass
    finally:
        sim.feed_clients.discard(client)
