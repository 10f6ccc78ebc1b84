"""REST replies to data or typed errors: the three failure shapes of the wire contract §2.3.

1. business error: ``{"status": false, "message", "errorcode": "AB1013", "data": null}``;
   any ``status`` other than boolean ``true`` is a failure (the docs print ``"false"``);
2. gateway error: ``{"success": false, "message", "errorCode": "AG8001", "data": ""}``;
   AG8001 and its kin mean the session is gone, not a generic error;
3. rate limit: HTTP 403 with the plain-text body ``Access denied because of exceeding
   access rate`` (and 429, with or without a body).

The body decides first, the HTTP status second. The HTTP status of an AG reply is not
documented (200 is likely): it is classified by its code whatever the status. Error
messages quote the broker's code and message, never the request or a token.
"""

from __future__ import annotations

import json
from typing import Any

from engine.errors import (
    BrokerError,
    BrokerUnavailableError,
    LoginRefusedError,
    RateLimitedError,
    SessionExpiredError,
)

__all__ = ["LOGIN_CODES", "RETRYABLE_CODES", "SESSION_CODES", "parse_reply"]

#: The token is gone: AG8001 invalid, AG8002 expired, AG8003 missing, refresh token
#: invalid/expired, AMX session expired, client not logged in.
SESSION_CODES = frozenset({"AG8001", "AG8002", "AG8003", "AB8050", "AB8051", "AB1010", "AB1011"})
#: Credentials refused. A wrong TOTP is AB1050 or AB1007 depending on the source (§12.2);
#: both are read as a refused login, as are AB1000/AB1001 and a wrong API key (AG8004).
LOGIN_CODES = frozenset({"AB1000", "AB1001", "AB1007", "AB1050", "AG8004"})
#: "Something went wrong, try after some time" and "internal error": temporary.
RETRYABLE_CODES = frozenset({"AB1004", "AB2001"})

_RATE_TEXT = ("exceeding access rate", "exceeding rate limit", "access denied")
_SNIPPET = 80


def parse_reply(status: int, body: bytes, route: str) -> Any:
    """The ``data`` of a successful reply; otherwise raise the matching ``BrokerError``."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return _empty(status, route)
    try:
        envelope = json.loads(text)
    except ValueError:
        return _not_json(status, text, route)
    if not isinstance(envelope, dict):
        raise BrokerUnavailableError(
            f"{route}: the reply was JSON but not an object (HTTP {status})",
            route=route,
            status=status,
        )
    if "success" in envelope or "errorCode" in envelope:  # shape 2 (gateway)
        ok = envelope.get("success") is True
    else:  # shape 1 (and success)
        ok = envelope.get("status") is True
    if ok and 200 <= status < 300:
        return envelope.get("data")
    raise _error(envelope, status, route)


def _empty(status: int, route: str) -> Any:
    if status == 429:
        raise RateLimitedError(f"{route}: rate limited (HTTP 429)", route=route, status=status)
    what = f"HTTP {status}" if status >= 500 else f"an empty reply (HTTP {status})"
    raise BrokerUnavailableError(f"{route}: the broker sent {what}", route=route, status=status)


def _not_json(status: int, text: str, route: str) -> Any:
    lowered = text.lower()
    snippet = text[:_SNIPPET]
    if status in (403, 429) or any(t in lowered for t in _RATE_TEXT):
        raise RateLimitedError(
            f"{route}: rate limited (HTTP {status}: {snippet})", route=route, status=status
        )
    if status >= 500 or status < 400:
        raise BrokerUnavailableError(
            f"{route}: the reply was not JSON (HTTP {status}: {snippet})",
            route=route,
            status=status,
        )
    raise BrokerError(f"{route}: HTTP {status}: {snippet}", route=route, status=status)


def _error(envelope: dict[str, Any], status: int, route: str) -> BrokerError:
    code = str(envelope.get("errorcode") or envelope.get("errorCode") or "").strip() or None
    message = str(envelope.get("message") or "").strip()[:200] or "no message"
    where = {"code": code, "route": route, "status": status}
    if code in SESSION_CODES:
        return SessionExpiredError(
            f"{route}: the session is no longer valid ({code} {message}); log in again", **where
        )
    if code in LOGIN_CODES:
        return LoginRefusedError(
            f"{route}: login refused ({code} {message}); check the client code, PIN, TOTP "
            "secret and API key",
            **where,
        )
    if code in RETRYABLE_CODES or (code is None and status >= 500):
        return BrokerUnavailableError(f"{route}: {code or status} {message}", **where)
    if status == 429:
        return RateLimitedError(f"{route}: rate limited ({message})", **where)
    return BrokerError(f"{route}: {code or f'HTTP {status}'} {message}", **where)
