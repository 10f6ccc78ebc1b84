"""The engine command as a user runs it: help, version, validate, context, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import COMMANDS, main

REPO = Path(__file__).resolve().parents[2]
ENGINE = [sys.executable, "-m", "engine"]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*ENGINE, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def test_help_when_run_then_lists_every_command_with_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name, (_, text) in COMMANDS.items():
        assert f"  {name:<12} {text}" in out


def test_version_when_asked_then_prints_version(capsys) -> None:
    from engine import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"engine {__version__}"


def test_help_when_run_then_imports_no_heavy_module() -> None:
    """`engine --help` must start fast: nothing heavy is imported until a command runs."""
    code = (
        "import sys\nfrom engine.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'numpy', 'yaml', 'jsonschema', 'transitions', 'simpleeval', 'httpx'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_validate_when_shipped_files_then_ok_and_exit_zero() -> None:
    result = run("validate", "rules/", "machines/")
    assert result.returncode == 0, result.stderr
    assert "ok rules/adx.yaml" in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_when_file_broken_then_exit_two_and_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (
        (REPO / "rules" / "adx.yaml")
        .read_text()
        .replace("position.pnl_pct >= params.target_pct", "positon.pnl_pct >= params.target_pct")
    )
    bad.write_text(text)
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "positon" in t)
    assert f"bad.yaml:{line}:" in result.stderr
    assert "error[unknown-name]: exits[7] 'take_profit': unknown name 'positon.pnl_pct'" in (
        result.stderr
    )
    assert "hint: did you mean 'position.pnl_pct'?" in result.stderr


def test_validate_when_path_missing_then_exit_two_without_traceback() -> None:
    result = run("validate", "no/such/file.yaml")
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr


def test_context_when_rule_file_then_lists_declared_and_runtime_names(capsys) -> None:
    assert main(["context", str(REPO / "rules" / "adx.yaml"), "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    for expected in (
        "daily.adx",
        "h1.prev.plus_di",
        "m5.ema9",
        "m1.close",
        "vix",
        "time",
        "params.adx_min",
        "position.pnl_pct",
    ):
        assert expected in names
    assert "m15.close" not in names  # m15 is not declared in adx.yaml
    assert names["time"]["type"] == "time"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_help_when_asked_then_exits_zero(command: str) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
