"""engine.logs: loguru imported only when a message is due, with the command line's setup."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip


def test_logs_when_messages_below_level_then_loguru_never_imported() -> None:
    done = _python(
        """
        import sys
        from engine.logs import category_logger, configure_stderr
        configure_stderr("WARNING", False)
        log = category_logger("data")
        log.debug("not shown {}", 1)
        log.info("not shown either")
        print("loguru" in sys.modules)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert done.stderr == ""


def test_logs_when_a_message_is_due_then_configured_sink_shows_caller_and_category() -> None:
    done = _python(
        """
        import json
        from engine.logs import category_logger, configure_stderr
        configure_stderr("INFO", True)
        category_logger("runtime").info("bar {} late", 3)
        """
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stderr.strip().splitlines()[-1])["record"]
    assert record["message"] == "bar 3 late"
    assert record["extra"] == {"category": "runtime"}
    assert record["level"]["name"] == "INFO"
    assert record["name"] == "__main__"  # the caller, not engine.logs


def test_logs_when_used_as_a_library_then_engine_messages_are_disabled() -> None:
    done = _python(
        """
        from engine.logs import loguru_logger
        from engine.data.calendar import Calendar
        Calendar.default()  # logs at DEBUG inside the engine
        log = loguru_logger()
        log.warning("the user's own message")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "the user's own message" in done.stderr
    assert "calendar loaded" not in done.stderr


def test_logs_when_configured_after_loguru_imported_then_applied_at_once() -> None:
    done = _python(
        """
        from engine.logs import category_logger, configure_stderr, loguru_logger
        loguru_logger()  # an adapter imported loguru first
        configure_stderr("ERROR", False)
        log = category_logger("orders")
        log.warning("hidden")
        log.error("shown")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "shown" in done.stderr and "hidden" not in done.stderr


def test_backtest_start_up_when_nothing_is_logged_then_loguru_not_imported(tmp_path: Path) -> None:
    data = REPO / "examples" / "data"
    files = [
        "--data", str(data / "nifty_1m_2024-01-08_19.csv"),
        "--daily", str(data / "nifty_daily_2023-01_2024-03.csv"),
        "--vix", str(data / "india_vix_daily_2023-12_2024-03.csv"),
    ]  # fmt: skip
    done = _python(
        f"""
        import sys
        from engine.cli.main import main
        code = main(["backtest", "rules/adx.yaml", *{files!r},
                     "--out", {str(tmp_path / "out")!r}, "--no-progress"])
        print(code, "loguru" in sys.modules)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 False"
