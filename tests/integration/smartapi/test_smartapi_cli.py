"""The SmartAPI commands as a user runs them, and the core's import boundary."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.smartapi.simulator import SimCredentials
from engine.cli.main import main

REPO = Path(__file__).resolve().parents[3]


def env_for(sim_creds: SimCredentials, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.update(
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",  # the environment decides
        SMARTAPI_CLIENT_CODE=sim_creds.client_code, SMARTAPI_PIN=sim_creds.pin,
        SMARTAPI_TOTP_SECRET=sim_creds.totp_secret, SMARTAPI_API_KEY=sim_creds.api_key,
    )  # fmt: skip
    env.update(extra)
    return env


def test_simulate_broker_help_when_asked_then_default_credentials_shown(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["simulate-broker", "--help"])
    out = capsys.readouterr().out
    c = SimCredentials()
    for value in (c.client_code, c.pin, c.totp_secret, c.api_key):
        assert value in out


def test_simulate_broker_when_started_then_first_lines_are_urls_and_test_commands_pass() -> None:
    creds = SimCredentials()
    env = env_for(creds)
    with subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-broker", "--speed", "100", "--sessions", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as proc:  # fmt: skip
        try:
            _check_against(proc, env, creds)
        finally:
            proc.terminate()
            proc.wait(10)


def _check_against(proc: subprocess.Popen[str], env: dict[str, str], creds: SimCredentials) -> None:
    assert proc.stdout is not None
    rest = proc.stdout.readline().split()
    ws = proc.stdout.readline().split()
    assert rest[0] == "REST" and rest[1].startswith("http://127.0.0.1:")
    assert ws[0] == "WebSocket" and ws[1].startswith("ws://127.0.0.1:")
    assert ws[1].endswith("/smart-stream")
    common = ["--rest-url", rest[1], "--ws-url", ws[1], "--timeout", "2"]
    conn = subprocess.run(
        [sys.executable, "-m", "engine", "--log-level", "DEBUG", "test", "connection",
         *common], cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert conn.returncode == 0, conn.stdout + conn.stderr
    assert "ok  ltp" in conn.stdout and "ok  logout" in conn.stdout
    feed = subprocess.run(
        [sys.executable, "-m", "engine", "test", "websocket", *common, "--wait", "10"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert feed.returncode == 0, feed.stdout + feed.stderr
    assert "ok  websocket" in feed.stdout and "ticks; last NIFTY" in feed.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "engine", "test", "connection", *common],
        cwd=REPO, env={**env, "SMARTAPI_PIN": "0000"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and "login refused (AB1007" in bad.stdout
    assert "Traceback" not in bad.stderr
    for secret in (creds.pin, creds.totp_secret, creds.api_key):
        for output in (conn.stdout, conn.stderr, feed.stdout, feed.stderr):
            assert secret not in output


def test_test_command_when_credentials_missing_then_exit_two_naming_variables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTAPI_")}
    env.update(PYTHONPATH=str(REPO), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    result = subprocess.run(
        [sys.executable, "-m", "engine", "test", "connection", "--rest-url", "http://127.0.0.1:9"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "SMARTAPI_PIN" in result.stderr
    assert "engine login" in result.stderr and "Traceback" not in result.stderr


def test_login_when_keyring_keeps_nothing_then_exit_two_and_nothing_echoed() -> None:
    env = env_for(SimCredentials())
    result = subprocess.run(
        [sys.executable, "-m", "engine", "login", "--client-code", "A1234567"],
        input="9753\nGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nmy-api-key-value\n", cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no usable OS keyring" in result.stderr and "SMARTAPI_TOTP_SECRET" in result.stderr
    for secret in ("9753", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "my-api-key-value"):
        assert secret not in result.stdout + result.stderr


def test_login_when_totp_key_not_base32_then_exit_two_before_storing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "login", "--client-code", "A1234567"],
        input="9753\nnot base32 at all!\nmy-api-key-value\n", cwd=REPO,
        env=env_for(SimCredentials()), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "TOTP secret is not a usable key" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_when_run_then_no_network_library_imported() -> None:
    code = (
        "import sys\nfrom engine.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({'httpx', 'websockets', 'adapters', 'anyio', 'pyotp', 'keyring'}"
        " & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         check=True).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "[]"


FORBIDDEN = ("adapters", "httpx", "websockets")


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module, at module level) for every import in a file."""
    top = {id(n) for n in getattr(tree, "body", [])}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, id(node) in top))
    return out


def test_core_when_scanned_then_no_adapter_or_network_import_outside_cli_functions() -> None:
    offenders = []
    for path in sorted((REPO / "engine").rglob("*.py")):
        in_cli = path.parent.name == "cli"
        for module, top_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module.split(".")[0] in FORBIDDEN and (top_level or not in_cli):
                offenders.append(f"{path.relative_to(REPO)}: {module}")
    assert offenders == []
