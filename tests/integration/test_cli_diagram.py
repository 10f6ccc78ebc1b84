"""``engine diagram``, ``engine kill-switch`` and ``engine resume`` from the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[2]
MACHINES = REPO / "machines"


def engine_command() -> list[str]:
    script = shutil.which("engine", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "engine"]


def run_engine(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*engine_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_diagram_when_one_file_then_mermaid_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(MACHINES / "killswitch.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("---\nkillswitch\n---\nstateDiagram-v2")
    assert "halted --> resume_pending: resume" in out


def test_diagram_when_dot_to_a_file_then_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "session.dot"
    assert (
        main(["diagram", str(MACHINES / "session.yaml"), "--format", "dot", "--out", str(target)])
        == 0
    )
    assert target.read_text().startswith('digraph "session" {')
    assert f"wrote {target}" in capsys.readouterr().out


def test_diagram_when_folder_then_one_file_per_machine(tmp_path: Path) -> None:
    assert main(["diagram", str(MACHINES), "--format", "mermaid", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "breakers.mmd",
        "killswitch.mmd",
        "position.mmd",
        "session.mmd",
    ]


def test_diagram_when_folder_without_out_then_every_machine_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diagram", str(MACHINES)]) == 0
    out = capsys.readouterr().out
    names = [line.split("/")[-1] for line in out.splitlines() if line.startswith("%% ")]
    assert names == ["breakers.yaml", "killswitch.yaml", "position.yaml", "session.yaml"]
    assert out.count("stateDiagram-v2") == 4


def test_diagram_when_readme_command_as_a_process_then_exit_0() -> None:
    done = run_engine("diagram", "machines/", "--format", "mermaid", cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("%% machines/breakers.yaml\n---\nbreakers\n---\n")


def test_diagram_when_folder_as_svg_without_out_then_asks_for_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diagram", str(MACHINES), "--format", "svg"]) == 2
    assert "--out FOLDER" in capsys.readouterr().err


def test_diagram_when_rule_file_then_one_line_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diagram", str(REPO / "rules" / "adx.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a rule file, not a machine file" in err


def test_diagram_when_out_cannot_be_written_then_clean_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diagram", str(MACHINES / "session.yaml"), "--out", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write /proc/x") and "Traceback" not in err


def test_diagram_when_journal_then_current_state_highlighted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_text(
        json.dumps(
            {"kind": "transition", "machine": "killswitch", "source": "armed", "dest": "triggered"}
        )
        + "\n"
    )
    assert main(["diagram", str(MACHINES / "killswitch.yaml"), "--journal", str(journal)]) == 0
    assert "Class triggered s_active" in capsys.readouterr().out


def test_diagram_when_machine_file_is_broken_then_located_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "machine: bad\ninitial: a\nstates: {a: {}}\n"
        "transitions: [{name: x, trigger: tick, source: a, dest: b}]\n"
    )
    assert main(["diagram", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4:" in err and "error[unknown-state]" in err and "Traceback" not in err


def test_diagram_when_run_twice_as_a_process_then_same_bytes(tmp_path: Path) -> None:
    first = run_engine("diagram", "machines/position.yaml", "--format", "dot", cwd=REPO)
    second = run_engine("diagram", "machines/position.yaml", "--format", "dot", cwd=REPO)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.startswith('digraph "position"')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_diagram_when_svg_as_a_process_then_svg_file(tmp_path: Path) -> None:
    done = run_engine(
        "diagram",
        str(MACHINES / "breakers.yaml"),
        "--format",
        "svg",
        "--out",
        str(tmp_path / "b.svg"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in (tmp_path / "b.svg").read_text()


def test_kill_switch_when_not_confirmed_then_refuses_and_writes_nothing(tmp_path: Path) -> None:
    done = run_engine("kill-switch", "--reason", "test", "--workdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "--confirm" in done.stderr and "nothing was written" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_kill_switch_when_confirmed_then_emergency_stop_file(tmp_path: Path) -> None:
    done = run_engine(
        "kill-switch", "--confirm", "--reason", "broker outage", "--wait", "0.2", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    request = json.loads((tmp_path / "EMERGENCY_STOP").read_text())
    assert (request["kind"], request["reason"]) == ("emergency_stop", "broker outage")
    assert "no running engine picked it up within 0.2 s" in done.stdout
    assert "the next engine start reads it first" in done.stdout
    again = run_engine("kill-switch", "--confirm", "--workdir", str(tmp_path), cwd=REPO)
    assert again.returncode == 0 and "already requested" in again.stdout
    assert json.loads((tmp_path / "EMERGENCY_STOP").read_text()) == request  # first one kept


def test_kill_switch_when_workdir_missing_then_error_and_no_folder_made(tmp_path: Path) -> None:
    done = run_engine("kill-switch", "--confirm", "--workdir", str(tmp_path / "typo"), cwd=REPO)
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert "nothing was written" in done.stderr and not (tmp_path / "typo").exists()


def test_resume_when_flags_missing_then_refuses(tmp_path: Path) -> None:
    for args in (["--reason", "ok"], ["--confirm-safe"], ["--confirm-safe", "--reason", "  "]):
        done = run_engine("resume", *args, "--workdir", str(tmp_path), cwd=tmp_path)
        assert done.returncode == 2, args
        assert "nothing was written" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_resume_when_stop_not_yet_handled_then_refuses(tmp_path: Path) -> None:
    run_engine("kill-switch", "--confirm", "--workdir", str(tmp_path), "--wait", "0", cwd=tmp_path)
    done = run_engine(
        "resume", "--confirm-safe", "--reason", "ok", "--workdir", str(tmp_path), cwd=tmp_path
    )
    assert done.returncode == 2 and "has not been handled" in done.stderr


def test_resume_when_no_kill_pending_then_refused_and_nothing_written(tmp_path: Path) -> None:
    done = run_engine(
        "resume", "--confirm-safe", "--reason", "ok", "--workdir", str(tmp_path), cwd=REPO
    )
    assert done.returncode == 2 and "no kill-switch halt awaits a resume" in done.stderr
    assert "nothing was written" in done.stderr and list(tmp_path.iterdir()) == []


def test_resume_when_halt_handled_then_resume_file(tmp_path: Path) -> None:
    from engine.machines.control import STOP_FILE, claim_request

    run_engine("kill-switch", "--confirm", "--workdir", str(tmp_path), "--wait", "0", cwd=REPO)
    assert claim_request(tmp_path, STOP_FILE) is not None  # what a running engine does
    done = run_engine(
        "resume",
        "--confirm-safe",
        "--reason",
        "books reconciled",
        "--workdir",
        str(tmp_path),
        "--wait",
        "0",
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    request = json.loads((tmp_path / "RESUME").read_text())
    assert (request["kind"], request["confirm_safe"], request["reason"]) == (
        "resume",
        True,
        "books reconciled",
    )
