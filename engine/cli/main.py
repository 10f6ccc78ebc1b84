"""Entry point of the ``engine`` command.

Each command lives in its own module under ``engine.cli`` and is imported only when it
runs, so ``engine --help`` stays fast. A command module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

One handler here decides what the person running the command sees when something goes
wrong, so no input a user can give ends in a Python traceback:

- a user's mistake (any ``UserInputError``; a usage error found by argparse; a path that
  cannot be read or written; a file that is not text) is printed without a traceback and
  exits 2;
- anything else is a bug in the engine: one line saying so and how to report it, exit 70,
  and the traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Exit statuses, as ``engine --help`` and docs/architecture.md state them.
EXIT_OK = 0
EXIT_DATA_PROBLEMS = 1  # the data had problems: bars were rejected
EXIT_USAGE = 2  # the user's input or command line is wrong
EXIT_INTERNAL = 70  # a bug in the engine (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130

EXIT_STATUS_HELP = """exit status:
  0   success, nothing to report
  1   problems found in the data (rejected bars)
  2   a mistake in your input or on the command line (the message says what to fix)
  70  an internal error: a bug in the engine (run again with --debug and report it)"""

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")

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
    "explain": ("engine.cli.explain", "why a trade fired, why nothing traded, near misses, diffs"),
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


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a log level; use one of {', '.join(LOG_LEVELS)}"
        )
    return level


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="engine",
        description="Declarative rule and state-machine engine for NSE options.",
        epilog=f"commands:\n{lines}\n\nRun 'engine COMMAND --help' for a command's options."
        f"\n\n{EXIT_STATUS_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="engine [--version] [--log-level LEVEL] [--log-json] [--debug] COMMAND ...",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        type=_log_level,
        metavar="LEVEL",
        help=f"log level for stderr: {', '.join(LOG_LEVELS)} (default WARNING)",
    )
    parser.add_argument("--log-json", action="store_true", help="write logs as JSON lines")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an internal error"
    )
    parser.add_argument("command", nargs="?", metavar="COMMAND", choices=list(COMMANDS))
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _setup_logging(level: str, json_lines: bool) -> None:
    from engine.logs import configure_stderr

    configure_stderr(level, json_lines, sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    top = _top_parser()
    ns = top.parse_args(argv)
    if ns.version:
        print(_version())
        return EXIT_OK
    if ns.command is None:
        top.print_help()
        return EXIT_OK
    module_name, text = COMMANDS[ns.command]
    try:
        return _run(ns, module_name, text)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - the one place every failure is turned into words
        return _report(e, debug=ns.debug)


def _run(ns: argparse.Namespace, module_name: str, text: str) -> int:
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"engine {ns.command}",
        description=text,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    args = parser.parse_args(ns.rest)
    _setup_logging(ns.log_level, ns.log_json)
    return int(module.run(args) or 0)


def _report(e: Exception, *, debug: bool) -> int:
    """Print what went wrong for the person at the terminal; the exit status."""
    from engine.diagnostics import printable
    from engine.errors import UserInputError

    if isinstance(e, UserInputError):
        render = getattr(e, "render", None)
        print(render() if render else f"error: {e}", file=sys.stderr)
        return e.exit_code
    if isinstance(e, OSError):  # a path the user gave that cannot be read or written
        where = f"{e.filename}: " if e.filename else ""
        print(printable(f"error: {where}{e.strerror or e}"), file=sys.stderr)
        return EXIT_USAGE
    if isinstance(e, UnicodeDecodeError):
        print(f"error: a file given is not UTF-8 text ({e.reason})", file=sys.stderr)
        return EXIT_USAGE
    if debug:
        import traceback

        traceback.print_exception(e, file=sys.stderr)
    detail = printable(f"{type(e).__name__}: {e}")[:300]
    print(
        f"internal error (a bug in the engine; please report it with the output of "
        f"'engine --debug ...'): {detail}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
