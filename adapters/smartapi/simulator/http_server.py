"""The simulator's REST side: a real threaded HTTP/1.1 server speaking the contract's JSON.

Routes and envelopes follow the wire contract (§2-§6, §9). Requests are answered in this
order: an injected fault, the per-route rate limit (HTTP 403 plain text, as the real
gateway), the API key (AG8004), the bearer token (AG8003 missing, AG8001 invalid or
expired, both in the gateway's ``success``/``errorCode`` shape), then the call itself.
GET query strings are ignored (the SDKs send JSON there) and ``market/v1/quote`` is
served with and without its trailing slash.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from adapters.smartapi.ratelimit import SlidingWindow
from adapters.smartapi.routes import ROUTES
from adapters.smartapi.simulator.faults import Fault

if TYPE_CHECKING:
    from adapters.smartapi.simulator.server import Simulator

__all__ = ["MASTER_PATH", "RATE_LIMIT_TEXT", "make_http_server"]

MASTER_PATH = "/OpenAPI_File/files/OpenAPIScripMaster.json"
RATE_LIMIT_TEXT = "Access denied because of exceeding access rate"
_PATHS = {(r.method, r.path): r.name for r in ROUTES.values()}
_DETAILS = ROUTES["order_details"].path + "/"
_ORDER_ROUTES = {"place_order", "modify_order", "cancel_order"}
#: the server's windows are 10% shorter than a second: a client keeping to the published
#: rate is never refused because of network jitter
_WINDOW_S = 0.9


def ok(data: Any) -> dict[str, Any]:
    return {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}


def business_error(code: str, message: str) -> dict[str, Any]:
    return {"status": False, "message": message, "errorcode": code, "data": None}


def gateway_error(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "message": message, "errorCode": code, "data": ""}


class _Limits:
    def __init__(self) -> None:
        self._windows: dict[str, SlidingWindow] = {}
        self._lock = threading.Lock()

    def allow(self, route: str) -> bool:
        with self._lock:
            return self._allow(route)

    def _allow(self, route: str) -> bool:
        key = "orders" if route in _ORDER_ROUTES else route
        window = self._windows.get(key)
        if window is None:
            per_s = ROUTES[route].per_second
            window = self._windows[key] = SlidingWindow(
                max(1, int(per_s)), _WINDOW_S / min(per_s, 1)
            )
        now = time.monotonic()
        if window.earliest(now) > now:
            return False
        window.record(now)
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sim: Simulator
    limits: _Limits


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SmartAPI-simulator"
    disable_nagle_algorithm = True  # header and body go out at once, no 40 ms ACK wait
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # the simulator records requests itself; stderr stays quiet

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _route(self, method: str) -> tuple[str | None, str, str]:
        path = urlsplit(self.path).path
        if len(path) > 1:
            path = path.rstrip("/")
        route = _PATHS.get((method, path))
        if route is None and method == "GET" and path.startswith(_DETAILS):
            return "order_details", path[len(_DETAILS) :], path
        return route, "", path

    def _handle(self, method: str) -> None:
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        route, suffix, path = self._route(method)
        if method == "GET" and path == MASTER_PATH:
            self._send(200, json.dumps(sim.master_rows).encode())
            return
        if route is None:
            self._send(404, b"Not Found", "text/plain")
            return
        sim.record(method, path, dict(self.headers.items()))
        injected = sim.faults.take(route)
        fault = injected.fault if injected else None
        if injected is not None and fault is Fault.SLOW:
            time.sleep(injected.delay_s)
        if self._refused(route, fault):
            return
        reply = self._authorised(route) or self._call(route, raw, suffix, fault)
        if fault is Fault.LOST_REPLY:
            self.close_connection = True  # processed; the reply is never written
        elif fault is Fault.EMPTY_BODY:
            self._send(200, b"")
        else:
            self._send(200, json.dumps(reply).encode())

    def _refused(self, route: str, fault: Fault | None) -> bool:
        refusal = _REFUSALS.get(fault) if fault else None
        if refusal is None and self.server.sim.options.enforce_rate_limits:
            if not self.server.limits.allow(route):
                refusal = (403, RATE_LIMIT_TEXT.encode())
        if refusal is not None:
            self._send(refusal[0], refusal[1], "text/plain")
            return True
        if fault is Fault.SESSION_EXPIRED:
            self.server.sim.sessions.expire_all()
        return False

    def _call(self, route: str, raw: bytes, suffix: str, fault: Fault | None) -> dict[str, Any]:
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return business_error("AB2000", "Invalid request body")
        return self.server.sim.api(route, body, suffix, self._jwt(), fault)

    def _jwt(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ").strip()

    def _authorised(self, route: str) -> dict[str, Any] | None:
        sim = self.server.sim
        if self.headers.get("X-PrivateKey") != sim.credentials.api_key:
            return gateway_error("AG8004", "Invalid API Key")
        if not ROUTES[route].bearer:
            return None
        jwt = self._jwt()
        if not jwt:
            return gateway_error("AG8003", "Token missing")
        if sim.sessions.by_jwt(jwt) is None:
            return gateway_error("AG8001", "Invalid Token")
        return None

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow reply)


_REFUSALS = {
    Fault.RATE_LIMIT_429: (429, b"Too Many Requests"),
    Fault.RATE_LIMIT_403: (403, RATE_LIMIT_TEXT.encode()),
    Fault.SERVER_ERROR: (500, b"Internal Server Error"),
}


def make_http_server(sim: Simulator, host: str, port: int) -> ThreadingHTTPServer:
    server = _Server((host, port), _Handler)
    server.sim = sim
    server.limits = _Limits()
    return server
