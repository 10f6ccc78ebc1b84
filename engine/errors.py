"""The error tree, grouped by what the person running the engine must do.

```
EngineError                    base of everything the engine raises on purpose
 +-- UserInputError            fix your input and run again (exit code 2, no traceback)
 |    +-- SpecError            rule or machine YAML is wrong; carries every Diagnostic
 |    +-- ExprError            one expression is wrong; carries its Diagnostics
 |    +-- DataError            a data file is corrupt or unusable (file, line, reason)
 |    +-- CalendarError        a date or underlying the calendar does not know
 |    +-- FileAccessError      a file or folder cannot be read or written as asked
 |         +-- UnsafePathError a symbolic link, FIFO or device where the engine reads or writes
 +-- SafetyError              a safety property was violated at run time: stop trading
 |    +-- InvariantViolated    a state invariant failed after a transition
 |    +-- InvalidTransition    a trigger sent to a state that does not accept it
 +-- BrokerError               the broker said no or could not be reached (never retried)
      +-- TemporaryBrokerError back off and retry
      |    +-- RateLimitedError      refused for going too fast (429, plain-text 403): slow down
      |    +-- BrokerUnavailableError 5xx, timeout, dropped connection, empty or unreadable reply
      +-- SessionExpiredError  the session token is no longer accepted: log in again
      +-- LoginRefusedError    client code, PIN, TOTP or API key refused: fix the credentials
      +-- OrderStateUnknownError an order's fate could not be established: reconcile first
```

Each class says when it is raised. Messages use full words and say "was", not "got".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.diagnostics import Diagnostic

__all__ = [
    "BrokerError",
    "BrokerUnavailableError",
    "CalendarError",
    "DataError",
    "EngineError",
    "ExprError",
    "FileAccessError",
    "InvalidTransition",
    "InvariantViolated",
    "LoginRefusedError",
    "OrderStateUnknownError",
    "RateLimitedError",
    "SafetyError",
    "SessionExpiredError",
    "SpecError",
    "TemporaryBrokerError",
    "UnsafePathError",
    "UserInputError",
]


class EngineError(Exception):
    """Base of every error the engine raises on purpose.

    Its message often quotes a user's file or input, so control characters in it are
    escaped here (``printable``), for every error class at once: printing an error can
    never clear a terminal or fake a line of output.
    """

    def __init__(self, *args: object) -> None:
        from engine.diagnostics import printable

        super().__init__(*(printable(a, keep="\n\t") if isinstance(a, str) else a for a in args))


class UserInputError(EngineError):
    """The user's input is wrong; the message says how to fix it. Exit code 2."""

    exit_code = 2


class _DiagnosticsError(UserInputError):
    """An error that carries one or more located diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sorted(diagnostics, key=lambda d: d.sort_key)
        super().__init__("\n".join(d.headline() for d in self.diagnostics))

    def render(self, *, color: bool = False) -> str:
        """Every diagnostic with its source line and caret, for a terminal."""
        return "\n".join(d.render() for d in self.diagnostics)


class SpecError(_DiagnosticsError):
    """Raised when a rule or machine file fails to load; lists every problem at once."""


class ExprError(_DiagnosticsError):
    """Raised when an expression fails its load-time checks (syntax, names, types, limits)."""


class DataError(UserInputError):
    """Raised when a data file cannot be used: names the file, the line and the reason."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")


class CalendarError(UserInputError):
    """Raised for a date outside the calendar's range or an underlying it does not know."""


class FileAccessError(UserInputError):
    """Raised when a file or folder cannot be read or written: names the path and the reason
    (missing folder, permission denied, disk full, a folder where a file was expected)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class UnsafePathError(FileAccessError):
    """Raised when a symbolic link, FIFO or device sits where the engine reads or writes a
    file: the engine never follows a link out of the folder it was given."""


class SafetyError(EngineError):
    """A safety property failed at run time; the engine must stop taking risk."""


class InvariantViolated(SafetyError):
    """A state's invariant did not hold after a transition into or within it."""

    def __init__(self, machine: str, state: str, invariant: str, reads: dict[str, object]):
        self.machine = machine
        self.state = state
        self.invariant = invariant
        self.reads = reads
        values = ", ".join(f"{k}={v!r}" for k, v in reads.items())
        super().__init__(
            f"{machine}: invariant of state '{state}' does not hold: {invariant} ({values})"
        )


class InvalidTransition(SafetyError):
    """A trigger was sent to a state that has no transition for it: ``"open -> fill_entry"``."""

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        self.machine = machine
        self.state = state
        self.trigger = trigger
        super().__init__(f"{machine}: {state} -> {trigger}: no transition for this trigger")


class BrokerError(EngineError):
    """The broker rejected a request or answered with an error.

    ``code`` is the broker's error code when it sent one (``AB1013``), ``route`` the call
    that failed and ``status`` the HTTP status. Messages never carry a credential or token.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        route: str | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code
        self.route = route
        self.status = status
        super().__init__(message)


class TemporaryBrokerError(BrokerError):
    """The broker could not be reached or asked us to slow down: back off and retry."""


class RateLimitedError(TemporaryBrokerError):
    """Refused for exceeding a rate limit (HTTP 429, or SmartAPI's plain-text HTTP 403).

    The request was turned away before it was processed, so resending it is safe.
    """


class BrokerUnavailableError(TemporaryBrokerError):
    """A server error, a timeout, a dropped connection or an empty or unreadable reply.

    ``maybe_processed`` is True when the request may have reached the broker: an order
    sent this way must be looked up before it is sent again.
    """

    def __init__(self, message: str, *, maybe_processed: bool = True, **where: object) -> None:
        self.maybe_processed = maybe_processed
        super().__init__(message, **where)  # type: ignore[arg-type]


class SessionExpiredError(BrokerError):
    """The broker no longer accepts the session's token (SmartAPI AG8001): log in again."""


class LoginRefusedError(BrokerError):
    """The broker refused the client code, PIN, TOTP or API key: fix the stored credentials."""


class OrderStateUnknownError(BrokerError):
    """An order's reply was lost and looking it up by its tag did not settle whether it exists.

    Nothing is sent again; the order manager must reconcile with the broker first.
    """
