"""A loopback SmartAPI: a real HTTP server and a real WebSocket server on 127.0.0.1.

It serves the wire contract's paths, headers, JSON shapes and binary ticks, so a client
written for the real API (this adapter or any other) works against it by changing only
its base URLs. It checks the TOTP as the real API does, serves an instrument master built
from the calendar's contract facts, replays real 1-minute bars as ticks, fills orders
through a pluggable fill function, and injects faults on request (``faults.py``).

``Simulator`` (``server.py``) runs everything in background threads; ``engine
simulate-broker`` starts one from the command line.
"""

from adapters.smartapi.simulator.faults import Fault
from adapters.smartapi.simulator.server import SimCredentials, Simulator, SimulatorOptions

__all__ = ["Fault", "SimCredentials", "Simulator", "SimulatorOptions"]
