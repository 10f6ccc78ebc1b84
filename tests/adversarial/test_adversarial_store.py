"""The store under careless and hostile use: every valid bar once, in time order; damage
never makes an import skip or double bars; hints name commands that exist; cleanup keeps
imported history; symbols that cannot name a file are refused before anything is written."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.storage import BarStore
from engine.model import Timeframe


def stored_starts(path: Path) -> list[int]:
    return [json.loads(line)["t"] for line in path.read_text().splitlines()[1:]]


def test_import_when_2009_after_2024_then_both_years_stored_in_order(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "st")
    assert main(["data", "import", str(market_dir / "nifty_1m_2024.csv"), "--root", root]) == 1
    assert "stored 57960, already stored 0" in capsys.readouterr().out  # 1: 167 rejected
    # 1: the 227 bars at 15:30 of 2009 are outside that year's 09:55-15:30 session
    assert main(["data", "import", str(market_dir / "nifty_1m_2009.csv"), "--root", root]) == 1
    assert "stored 76670, already stored 0" in capsys.readouterr().out
    starts = stored_starts(Path(root) / "timeframes" / "NIFTY" / "1m.jsonl")
    assert len(starts) == 57960 + 76670 and starts == sorted(set(starts))
    assert len(BarStore(root).load("NIFTY", Timeframe.M1).items) == 134630


DAMAGE = [
    "{}",
    '{"t":"abc"}',
    '{"t":1e400}',
    '{"t":99999999999,"o":1.0,"h":1.0,"l":1.0,"c":1.0,"v":0}',  # the year 5138
    '{"t":1685604600,"o":NaN,"h":1.0,"l":1.0,"c":1.0,"v":0}',
]


@pytest.mark.parametrize("damage", DAMAGE)
def test_import_when_last_stored_line_damaged_then_refused_repaired_and_nothing_doubled(
    tmp_path: Path,
    market_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    real = (market_dir / "banknifty_1m_2023q2.csv").read_text().splitlines(keepends=True)
    source = "banknifty_1m_2023q2_head.csv"  # the first 15 sessions of the real file
    Path(source).write_text("".join(real[:5626]))
    assert main(["data", "import", source, "--root", "st"]) == 0
    path = Path("st/timeframes/BANKNIFTY/1m.jsonl")
    with path.open("a") as f:
        f.write(damage + "\n")
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["data", "import", source, "--root", "st"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:5627: the store file has 1 damaged line")
    assert "nothing was added" in err and path.read_bytes() == before
    read = BarStore("st").load("BANKNIFTY", Timeframe.M1, skip_corrupt=True)  # never a crash
    assert len(read.items) == 5625 and read.corrupt_lines == [5627]
    hint = re.search(r"run '(engine [^']+)'", err)
    assert hint is not None
    assert main(shlex.split(hint[1])[1:]) == 0  # the command the hint names exists and works
    assert "1 damaged lines moved aside" in capsys.readouterr().out
    assert main(["data", "import", source, "--root", "st"]) == 0
    assert "stored 0, already stored 5625" in capsys.readouterr().out
    starts = stored_starts(path)
    assert len(starts) == 5625 and starts == sorted(set(starts))


def test_cleanup_when_2024_history_imported_then_nothing_removed_by_default(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(tmp_path / "st")
    main(["data", "import", str(market_dir / "nifty_1m_2024.csv"), "--root", root])
    capsys.readouterr()
    assert main(["data", "cleanup", "--root", root, "--yes"]) == 0
    assert capsys.readouterr().out.startswith("nothing to clean up")
    assert len(BarStore(root).load("NIFTY", Timeframe.M1).items) == 57960


@pytest.mark.parametrize("symbol", ["NIFTY\n", "../../etc", "", '"NIFTY"', "NIFTY/1m"])
def test_import_when_symbol_option_cannot_name_a_file_then_exit_2_nothing_written(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str], symbol: str
) -> None:
    root = tmp_path / "st"
    source = str(market_dir / "india_vix_daily_2023_2024.csv")
    assert main(["data", "import", source, "--symbol", symbol, "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "cannot name a store file" in err and err.count("\n") == 1
    assert not root.exists()


def test_import_when_symbol_column_holds_a_path_then_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chain.csv"
    source.write_text(
        "ts,symbol,open,high,low,close,volume\n"
        "2024-01-02T09:15:00+05:30,GOOD,1,2,1,1,0\n"
        "2024-01-02T09:16:00+05:30,GOOD,1,2,1,1,0\n"
        '2024-01-02T09:15:00+05:30,"../../etc",1,2,1,1,0\n'
        '2024-01-02T09:16:00+05:30,"../../etc",1,2,1,1,0\n'
    )
    root = tmp_path / "st"
    assert main(["data", "import", str(source), "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {source}: symbol '../../etc' cannot name a store file")
    assert not root.exists() and not (tmp_path / "etc").exists()
