"""The command line as a careless or hostile user drives it: never a Python traceback.

A user's mistake exits 2 with a message that says what to fix; a bug in the engine exits
70 with one line naming it (the traceback only under --debug); terminal escapes in names
and files are printed escaped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main as cli_main
from engine.cli.main import EXIT_INTERNAL, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[2]


def engine(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--log-level", "BOGUS", "validate", "rules/"], "'BOGUS' is not a log level"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        (["validate"], "the following arguments are required: PATH"),
        (["calendar", "--days", "0"], "is not a number of days"),
        (["calendar", "--from", "2026-13-01"], "is not a date"),
        (["validate", "no/such/file.yaml"], "no such file or folder"),
        (["context", "machines/session.yaml"], "this is a machine file"),
        (["context", "machines"], "cannot read the file"),
        (["context", "/dev/null"], "the file is empty"),
    ],
)
def test_cli_when_user_input_is_wrong_then_exit_two_and_no_traceback(
    args: list[str], words: str
) -> None:
    result = engine(*args)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert words in result.stderr


def test_context_when_machine_file_then_one_line() -> None:
    result = engine("context", "machines/session.yaml")
    assert result.stderr.strip().count("\n") == 0


def test_validate_when_folder_has_no_rule_or_machine_file_then_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not yaml")
    result = engine("validate", str(tmp_path))
    assert result.returncode == EXIT_USAGE
    assert "the folder holds no rule or machine file" in result.stderr


def test_validate_when_file_name_has_terminal_escape_then_printed_escaped(tmp_path: Path) -> None:
    name = "rule\x1b[2J\x1b[H.yaml"
    shutil.copy(REPO / "rules" / "adx.yaml", tmp_path / name)
    result = engine("validate", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "rule\\x1b[2J\\x1b[H.yaml" in result.stdout


def test_validate_when_expression_has_terminal_escape_then_message_escaped(
    tmp_path: Path,
) -> None:
    text = (REPO / "rules" / "adx.yaml").read_text()
    text = text.replace('"vix < params.vix_max"', "\"weekday == '\\e[2J\\e[H' and vix < 30\"")
    (tmp_path / "r.yaml").write_text(text)
    result = engine("validate", str(tmp_path / "r.yaml"))
    assert result.returncode == EXIT_USAGE
    assert "\x1b" not in result.stderr
    assert "'weekday' is never '\\x1b[2J\\x1b[H'" in result.stderr


def test_validate_when_alias_bomb_then_located_error_without_traceback(tmp_path: Path) -> None:
    lines = ["name: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(7)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result = engine("validate", str(tmp_path / "bomb.yaml"))
    assert result.returncode == EXIT_USAGE
    assert "bomb.yaml:1:7: error[yaml-anchor]" in result.stderr
    assert "Traceback" not in result.stderr


def test_main_when_command_has_a_bug_then_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("something the engine did not expect")

    monkeypatch.setattr("engine.cli.validate.run", broken)
    assert main(["validate", "rules/"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("internal error (a bug in the engine; please report it")
    assert "RuntimeError: something the engine did not expect" in err


def test_main_when_bug_and_debug_then_traceback_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise KeyError("x")

    monkeypatch.setattr("engine.cli.validate.run", broken)
    assert main(["--debug", "validate", "rules/"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "internal error" in err


def test_main_when_a_path_cannot_be_written_then_exit_two_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unwritable(args: object) -> int:
        raise PermissionError(13, "Permission denied", "/proc/x")

    monkeypatch.setattr("engine.cli.validate.run", unwritable)
    assert main(["validate", "rules/"]) == EXIT_USAGE
    assert capsys.readouterr().err == "error: /proc/x: Permission denied\n"


def test_help_when_asked_then_states_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for line in cli_main.EXIT_STATUS_HELP.splitlines():
        assert line in out
    assert "--debug" in out
