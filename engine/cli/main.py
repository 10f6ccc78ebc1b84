"""Entry point of the ``engine`` command.

Each command lives in its own module under ``engine.cli`` and is imported only when it
runs, so ``engine --help`` stays fast. A command module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

A user's mistake (any ``UserInputError``) is printed without a traceback and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one line of help). Order is the order `engine --help` shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("engine.cli.validate", "check rule and machine files and report every error"),
    "context": ("engine.cli.context", "list the names a rule file's expressions may read"),
    "calendar": ("engine.cli.calendar", "show coming NSE sessions with their hours and expiries"),
    "data": ("engine.cli.data", "import, validate, report gaps in and clean up market data"),
    "indicators": ("engine.cli.indicators", "print bars and indicator values from a data file"),
    "diagram": ("engine.cli.diagram", "export state machine diagrams (mermaid, dot, svg)"),
    "run": ("engine.cli.run", "trade a strategy on paper (a replay without credentials)"),
    "backtest": ("engine.cli.backtest", "replay history through the engine and report the result"),
    "kill-switch": ("engine.cli.killswitch", "stop all trading now: cancel orders, flatten, halt"),
    "resume": ("engine.cli.resume", "resume after a kill-switch halt, with a reason"),
    "login": ("engine.cli.login", "store SmartAPI credentials in the OS keyring"),
    "simulate-broker": (
        "engine.cli.simulate_broker",
        "run a loopback SmartAPI to rehearse offline",
    ),
    "test": ("engine.cli.test_broker", "check the broker link: test connection | test websocket"),
}


def _version() -> str:
    from engine import __version__

    return f"engine {__version__}"


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="engine",
        description="Declarative rule and state-machine engine for NSE options.",
        epilog=f"commands:\n{lines}\n\nRun 'engine COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="engine [--version] [--log-level LEVEL] [--log-json] COMMAND ...",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--log-level", default="WARNING", help="log level for stderr (default WARNING)"
    )
    parser.add_argument("--log-json", action="store_true", help="write logs as JSON lines")
    parser.add_argument("command", nargs="?", metavar="COMMAND", choices=list(COMMANDS))
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _setup_logging(level: str, json_lines: bool) -> None:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level.upper(), serialize=json_lines)
    logger.enable("engine")
    logger.enable("adapters")


def main(argv: Sequence[str] | None = None) -> int:
    top = _top_parser()
    ns = top.parse_args(argv)
    if ns.version:
        print(_version())
        return 0
    if ns.command is None:
        top.print_help()
        return 0
    module_name, text = COMMANDS[ns.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"engine {ns.command}", description=text)
    module.add_arguments(parser)
    args = parser.parse_args(ns.rest)
    _setup_logging(ns.log_level, ns.log_json)

    from engine.errors import UserInputError

    try:
        return int(module.run(args) or 0)
    except UserInputError as e:
        render = getattr(e, "render", None)
        print(render() if render else f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
