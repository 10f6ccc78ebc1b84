"""``engine simulate-broker``: a loopback SmartAPI to rehearse live mode offline.

Serves the SmartAPI REST routes and the WebSocket 2.0 feed on 127.0.0.1 with the same
paths, headers, JSON shapes and binary packets, replaying real 1-minute bars as ticks and
filling orders at the next tick that crosses the limit. A client written for the real
API works against it by changing only its base URLs. The first two lines printed are the
REST base URL and the WebSocket URL. Runs until interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

_DEFAULT_DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
_DEFAULT_FILE = _DEFAULT_DATA / "nifty_1m_2024-03-01_07.csv"

# Public test values: the simulator accepts nothing else unless told to.
_CLIENT, _PIN, _TOTP, _KEY = (
    "S1234567",
    "2580",
    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    ("simulator-api-key"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "default credentials (test values, accepted by the simulator only):\n"
        f"  client code {_CLIENT}   PIN {_PIN}   API key {_KEY}\n"
        f"  TOTP secret {_TOTP}\n"
        "point a client at it with SMARTAPI_REST_URL, SMARTAPI_WS_URL and\n"
        "SMARTAPI_INSTRUMENTS_URL set to the printed addresses."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="REST port (default 0: a free one)")
    parser.add_argument("--ws-port", type=int, default=0, help="WebSocket port (default 0)")
    parser.add_argument(
        "--data",
        type=Path,
        default=_DEFAULT_FILE,
        metavar="PATH",
        help="1-minute bars to replay (default: the bundled week of NIFTY, March 2024)",
    )
    parser.add_argument(
        "--vix",
        type=Path,
        default=None,
        metavar="PATH",
        help="India VIX daily file (default: one beside --data, if any)",
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        metavar="DATE",
        help="first trading date to replay (default: the file's first)",
    )
    parser.add_argument(
        "--sessions", type=int, default=None, help="how many trading dates to replay (default: all)"
    )
    parser.add_argument(
        "--speed", type=float, default=20.0, help="ticks per second (a bar is 4 ticks; default 20)"
    )
    parser.add_argument(
        "--once", action="store_true", help="replay the data once (default: again and again)"
    )
    parser.add_argument(
        "--wait-for-subscriber", action="store_true",
        help="start the replay when the first client subscribes (no tick is missed)",
    )  # fmt: skip
    parser.add_argument("--client-code", default=_CLIENT, metavar="C")
    parser.add_argument("--pin", default=_PIN, metavar="P")
    parser.add_argument("--totp-secret", default=_TOTP, metavar="S")
    parser.add_argument("--api-key", default=_KEY, metavar="K")


def run(args: argparse.Namespace) -> int:
    import threading

    from adapters.smartapi.simulator import SimCredentials, Simulator, SimulatorOptions
    from engine.errors import UserInputError

    if not args.data.exists():
        raise UserInputError(f"{args.data}: no such data file (--data)")
    if args.speed <= 0:
        raise UserInputError(f"--speed must be positive; it was {args.speed}")
    options = SimulatorOptions(
        data=args.data,
        host=args.host,
        port=args.port,
        ws_port=args.ws_port,
        vix=args.vix,
        start=args.start,
        sessions=args.sessions,
        ticks_per_s=args.speed,
        wait_for_subscriber=args.wait_for_subscriber,
        loop=not args.once,
    )
    credentials = SimCredentials(args.client_code, args.pin, args.totp_secret, args.api_key)
    try:
        sim = Simulator(options, credentials)
    except ValueError as e:
        raise UserInputError(str(e)) from None
    with sim:
        print(f"REST      {sim.rest_url}", flush=True)
        print(f"WebSocket {sim.ws_url}", flush=True)
        print(f"instruments {sim.instruments_url}", flush=True)
        print(
            f"replaying {len(sim.bars)} bars of {sim.underlying} from {args.data.name} at "
            f"{args.speed:g} ticks/s; Ctrl-C stops",
            flush=True,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0
