"""Secrets never reach a log: every registered secret value is cut out of log records.

``Secret`` values register themselves here when they are created (credentials, session
tokens, the TOTP codes sent), and ``redact_record`` is a loguru patcher that replaces each
of them with ``***`` in the message, in every string of ``extra`` and in the text of an
attached exception. The adapter's own loggers always carry the patcher
(``adapter_logger``); ``install_log_redaction`` puts it on every record of the process,
which the command line does before an adapter starts.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.logs import loguru_logger

__all__ = [
    "MASK",
    "adapter_logger",
    "forget_secret",
    "install_log_redaction",
    "redact",
    "redact_record",
    "register_secret",
]

MASK = "***"
#: Shorter values are not registered: masking every "12" in every log line hides nothing.
MIN_LENGTH = 4

_lock = threading.Lock()
_values: tuple[str, ...] = ()  # longest first, so a secret containing another is masked whole


def register_secret(value: str) -> None:
    """Mask ``value`` in every log record from now on."""
    global _values
    if len(value) < MIN_LENGTH:
        return
    with _lock:
        if value not in _values:
            _values = tuple(sorted((*_values, value), key=len, reverse=True))


def forget_secret(value: str) -> None:
    """Stop masking ``value`` (a token that was replaced; tests)."""
    global _values
    with _lock:
        _values = tuple(v for v in _values if v != value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for value in _values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_any(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_any(v) for v in value)
    return value


class RedactedError(Exception):
    """Stands in for an exception whose text held a secret."""


def redact_record(record: Any) -> None:
    """Loguru patcher: mask secrets in the message, the extras and an attached exception."""
    if not _values:
        return
    record["message"] = redact(record["message"])
    extra = record["extra"]
    for key, value in extra.items():
        extra[key] = _redact_any(value)
    exc = record["exception"]
    if exc is not None and exc.value is not None:
        text = f"{exc.value!s} {exc.value!r}"
        if redact(text) != text:
            masked = RedactedError(f"{type(exc.value).__name__}: {redact(str(exc.value))}")
            record["exception"] = type(exc)(RedactedError, masked, None)


def adapter_logger(category: str) -> Any:
    """The logger an adapter module uses: bound to a category, redacting."""
    return loguru_logger().bind(category=category).patch(redact_record)


def install_log_redaction() -> None:
    """Put the redacting patcher on every loguru record of this process."""
    loguru_logger().configure(patcher=redact_record)
