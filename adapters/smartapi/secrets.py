"""SmartAPI credentials: OS keyring first, environment variables as the fallback.

Four values make a login: the client code, the account PIN, the TOTP secret (base32, from
enabling TOTP on the account) and the API key of the SmartAPI app. ``engine login`` asks
for them once and stores them in the OS keyring under the service ``nse-rule-engine.smartapi``;
where no keyring is available (a server, CI) the environment variables
``SMARTAPI_CLIENT_CODE``, ``SMARTAPI_PIN``, ``SMARTAPI_TOTP_SECRET`` and
``SMARTAPI_API_KEY`` are read instead.

Secret values live in ``Secret`` objects whose ``repr`` and ``str`` are ``***``; reading
the value takes an explicit ``reveal()``. Creating one registers it for log redaction.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.smartapi.redact import adapter_logger, register_secret
from engine.errors import UserInputError

__all__ = [
    "ENV_VARS",
    "KEYRING_SERVICE",
    "Credentials",
    "MissingCredentialsError",
    "Secret",
    "load_credentials",
    "store_credentials",
]

log = adapter_logger("broker")

KEYRING_SERVICE = "nse-rule-engine.smartapi"
#: field -> environment variable (also the keyring entry's user name)
ENV_VARS = {
    "client_code": "SMARTAPI_CLIENT_CODE",
    "pin": "SMARTAPI_PIN",
    "totp_secret": "SMARTAPI_TOTP_SECRET",
    "api_key": "SMARTAPI_API_KEY",
}


class Secret:
    """A secret string: masked in ``repr``/``str``/logs; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not pickled")


@dataclass(frozen=True, repr=False)
class Credentials:
    """What a SmartAPI login needs. The client code is an account id, not a secret."""

    client_code: str
    pin: Secret
    totp_secret: Secret
    api_key: Secret

    def __repr__(self) -> str:
        return (
            f"Credentials(client_code={self.client_code!r}, pin=***, totp_secret=***, api_key=***)"
        )

    __str__ = __repr__

    @classmethod
    def of(cls, client_code: str, pin: str, totp_secret: str, api_key: str) -> Credentials:
        return cls(client_code, Secret(pin), Secret(totp_secret), Secret(api_key))


class MissingCredentialsError(UserInputError):
    """Some credentials are in neither the keyring nor the environment."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        names = ", ".join(ENV_VARS[m] for m in missing)
        super().__init__(
            f"SmartAPI credentials are missing: {names}; run 'engine login' to store them in "
            "the OS keyring, or set these environment variables"
        )


def _keyring_get(field: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, ENV_VARS[field])
        except KeyringError as e:
            log.debug("keyring unavailable ({}); using the environment", type(e).__name__)
            return None
    except Exception as e:  # a broken keyring backend must not stop env-based logins
        log.debug("keyring failed ({}); using the environment", type(e).__name__)
        return None


def load_credentials(
    env: Mapping[str, str] | None = None, *, use_keyring: bool = True
) -> Credentials:
    """Credentials from the keyring, else the environment; ``MissingCredentialsError``."""
    env = os.environ if env is None else env
    values: dict[str, str] = {}
    for field, var in ENV_VARS.items():
        value = _keyring_get(field) if use_keyring else None
        if not value:
            value = env.get(var, "").strip()
        if value:
            values[field] = value
    missing = [f for f in ENV_VARS if f not in values]
    if missing:
        raise MissingCredentialsError(missing)
    return Credentials.of(**values)


def store_credentials(credentials: Credentials) -> str:
    """Save into the OS keyring; returns the backend's name. ``UserInputError`` without one."""
    import keyring
    from keyring.errors import KeyringError

    values = {
        "client_code": credentials.client_code,
        "pin": credentials.pin.reveal(),
        "totp_secret": credentials.totp_secret.reveal(),
        "api_key": credentials.api_key.reveal(),
    }
    backend = keyring.get_keyring()
    problem = ""
    try:
        for field, value in values.items():
            keyring.set_password(KEYRING_SERVICE, ENV_VARS[field], value)
            # some backends (the null one) accept silently and keep nothing: read it back
            if keyring.get_password(KEYRING_SERVICE, ENV_VARS[field]) != value:
                problem = "it did not keep the values"
                break
    except KeyringError as e:
        problem = type(e).__name__
    if problem:
        raise UserInputError(
            f"no usable OS keyring ({type(backend).__name__}: {problem}); set the "
            f"environment variables {', '.join(ENV_VARS.values())} instead"
        )
    return type(backend).__name__
