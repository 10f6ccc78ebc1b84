"""A symbolic link planted where the engine writes never sends a write out of its folder.

One test per file the engine writes: bar files and their temporaries, the store's
folders, tick files, repair's side file, retention's rewrite, the control files and their
temporaries, diagrams. Each plants a link to a victim outside (or a dangling one) and
checks the victim is unchanged and nothing was created where the link points.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.retention import RetentionPolicy, apply_retention
from engine.data.storage import BarStore, TickStore
from engine.errors import UnsafePathError
from engine.machines.control import RESUME_FILE, STOP_FILE, claim_request, write_request
from engine.model import Bar, Tick, Timeframe, to_ns
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[2]
ENGINE = Path(sys.executable).parent / "engine"
T0 = to_ns(datetime(2024, 1, 2, 9, 15, tzinfo=IST))


def bars(n: int, start: int = T0) -> list[Bar]:
    return [
        Bar("NIFTY", Timeframe.M1, start + i * 60 * 10**9, 1.0, 1.0, 1.0, 1.0) for i in range(n)
    ]


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "victim"
    path.parent.mkdir()
    path.write_text("keep me\n")
    return path


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    return BarStore(tmp_path / "st")


def untouched(victim: Path) -> bool:
    return victim.read_text() == "keep me\n" and sorted(
        p.name for p in victim.parent.iterdir()
    ) == ["victim"]


@pytest.mark.parametrize("dangling", [False, True])
def test_bar_file_when_it_is_a_link_then_refused(
    store: BarStore, victim: Path, dangling: bool
) -> None:
    path = store.bar_path("NIFTY", Timeframe.M1)
    path.parent.mkdir(parents=True)
    path.symlink_to(victim.parent / "nowhere" if dangling else victim)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        store.append(bars(2))
    with pytest.raises(UnsafePathError):
        store.load("NIFTY", Timeframe.M1)
    assert untouched(victim)


@pytest.mark.parametrize(
    "planted", ["1m.jsonl.tmp", ".1m.jsonl.tmp", f".1m.jsonl.{os.getpid()}.tmp"]
)
def test_bar_file_rewrite_when_temporary_name_planted_then_never_written_through(
    store: BarStore, victim: Path, planted: str
) -> None:
    store.append(bars(4)[2:])
    path = store.bar_path("NIFTY", Timeframe.M1)
    (path.parent / planted).symlink_to(victim)
    assert store.append(bars(4)).written == 2  # earlier bars: the file is rewritten
    assert store.load("NIFTY", Timeframe.M1).items == bars(4)
    assert untouched(victim) and (path.parent / planted).is_symlink()


@pytest.mark.parametrize("where", [("timeframes",), ("timeframes", "NIFTY")])
def test_store_folder_when_it_is_a_link_then_refused(
    store: BarStore, victim: Path, where: tuple[str, ...]
) -> None:
    link = store.root.joinpath(*where)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        store.append(bars(2))
    if where == ("timeframes",):
        with pytest.raises(UnsafePathError):
            store.series()
    else:
        assert store.series() == []  # a linked symbol folder is not the store's
    assert untouched(victim)


def test_tick_files_when_raw_folder_or_file_is_a_link_then_refused(
    tmp_path: Path, victim: Path
) -> None:
    ticks = TickStore(tmp_path / "st")
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "raw").symlink_to(victim.parent, target_is_directory=True)
    tick = Tick("NIFTY", 100.0, ts_init=T0)
    with pytest.raises(UnsafePathError):
        ticks.append([tick])
    (tmp_path / "st" / "raw").unlink()
    path = ticks.tick_path("NIFTY", date(2024, 1, 2))
    path.parent.mkdir()
    path.symlink_to(victim)
    with pytest.raises(UnsafePathError):
        ticks.append([tick])
    assert untouched(victim)


def test_repair_when_side_file_name_is_a_link_then_link_replaced_not_followed(
    store: BarStore, victim: Path
) -> None:
    store.append(bars(3))
    path = store.bar_path("NIFTY", Timeframe.M1)
    with path.open("a") as f:
        f.write("{}\n")
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    side = path.with_name("1m.jsonl.damaged-20261201T040000Z")
    side.symlink_to(victim)
    report = store.repair("NIFTY", Timeframe.M1, now=now)
    assert report.side_file == side and not side.is_symlink() and side.read_text() == "{}\n"
    assert untouched(victim)


def test_retention_when_bar_file_is_a_link_then_skipped_and_target_untouched(
    store: BarStore, victim: Path
) -> None:
    store.append(bars(3))
    link = store.bar_path("NIFTY", Timeframe.D1)
    link.symlink_to(victim)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    actions = apply_retention(store.root, now, RetentionPolicy(intraday_days=1, daily_days=1))
    skipped = [a for a in actions if a.path == link]
    assert skipped and skipped[0].action == "skip" and "symbolic link" in skipped[0].reason
    assert untouched(victim)


@pytest.mark.parametrize("name", [STOP_FILE, RESUME_FILE])
def test_control_file_when_temporary_name_planted_then_never_written_through(
    tmp_path: Path, victim: Path, name: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for planted in (f".{name}.{os.getpid()}.tmp", f".{name}.tmp", f"{name}.tmp"):
        (work / planted).symlink_to(victim)
    write_request(work, name, "test")
    assert (work / name).is_file() and not (work / name).is_symlink()
    assert untouched(victim)


def test_kill_switch_when_stop_file_is_a_link_then_link_moved_aside_and_target_untouched(
    tmp_path: Path, victim: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / STOP_FILE).symlink_to(victim)
    done = subprocess.run(
        [str(ENGINE), "kill-switch", "--confirm", "--workdir", str(work), "--wait", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (work / STOP_FILE).is_symlink() and untouched(victim)


def test_resume_when_resume_file_is_a_link_then_link_moved_aside_and_target_untouched(
    tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_request(tmp_path, STOP_FILE, "test")
    claim_request(tmp_path, STOP_FILE)
    (tmp_path / RESUME_FILE).symlink_to(victim)
    rc = main(
        ["resume", "--confirm-safe", "--reason", "ok", "--workdir", str(tmp_path), "--wait", "0"]
    )
    assert rc == 0 and "was not a readable request" in capsys.readouterr().out
    assert not (tmp_path / RESUME_FILE).is_symlink() and untouched(victim)


def test_diagram_when_out_file_is_a_link_then_link_replaced_and_target_untouched(
    tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "session.mmd"
    out.symlink_to(victim)
    assert main(["diagram", str(REPO / "machines" / "session.yaml"), "--out", str(out)]) == 0
    assert not out.is_symlink() and out.read_text().startswith("---\nsession")
    assert untouched(victim)


def test_diagram_when_file_in_out_folder_is_a_link_then_link_replaced_and_target_untouched(
    tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "diagrams"
    folder.mkdir()
    (folder / "position.mmd").symlink_to(victim)
    (folder / ".position.mmd.tmp").symlink_to(victim)
    assert main(["diagram", str(REPO / "machines"), "--out", str(folder)]) == 0
    assert not (folder / "position.mmd").is_symlink() and untouched(victim)
