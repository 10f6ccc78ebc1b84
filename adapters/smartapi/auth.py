"""Login, token refresh, validity, forced logout and the static-IP check (contract §3).

A login sends the client code, the PIN and the current TOTP (pyotp) and receives the JWT,
the refresh token and the feed token; all three are replaced on every refresh. The
session's expiry is the earlier of the JWT's ``exp`` claim (when the token carries one)
and midnight IST after it was issued, when Angel One ends every session (§3.4).

``SmartApiSession.lasts_until(t)`` answers "will this session still be valid at t" so the
runtime can refuse to go live when it would not last to the close. ``keep_alive`` refreshes
before the expiry (falling back to a fresh login), and when neither works it tells every
``on_refresh_failed`` listener while the session is still valid, so the kill switch and the
session machine can act before orders start to fail. At ``logout_at`` it logs out: SEBI's
framework expects every session closed before the next trading day.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import anyio
import pyotp

from adapters.smartapi.http import SmartApiHttp
from adapters.smartapi.redact import adapter_logger, redact, register_secret
from adapters.smartapi.secrets import Credentials, Secret
from engine.errors import BrokerError, SessionExpiredError, UserInputError
from engine.timeutil import IST

__all__ = [
    "IpCheck",
    "Profile",
    "SessionPolicy",
    "SessionRefreshFailed",
    "SessionTokens",
    "SmartApiSession",
    "StaticIpResult",
    "check_static_ip",
    "current_totp",
    "token_expiry",
]

log = adapter_logger("broker")
Listener = Callable[["SessionRefreshFailed"], Any]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def current_totp(secret: Secret, at: datetime | None = None) -> Secret:
    """The 6-digit TOTP for ``at`` (now); ``UserInputError`` when the secret is not base32."""
    try:
        totp = pyotp.TOTP(secret.reveal())
        code = totp.at(at) if at is not None else totp.now()
    except (binascii.Error, ValueError, TypeError) as e:
        why = "not base32" if isinstance(e, binascii.Error) else redact(str(e))[:80]
        raise UserInputError(
            f"the stored TOTP secret is not a usable key ({why}); store the base32 key shown "
            "when TOTP was enabled on the account (engine login)"
        ) from None
    return Secret(code)


def _jwt_exp(token: str) -> datetime | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.fromtimestamp(float(payload["exp"]), UTC)
    except (ValueError, KeyError, TypeError, binascii.Error, OverflowError):
        return None


def token_expiry(jwt: str, issued_at: datetime, day_end: time = time(0, 0)) -> datetime:
    """The earlier of the JWT's ``exp`` and the first ``day_end`` IST after ``issued_at``."""
    local = issued_at.astimezone(IST)
    end = datetime.combine(local.date(), day_end, tzinfo=IST)
    if end <= local:
        end += timedelta(days=1)
    exp = _jwt_exp(jwt)
    return min(end, exp).astimezone(UTC) if exp else end.astimezone(UTC)


@dataclass(frozen=True, repr=False)
class SessionTokens:
    jwt: Secret
    refresh: Secret
    feed: Secret
    issued_at: datetime
    expires_at: datetime

    def __repr__(self) -> str:
        return f"SessionTokens(issued_at={self.issued_at}, expires_at={self.expires_at})"


@dataclass(frozen=True)
class Profile:
    """The profile fields the engine uses (no e-mail or phone number is kept)."""

    client_code: str
    name: str
    exchanges: tuple[str, ...]
    products: tuple[str, ...]
    broker_id: str
    #: The contract lists no profile key for the static IP registered with the API key;
    #: read from ``staticip``/``staticIp`` when a reply carries one, else None.
    registered_ip: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Profile:
        def strings(value: Any) -> tuple[str, ...]:
            # docs print these as quoted strings, SDKs and recordings as lists (§3.5)
            if isinstance(value, str):
                value = value.strip("[]").replace('"', "").split(",")
            return tuple(str(v).strip() for v in value or () if str(v).strip())

        ip = data.get("staticip") or data.get("staticIp")
        return cls(
            client_code=str(data.get("clientcode", "")),
            name=str(data.get("name", "")),
            exchanges=strings(data.get("exchanges")),
            products=strings(data.get("products")),
            broker_id=str(data.get("brokerid", "")),
            registered_ip=str(ip) if ip else None,
        )


@dataclass(frozen=True)
class SessionRefreshFailed:
    """The session could be neither refreshed nor renewed; it ends at ``expires_at``."""

    at: datetime
    expires_at: datetime
    reason: str


@dataclass(frozen=True)
class SessionPolicy:
    #: refresh when the session has less than this left
    refresh_margin: timedelta = timedelta(minutes=10)
    #: give up and raise the alarm when less than this is left
    alarm_margin: timedelta = timedelta(minutes=2)
    #: pause between failed refresh attempts
    retry_every: timedelta = timedelta(seconds=20)
    #: Angel One ends sessions at midnight IST
    day_end: time = time(0, 0)


class SmartApiSession:
    """One client's login session: tokens, validity, refresh, logout."""

    def __init__(
        self,
        http: SmartApiHttp,
        credentials: Credentials,
        *,
        policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.policy = policy or SessionPolicy()
        self._clock = clock
        self.tokens: SessionTokens | None = None
        self.profile_data: Profile | None = None
        self._listeners: list[Listener] = []

    # -- state ---------------------------------------------------------------------

    @property
    def expires_at(self) -> datetime | None:
        return self.tokens.expires_at if self.tokens else None

    def lasts_until(self, t: datetime) -> bool:
        """True when the session is logged in and still valid at instant ``t``."""
        return self.tokens is not None and self.tokens.expires_at > t

    def on_refresh_failed(self, listener: Listener) -> None:
        """Call ``listener(SessionRefreshFailed)`` when the session cannot be kept alive."""
        self._listeners.append(listener)

    # -- calls ---------------------------------------------------------------------

    async def login(self) -> Profile:
        """Log in with client code, PIN and TOTP, then read the profile."""
        c = self.credentials
        data = await self.http.call(
            "login",
            {
                "clientcode": c.client_code,
                "password": c.pin.reveal(),
                "totp": current_totp(c.totp_secret).reveal(),
            },
        )
        self._take_tokens(data, "login")
        log.info("logged in as {}; session valid until {}", c.client_code, self.expires_at)
        return await self.profile()

    async def refresh(self) -> None:
        """New JWT, refresh and feed tokens from the refresh token (§3.3)."""
        if self.tokens is None:
            raise SessionExpiredError("no session to refresh; log in first", route="refresh")
        data = await self.http.call(
            "generate_tokens", {"refreshToken": self.tokens.refresh.reveal()}
        )
        self._take_tokens(data, "generate_tokens")
        log.info("session refreshed; valid until {}", self.expires_at)

    async def profile(self) -> Profile:
        data = await self.http.call("profile")
        if not isinstance(data, dict):
            raise BrokerError("profile: the reply carried no profile", route="profile")
        self.profile_data = Profile.from_data(data)
        return self.profile_data

    async def logout(self) -> None:
        """Log out (the JWT stops working); the tokens are dropped either way."""
        try:
            if self.tokens is not None:
                await self.http.call("logout", {"clientcode": self.credentials.client_code})
                log.info("logged out {}", self.credentials.client_code)
        finally:
            self._drop_tokens()

    async def ensure_valid(self, until: datetime) -> None:
        """Make sure the session lasts past ``until``: refresh, else log in again.

        Raises ``SessionExpiredError`` (after telling the listeners) when neither works.
        """
        if self.lasts_until(until):
            return
        reason = await self._renew()
        if reason is None and self.lasts_until(until):
            return
        why = reason or f"the renewed session ends {self.expires_at}, before {until}"
        await self._alarm(why)
        raise SessionExpiredError(f"the session cannot be kept until {until}: {why}")

    async def keep_alive(self, logout_at: datetime) -> None:
        """Refresh before each expiry until ``logout_at``, then log out. Run it in a task."""
        while True:
            now = self._clock()
            if now >= logout_at:
                await self.logout()
                return
            if self.tokens is None:
                await self._alarm("not logged in")
                return
            due = self.tokens.expires_at - self.policy.refresh_margin
            if now >= due:
                reason = await self._renew()
                took = self._clock() - now
                left = self.tokens.expires_at - self._clock() if self.tokens else timedelta(0)
                # another attempt may take as long as this one did: alarm while there is time
                if left <= self.policy.alarm_margin + (took if reason else timedelta(0)):
                    await self._alarm(reason or "a renewed session would not outlast the margin")
                    return
                if reason is not None or left <= self.policy.refresh_margin:
                    pause = min(self.policy.retry_every, left - self.policy.alarm_margin)
                    await anyio.sleep(max(0.0, pause.total_seconds()))
                continue
            wake = min(due, logout_at)
            await anyio.sleep(max(0.0, (wake - now).total_seconds()))

    # -- internals -----------------------------------------------------------------

    async def _renew(self) -> str | None:
        """Refresh, else log in again; None when one worked, else the reason."""
        try:
            await self.refresh()
            return None
        except BrokerError as e:
            log.warning("token refresh failed: {}; logging in again", e)
            first = str(e)
        try:
            await self.login()
            return None
        except BrokerError as e:
            return f"refresh failed ({first}); login failed ({e})"

    async def _alarm(self, reason: str) -> None:
        expires = self.expires_at or self._clock()
        event = SessionRefreshFailed(at=self._clock(), expires_at=expires, reason=reason)
        log.error("session cannot be kept alive: {} (valid until {})", reason, expires)
        for listener in list(self._listeners):
            result = listener(event)
            if hasattr(result, "__await__"):
                await result

    def _take_tokens(self, data: Any, route: str) -> None:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) and data.get(k)
            for k in ("jwtToken", "refreshToken", "feedToken")
        ):
            raise BrokerError(f"{route}: the reply carried no tokens", route=route)
        now = self._clock()
        self._drop_tokens()
        jwt = data["jwtToken"]
        if jwt.startswith("Bearer "):  # the wire has no prefix; be lenient if one appears
            jwt = jwt[len("Bearer ") :]
        for value in (jwt, data["refreshToken"], data["feedToken"]):
            register_secret(value)
        self.tokens = SessionTokens(
            jwt=Secret(jwt),
            refresh=Secret(data["refreshToken"]),
            feed=Secret(data["feedToken"]),
            issued_at=now,
            expires_at=token_expiry(jwt, now, self.policy.day_end),
        )
        self.http.jwt = self.tokens.jwt

    def _drop_tokens(self) -> None:
        # old tokens stay registered for redaction: they may still sit in a buffer
        self.tokens = None
        self.http.jwt = None


class IpCheck(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_CONFIGURED = "not_configured"  # no outward address was configured
    NOT_REGISTERED = "not_registered"  # no registered static IP is known


@dataclass(frozen=True)
class StaticIpResult:
    """Outcome of comparing the registered static IP with this machine's outward address.

    Whether to warn (paper) or refuse (live) is the caller's decision.
    """

    outcome: IpCheck
    registered: str | None
    outward: str | None

    @property
    def ok(self) -> bool:
        return self.outcome is IpCheck.MATCH

    def describe(self) -> str:
        if self.outcome is IpCheck.MATCH:
            return f"static IP {self.registered} matches this machine's outward address"
        if self.outcome is IpCheck.MISMATCH:
            return (
                f"orders are accepted only from the registered static IP {self.registered}, "
                f"but this machine's outward address is {self.outward}"
            )
        if self.outcome is IpCheck.NOT_CONFIGURED:
            return "no outward address is configured; the static IP was not checked"
        return "no registered static IP is known; the static IP was not checked"


def check_static_ip(registered: str | None, outward: str | None) -> StaticIpResult:
    """Compare the API key's registered IP with the configured outward address."""
    import ipaddress

    if not outward:
        return StaticIpResult(IpCheck.NOT_CONFIGURED, registered, outward)
    if not registered:
        return StaticIpResult(IpCheck.NOT_REGISTERED, registered, outward)
    try:
        same = ipaddress.ip_address(registered.strip()) == ipaddress.ip_address(outward.strip())
    except ValueError:
        same = registered.strip() == outward.strip()
    return StaticIpResult(IpCheck.MATCH if same else IpCheck.MISMATCH, registered, outward)
