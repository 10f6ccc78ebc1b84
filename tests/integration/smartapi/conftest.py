"""A simulator per test on loopback ports, and a client configuration with fast timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.smartapi.config import SmartApiConfig
from adapters.smartapi.http import SmartApiHttp
from adapters.smartapi.ratelimit import ClientLimiter
from adapters.smartapi.secrets import Credentials
from adapters.smartapi.simulator import SimCredentials, Simulator, SimulatorOptions

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "examples" / "data" / "nifty_1m_2024-03-01_07.csv"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _start(**options: object) -> Simulator:
    values: dict[str, object] = {"data": DATA, "sessions": 1, "ticks_per_s": 200.0}
    values.update(options)
    return Simulator(SimulatorOptions(**values)).start()  # type: ignore[arg-type]


@pytest.fixture
def start_sim() -> Iterator[object]:
    """``start_sim(token_lifetime_s=2)``: a simulator with options, stopped after the test."""
    started: list[Simulator] = []

    def start(**options: object) -> Simulator:
        started.append(_start(**options))
        return started[-1]

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = _start()
    yield s
    s.stop()


@pytest.fixture
def creds() -> Credentials:
    c = SimCredentials()
    return Credentials.of(c.client_code, c.pin, c.totp_secret, c.api_key)


def _client_config(sim: Simulator, **changes: object) -> SmartApiConfig:
    values: dict[str, object] = dict(
        rest_url=sim.rest_url, ws_url=sim.ws_url, instruments_url=sim.instruments_url,
        timeout_s=0.6, max_attempts=4, backoff_base_s=0.05, backoff_max_s=0.2,
        heartbeat_s=0.5, reconnect_base_s=0.05, reconnect_max_s=0.3, silence_timeout_s=0.8,
        order_lookup_delay_s=0.1, order_lookup_attempts=2,
    )  # fmt: skip
    values.update(changes)
    return SmartApiConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def client_config() -> object:
    """``client_config(sim, timeout_s=1)``: fast timeouts and backoff for loopback tests."""
    return _client_config


@pytest.fixture
def config(sim: Simulator) -> SmartApiConfig:
    return _client_config(sim)


@pytest.fixture
def make_http(creds: Credentials) -> object:
    """``make_http(config)``: a REST client with its own limiter (tests share no slots)."""

    def make(config: SmartApiConfig) -> SmartApiHttp:
        return SmartApiHttp(
            config, client_code=creds.client_code, api_key=creds.api_key, limiter=ClientLimiter()
        )

    return make
