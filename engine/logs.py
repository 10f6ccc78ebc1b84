"""Loguru, one category per subsystem, imported only when a message is due.

Importing loguru costs about a tenth of a second (it brings asyncio, multiprocessing and
logging with it): more than a fifth of a backtest's start-up. Most runs never emit a
message at the level shown, so the core logs through ``category_logger``: a message below
the level the command line set is dropped before loguru is imported, and the first
message that is due imports it and applies the configuration (sinks, level, JSON).

Used as a library (no command line), nothing is dropped here: every message goes to
loguru, where the engine is disabled by default (``logger.enable("engine")`` shows it),
as a library should be. Adapters that use loguru's own API ask ``loguru_logger()`` for it
so that the command line's configuration is in place first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["LEVELS", "CategoryLogger", "category_logger", "configure_stderr", "loguru_logger"]

#: Loguru's standard levels and their numbers.
LEVELS: dict[str, int] = {
    "TRACE": 5,
    "DEBUG": 10,
    "INFO": 20,
    "SUCCESS": 25,
    "WARNING": 30,
    "ERROR": 40,
    "CRITICAL": 50,
}


@dataclass(slots=True)
class _Config:
    """What the command line asked for, applied when loguru is first imported."""

    stream: TextIO
    level: str
    json_lines: bool


_floor = 0  # messages below this number are dropped without importing loguru
_pending: _Config | None = None
_logger: Any = None  # loguru's logger once imported and configured


def loguru_logger() -> Any:
    """Loguru's logger, with the command line's configuration (or library manners) applied."""
    global _logger, _pending
    if _logger is None:
        from loguru import logger

        if _pending is None:
            logger.disable("engine")  # library manners: importing the engine never prints
        else:
            _apply(logger, _pending)
            _pending = None
        _logger = logger
    return _logger


def configure_stderr(level: str, json_lines: bool, stream: TextIO | None = None) -> None:
    """Show messages at ``level`` and above on ``stream`` (standard error), JSON on request."""
    global _floor, _pending
    _floor = LEVELS.get(level.upper(), 0)
    config = _Config(stream if stream is not None else sys.stderr, level, json_lines)
    if _logger is not None:
        _apply(_logger, config)
    else:
        _pending = config


def _apply(logger: Any, config: _Config) -> None:
    logger.remove()
    logger.add(config.stream, level=config.level, serialize=config.json_lines)
    logger.enable("engine")
    logger.enable("adapters")


class CategoryLogger:
    """A subsystem's logger: loguru's ``bind(category=...)`` with a cheap level gate.

    The methods take loguru's arguments (a ``{}`` format and its values, applied only when
    the message is written) and report the caller, not this module, as the source.
    """

    __slots__ = ("_bound", "category")

    def __init__(self, category: str) -> None:
        self.category = category
        self._bound: Any = None

    def _get(self) -> Any:
        bound = self._bound
        if bound is None:
            bound = self._bound = loguru_logger().bind(category=self.category)
        return bound

    def log(self, level: str, message: str, *args: Any, **kwargs: Any) -> None:
        if LEVELS.get(level, 100) >= _floor:
            self._get().opt(depth=1).log(level, message, *args, **kwargs)

    def trace(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 5:
            self._get().opt(depth=1).log("TRACE", message, *args, **kwargs)

    def debug(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 10:
            self._get().opt(depth=1).log("DEBUG", message, *args, **kwargs)

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 20:
            self._get().opt(depth=1).log("INFO", message, *args, **kwargs)

    def success(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 25:
            self._get().opt(depth=1).log("SUCCESS", message, *args, **kwargs)

    def warning(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 30:
            self._get().opt(depth=1).log("WARNING", message, *args, **kwargs)

    def error(self, message: str, *args: Any, **kwargs: Any) -> None:
        if _floor <= 40:
            self._get().opt(depth=1).log("ERROR", message, *args, **kwargs)

    def critical(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._get().opt(depth=1).log("CRITICAL", message, *args, **kwargs)

    def exception(self, message: str, *args: Any, **kwargs: Any) -> None:
        """An error with the exception being handled (as loguru's ``exception``)."""
        if _floor <= 40:
            self._get().opt(depth=1, exception=True).log("ERROR", message, *args, **kwargs)


def category_logger(category: str) -> CategoryLogger:
    """The logger of one subsystem (``data``, ``runtime``, ``machines``, ...)."""
    return CategoryLogger(category)
