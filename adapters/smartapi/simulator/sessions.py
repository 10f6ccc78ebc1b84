"""The simulator's logins: credential and TOTP checks, JWT-looking tokens, expiry.

Tokens look like JWTs (header.payload.signature, base64url) and carry an ``exp`` claim:
the earlier of midnight IST (when Angel One ends every session, §3.4) and
``token_lifetime_s`` after issue when that is set (tests use a few seconds to exercise the
refresh). A TOTP is checked with pyotp against the configured secret, one 30-second step
of clock drift allowed either way, as authenticator apps expect.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from engine.timeutil import IST

__all__ = ["SessionStore", "SimCredentials", "SimSession"]


@dataclass(frozen=True)
class SimCredentials:
    """The simulator's account. The defaults are public test values, shown in --help."""

    client_code: str = "S1234567"
    pin: str = "2580"
    totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    api_key: str = "simulator-api-key"

    def __repr__(self) -> str:
        return f"SimCredentials(client_code={self.client_code!r}, ...)"


@dataclass
class SimSession:
    jwt: str
    refresh: str
    feed: str
    expires: float  # epoch seconds
    valid: bool = True

    def live(self, now: float) -> bool:
        return self.valid and now < self.expires


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _midnight_after(now: float) -> float:
    local = datetime.fromtimestamp(now, IST)
    return (
        datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), IST)
    ).timestamp()


class SessionStore:
    def __init__(self, creds: SimCredentials, token_lifetime_s: float | None = None) -> None:
        self.creds = creds
        self.token_lifetime_s = token_lifetime_s
        self._lock = threading.Lock()
        self._by_jwt: dict[str, SimSession] = {}
        self.logins = 0
        self.refreshes = 0

    def check_login(self, clientcode: str, password: str, totp: str) -> str | None:
        """None when accepted, else the error code (AB1007 credentials, AB1050 TOTP)."""
        if clientcode != self.creds.client_code or password != self.creds.pin:
            return "AB1007"
        if not pyotp.TOTP(self.creds.totp_secret).verify(str(totp), valid_window=1):
            return "AB1050"
        return None

    def issue(self) -> SimSession:
        now = time.time()
        expires = _midnight_after(now)
        if self.token_lifetime_s is not None:
            expires = min(expires, now + self.token_lifetime_s)

        def token(kind: str) -> str:
            header = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
            payload = {"sub": self.creds.client_code, "kind": kind, "iat": int(now),
                       "exp": round(expires, 3), "jti": secrets.token_hex(8)}  # fmt: skip
            body = _b64(json.dumps(payload).encode())
            return f"{header}.{body}.{_b64(secrets.token_bytes(24))}"

        session = SimSession(token("jwt"), token("refresh"), token("feed"), expires)
        with self._lock:
            self._by_jwt[session.jwt] = session
        return session

    def login(self) -> SimSession:
        self.logins += 1
        return self.issue()

    def by_jwt(self, jwt: str) -> SimSession | None:
        with self._lock:
            s = self._by_jwt.get(jwt)
        return s if s is not None and s.live(time.time()) else None

    def refresh(self, refresh_token: str) -> SimSession | None:
        with self._lock:
            found = [s for s in self._by_jwt.values() if s.refresh == refresh_token]
        if not found or not found[0].live(time.time()):
            return None
        self.refreshes += 1
        return self.issue()

    def feed_ok(self, jwt: str, feed: str) -> tuple[bool, bool]:
        """(the JWT is live, the feed token belongs to a live session)."""
        now = time.time()
        with self._lock:
            sessions = list(self._by_jwt.values())
        jwt_ok = any(s.jwt == jwt and s.live(now) for s in sessions)
        feed_ok = any(s.feed == feed and s.live(now) for s in sessions)
        return jwt_ok, feed_ok

    def logout(self, jwt: str) -> None:
        with self._lock:
            s = self._by_jwt.get(jwt)
            if s is not None:
                s.valid = False

    def expire_all(self) -> None:
        with self._lock:
            for s in self._by_jwt.values():
                s.valid = False
