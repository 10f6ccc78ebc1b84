"""The run config of `engine run --config`: what it accepts and how it refuses."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from engine.cli._smartapi_run import RunConfig, load_run_config
from engine.errors import UserInputError


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_config_when_settings_given_then_typed(tmp_path: Path) -> None:
    text = "mode: live\noutward_ip: 203.0.113.7\nlogout_at: '15:50'\norder_poll_s: 0.5\n"
    config = load_run_config(_write(tmp_path, text))
    assert config == RunConfig(mode="live", outward_ip="203.0.113.7", logout_at=time(15, 50),
                               order_poll_s=0.5)  # fmt: skip


def test_config_when_logout_time_unquoted_then_read_as_a_time(tmp_path: Path) -> None:
    # YAML 1.1 reads 15:45 as the sexagesimal number 945
    assert load_run_config(_write(tmp_path, "logout_at: 15:45\n")).logout_at == time(15, 45)


def test_config_when_empty_then_paper_defaults(tmp_path: Path) -> None:
    assert load_run_config(_write(tmp_path, "")) == RunConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mode: real\n", "mode must be 'paper' or 'live', not 'real'"),
        ("mod: live\n", "unknown setting 'mod'"),
        ("idle_stop_s: -1\n", "'idle_stop_s' has an unusable value '-1'"),
        ("logout_at: noon\n", "'logout_at' has an unusable value 'noon'"),
        ("- mode\n", "a run config is a mapping of settings"),
        ("mode: [live\n", "run.yaml:2:1: not valid YAML"),
    ],
)
def test_config_when_bad_then_error_names_file_and_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UserInputError) as e:
        load_run_config(_write(tmp_path, text))
    assert message in str(e.value) and "run.yaml" in str(e.value)


def test_config_when_missing_then_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no such file"):
        load_run_config(str(tmp_path / "absent.yaml"))


def test_paper_run_when_config_missing_then_refused_before_anything_runs(tmp_path: Path) -> None:
    from engine.cli.main import main

    out = tmp_path / "paper"
    rules = str(Path(__file__).resolve().parents[3] / "rules" / "adx.yaml")
    code = main(["run", rules, "--paper", "--speed", "0", "--quiet",
                 "--config", str(tmp_path / "absent.yaml"), "--out", str(out)])  # fmt: skip
    assert code == 2
    assert not out.exists()
