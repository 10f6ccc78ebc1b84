"""Credentials: keyring first, environment second; secrets masked in repr, str and logs."""

from __future__ import annotations

import io

import keyring
import pytest
from keyring.backend import KeyringBackend
from loguru import logger

from adapters.smartapi.redact import adapter_logger, redact, register_secret
from adapters.smartapi.secrets import (
    KEYRING_SERVICE,
    Credentials,
    MissingCredentialsError,
    Secret,
    load_credentials,
    store_credentials,
)

ENV = {
    "SMARTAPI_CLIENT_CODE": "A7654321",
    "SMARTAPI_PIN": "8642",
    "SMARTAPI_TOTP_SECRET": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "SMARTAPI_API_KEY": "env-api-key-value",
}


class MemoryKeyring(KeyringBackend):
    """keyring's own extension point, holding passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_credentials_when_printed_then_no_secret_value() -> None:
    creds = Credentials.of("A1", "8642", "GEZDGNBVGY3TQOJQGEZDGNBV", "key-123456")
    text = f"{creds} {creds!r} {creds.pin} {creds.api_key!r}"
    for secret in ("8642", "GEZDGNBVGY3TQOJQGEZDGNBV", "key-123456"):
        assert secret not in text
    assert "A1" in text


def test_load_when_keyring_empty_then_environment(memory_keyring) -> None:  # type: ignore[no-untyped-def]
    creds = load_credentials(ENV)
    assert creds.client_code == "A7654321" and creds.pin.reveal() == "8642"


def test_load_when_keyring_holds_values_then_keyring_wins(memory_keyring) -> None:  # type: ignore[no-untyped-def]
    store_credentials(Credentials.of("K1111111", "1357", "GEZDGNBVGY3TQOJQ", "kr-api-key"))
    assert memory_keyring.store[(KEYRING_SERVICE, "SMARTAPI_PIN")] == "1357"
    creds = load_credentials(ENV)
    assert creds.client_code == "K1111111" and creds.api_key.reveal() == "kr-api-key"


def test_load_when_values_missing_then_error_names_variables_not_values() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        load_credentials({"SMARTAPI_PIN": "8642"}, use_keyring=False)
    message = str(info.value)
    assert "SMARTAPI_CLIENT_CODE" in message and "SMARTAPI_API_KEY" in message
    assert "SMARTAPI_PIN," not in message and "8642" not in message


def test_redact_when_secret_registered_then_masked_in_message_extra_and_exception() -> None:
    Secret("very-secret-token-value")
    out = io.StringIO()
    sink = logger.add(out, format="{message} {extra} {exception}", level="DEBUG")
    try:
        logger.enable("adapters")
        log = adapter_logger("test")
        log.bind(token="very-secret-token-value").info("sent very-secret-token-value")
        try:
            raise ValueError("bad very-secret-token-value")
        except ValueError:
            log.exception("failed")
    finally:
        logger.remove(sink)
    text = out.getvalue()
    assert "very-secret-token-value" not in text
    assert "sent ***" in text


def test_redact_when_short_value_then_not_registered() -> None:
    register_secret("12")
    assert redact("order 12 of 123") == "order 12 of 123"
