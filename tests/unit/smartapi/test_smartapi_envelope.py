"""REST replies: the three failure shapes become the right typed errors."""

from __future__ import annotations

import json

import pytest

from adapters.smartapi.parsing.envelope import parse_reply
from engine.errors import (
    BrokerError,
    BrokerUnavailableError,
    LoginRefusedError,
    RateLimitedError,
    SessionExpiredError,
    TemporaryBrokerError,
)


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_parse_reply_when_success_then_data() -> None:
    reply = body({"status": True, "message": "SUCCESS", "errorcode": "", "data": {"a": 1}})
    assert parse_reply(200, reply, "funds") == {"a": 1}


def test_parse_reply_when_gateway_ag8001_then_session_expired_not_generic() -> None:
    reply = body({"success": False, "message": "Invalid Token", "errorCode": "AG8001", "data": ""})
    with pytest.raises(SessionExpiredError) as info:
        parse_reply(200, reply, "funds")
    assert info.value.code == "AG8001" and info.value.route == "funds"
    assert "log in again" in str(info.value)


def test_parse_reply_when_ag_code_in_first_shape_then_still_classified_by_code() -> None:
    reply = body({"status": False, "message": "Invalid Token", "errorcode": "AG8001"})
    with pytest.raises(SessionExpiredError):
        parse_reply(401, reply, "funds")


def test_parse_reply_when_plain_text_403_then_rate_limited() -> None:
    with pytest.raises(RateLimitedError) as info:
        parse_reply(403, b"Access denied because of exceeding access rate", "order_book")
    assert info.value.status == 403
    assert isinstance(info.value, TemporaryBrokerError)


def test_parse_reply_when_status_false_as_string_then_business_error() -> None:
    # the docs' own sample writes "false" and "null" as strings
    reply = body({"status": "false", "message": "Order not found", "errorcode": "AB1013",
                  "data": "null"})  # fmt: skip
    with pytest.raises(BrokerError) as info:
        parse_reply(200, reply, "order_details")
    assert type(info.value) is BrokerError and info.value.code == "AB1013"


@pytest.mark.parametrize("code", ["AB1050", "AB1007", "AG8004"])
def test_parse_reply_when_login_codes_then_login_refused(code: str) -> None:
    reply = body({"status": False, "message": "refused", "errorcode": code, "data": None})
    with pytest.raises(LoginRefusedError):
        parse_reply(200, reply, "login")


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (200, b"", BrokerUnavailableError),
        (500, b"Internal Server Error", BrokerUnavailableError),
        (502, b"", BrokerUnavailableError),
        (429, b"", RateLimitedError),
        (429, b"Too Many Requests", RateLimitedError),
        (200, b"<html>gateway</html>", BrokerUnavailableError),
        (200, b"[1, 2]", BrokerUnavailableError),
        (404, b"Not Found", BrokerError),
    ],
)
def test_parse_reply_when_transport_level_reply_then_typed(
    status: int, raw: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        parse_reply(status, raw, "ltp")
    assert type(info.value) is error


def test_parse_reply_when_retryable_business_code_then_temporary() -> None:
    reply = body({"status": False, "message": "Something Went Wrong", "errorcode": "AB1004"})
    with pytest.raises(BrokerUnavailableError):
        parse_reply(200, reply, "ltp")
