"""Where SmartAPI lives and how patiently to talk to it. No secrets are kept here.

Base URLs come from flags or the environment (``SMARTAPI_REST_URL``, ``SMARTAPI_WS_URL``,
``SMARTAPI_INSTRUMENTS_URL``), so the same client talks to Angel One or to the loopback
simulator by changing only these. Credentials live in ``adapters.smartapi.secrets``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

__all__ = ["INSTRUMENTS_URL", "REST_URL", "WS_URL", "SmartApiConfig"]

REST_URL = "https://apiconnect.angelone.in"
WS_URL = "wss://smartapisocket.angelone.in/smart-stream"
INSTRUMENTS_URL = (
    "https://margincalculator.angelbroking.com/OpenAPI_File/files/OpenAPIScripMaster.json"
)


def _mac() -> str:
    node = uuid.getnode()
    return ":".join(f"{(node >> s) & 0xFF:02x}" for s in range(40, -1, -8))


@dataclass(frozen=True)
class SmartApiConfig:
    """Endpoints, timeouts, retry and feed settings. Every field has a working default."""

    rest_url: str = REST_URL
    ws_url: str = WS_URL
    instruments_url: str = INSTRUMENTS_URL
    #: seconds to wait for a REST reply (the SDKs use 7)
    timeout_s: float = 7.0
    #: attempts for a data call that failed for a temporary reason (429, 403-rate, 5xx)
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    #: the X-ClientLocalIP / X-ClientPublicIP / X-MACAddress headers
    local_ip: str = "127.0.0.1"
    public_ip: str = "127.0.0.1"
    mac_address: str = ""
    #: orders (place + modify + cancel) per second per client; SEBI's line is 10
    orders_per_s: int = 9
    #: WebSocket: text ping interval, reconnect backoff, silent-feed detection
    heartbeat_s: float = 10.0
    reconnect_base_s: float = 0.5
    reconnect_max_s: float = 30.0
    silence_timeout_s: float = 30.0
    #: after a lost order reply: wait this long before looking the order up by tag
    order_lookup_delay_s: float = 0.5
    order_lookup_attempts: int = 3

    def __post_init__(self) -> None:
        if not self.mac_address:
            object.__setattr__(self, "mac_address", _mac())
        for name in ("rest_url", "ws_url", "instruments_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))
        if not 1 <= self.orders_per_s <= 9:
            raise ValueError(f"orders_per_s must be 1 to 9; it was {self.orders_per_s}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> SmartApiConfig:
        """Defaults, then ``SMARTAPI_*_URL`` from the environment, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field, var in (
            ("rest_url", "SMARTAPI_REST_URL"),
            ("ws_url", "SMARTAPI_WS_URL"),
            ("instruments_url", "SMARTAPI_INSTRUMENTS_URL"),
        ):
            if env.get(var):
                values[field] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> SmartApiConfig:
        return replace(self, **changes)  # type: ignore[arg-type]
