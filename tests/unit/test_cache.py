"""The cache of work already done: it may only save time, never change an answer.

Each test points ``ENGINE_CACHE_DIR`` at its own folder, so what a test finds there is
what it caused. Rule files are copies of the shipped rules/adx.yaml, changed where a test
needs a warning or an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import cache
from engine.diagnostics import Diagnostic
from engine.errors import SpecError
from engine.machines import load_machine_file
from engine.spec._checked import checked_before, remember_checked
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[2]
ADX = (REPO / "rules" / "adx.yaml").read_text(encoding="utf-8")
#: Two exits where the second can never fire: a warning (shadowed-exit), not an error.
SHADOWED = ADX.replace(
    "\nsizing:",
    '  - {name: loss_30, priority: 5, when: "position.pnl_pct <= -30"}\n'
    '  - {name: loss_50, priority: 6, when: "position.pnl_pct <= -50"}\n\nsizing:',
)
#: A misspelt name: an error.
BROKEN = ADX.replace('"vix < params.vix_max"', '"vixx < params.vix_max"')

WARNING = Diagnostic("rules/x.yaml", 3, 5, "shadowed-exit", "never fires", severity="warning")


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ENGINE_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path, kind: str = "checked") -> list[Path]:
    return sorted((folder / kind).glob("*.bin")) if (folder / kind).is_dir() else []


def write_rule(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the folder --------------------------------------------------------------------------


def test_cache_dir_when_env_names_a_folder_then_that_folder(cache_folder: Path) -> None:
    assert cache.cache_dir() == cache_folder


@pytest.mark.parametrize("value", ["off", "OFF", "0", "none", "", "  off "])
def test_cache_dir_when_env_says_off_then_no_cache(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ENGINE_CACHE_DIR", value)
    assert cache.cache_dir() is None


def test_cache_dir_when_env_unset_then_xdg_cache_home_or_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ENGINE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "nse-rule-engine"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "nse-rule-engine"


# -- entries -----------------------------------------------------------------------------


def test_write_entry_when_read_back_then_same_bytes_and_no_temporary_file_left(
    cache_folder: Path,
) -> None:
    key = cache.cache_key("test", [b"file bytes"])
    assert cache.read_entry("test", key) is None
    cache.write_entry("test", key, b"\x00answer\xff")
    assert cache.read_entry("test", key) == b"\x00answer\xff"
    assert [p.name for p in (cache_folder / "test").iterdir()] == [f"{key}.bin"]


def test_write_entry_when_cache_off_then_nothing_written_or_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENGINE_CACHE_DIR", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    key = cache.cache_key("test", [b"x"])
    cache.write_entry("test", key, b"answer")
    assert cache.read_entry("test", key) is None
    assert list(tmp_path.iterdir()) == []


def test_write_entry_when_folder_cannot_be_made_then_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ENGINE_CACHE_DIR", str(blocker))
    key = cache.cache_key("test", [b"x"])
    cache.write_entry("test", key, b"answer")  # logged, not raised: the cache only saves time
    assert cache.read_entry("test", key) is None


def test_cache_key_when_any_input_differs_then_key_differs() -> None:
    base = cache.cache_key("checked-rule", [b"abc", b"rules/adx.yaml"])
    assert base == cache.cache_key("checked-rule", [b"abc", b"rules/adx.yaml"])
    assert len(base) == 64
    assert base != cache.cache_key("checked-machine", [b"abc", b"rules/adx.yaml"])
    assert base != cache.cache_key("checked-rule", [b"abd", b"rules/adx.yaml"])
    assert base != cache.cache_key("checked-rule", [b"abc", b"rules/adx2.yaml"])
    # the parts' boundaries count: "ab"+"c" is not "a"+"bc"
    assert cache.cache_key("k", [b"ab", b"c"]) != cache.cache_key("k", [b"a", b"bc"])


# -- checked files -------------------------------------------------------------------------


def test_remember_checked_when_read_back_then_same_warnings(cache_folder: Path) -> None:
    parts = [b"rule bytes", b"rules/x.yaml"]
    assert checked_before("rule", parts) is None
    remember_checked("rule", parts, [WARNING])
    assert checked_before("rule", parts) == [WARNING]
    assert checked_before("machine", parts) is None  # another kind of check, another key


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe garbage", b"{not json", b"null", b'{"a": 1}', b"[1, 2]", b'"text"',
     b'[{"file": "x", "line": 1}]', b'[{"nonsense": true}]'],
)  # fmt: skip
def test_checked_before_when_entry_holds_no_warnings_list_then_ignored(
    cache_folder: Path, content: bytes
) -> None:
    """A sound entry whose contents are not a list of diagnostics is not trusted either."""
    parts = [b"rule bytes", b"rules/x.yaml"]
    remember_checked("rule", parts, [WARNING])
    cache.write_entry("checked", cache.cache_key("checked-rule", parts), content)
    assert len(entries(cache_folder)) == 1
    assert checked_before("rule", parts) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: raw[:10],
        lambda raw: raw[:-1],  # cut short by one byte
        lambda raw: raw[:40] + bytes([raw[40] ^ 0x01]) + raw[41:],  # one bit flipped
        lambda raw: raw + b" ",
    ],
    ids=["empty", "cut", "one-byte-short", "bit-flip", "trailing-byte"],
)
def test_read_entry_when_entry_damaged_on_disk_then_ignored(
    cache_folder: Path, damage: object
) -> None:
    key = cache.cache_key("test", [b"x"])
    cache.write_entry("test", key, b'[{"an": "answer of forty or more bytes", "n": 12345}]')
    entry = cache_folder / "test" / f"{key}.bin"
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert cache.read_entry("test", key) is None


def test_checked_before_when_warnings_text_damaged_then_ignored(cache_folder: Path) -> None:
    """A flipped letter in a remembered message would still be valid JSON: not trusted."""
    parts = [b"rule bytes", b"rules/x.yaml"]
    remember_checked("rule", parts, [WARNING])
    (entry,) = entries(cache_folder)
    entry.write_bytes(entry.read_bytes().replace(b"never fires", b"never fireS"))
    assert checked_before("rule", parts) is None


def test_load_rule_file_when_loaded_twice_then_remembered_once_and_same_spec(
    cache_folder: Path, tmp_path: Path
) -> None:
    path = write_rule(tmp_path, ADX)
    first = load_rule_file(path)
    assert len(entries(cache_folder)) == 1
    second = load_rule_file(path)
    assert len(entries(cache_folder)) == 1
    assert second.name == first.name and second.warnings == first.warnings == ()
    assert [e.name for e in second.exits] == [e.name for e in first.exits]
    assert [t.name for t in second.triggers] == [t.name for t in first.triggers]
    assert second.sizing == first.sizing and second.strikes == first.strikes


def test_load_rule_file_when_remembered_then_the_entry_answers(
    cache_folder: Path, tmp_path: Path
) -> None:
    """The entry is what a second load reads: its warnings come back without a new check."""
    path = write_rule(tmp_path, ADX)
    load_rule_file(path)
    (entry,) = entries(cache_folder)
    # the same key (the file's bytes and name) now remembers another check's warnings
    remember_checked("rule", [path.read_bytes(), str(path).encode()], [WARNING])
    assert entries(cache_folder) == [entry]
    assert load_rule_file(path).warnings == (WARNING,)


def test_load_rule_file_when_file_changed_then_cache_misses(
    cache_folder: Path, tmp_path: Path
) -> None:
    path = write_rule(tmp_path, ADX)
    load_rule_file(path)
    path.write_text(SHADOWED, encoding="utf-8")  # same name, other bytes
    spec = load_rule_file(path)
    assert [d.code for d in spec.warnings] == ["shadowed-exit"]
    assert len(entries(cache_folder)) == 2


def test_load_rule_file_when_same_bytes_under_another_name_then_cache_misses(
    cache_folder: Path, tmp_path: Path
) -> None:
    """Diagnostics name the file, so a remembered one must not be shown for another."""
    load_rule_file(write_rule(tmp_path, SHADOWED, "a.yaml"))
    spec = load_rule_file(write_rule(tmp_path, SHADOWED, "b.yaml"))
    assert spec.warnings[0].file.endswith("b.yaml")
    assert len(entries(cache_folder)) == 2


def test_load_rule_file_when_remembered_with_warnings_then_warnings_still_returned(
    cache_folder: Path, tmp_path: Path
) -> None:
    path = write_rule(tmp_path, SHADOWED)
    first = load_rule_file(path)
    second = load_rule_file(path)
    assert len(entries(cache_folder)) == 1
    assert [d.code for d in first.warnings] == ["shadowed-exit"]
    assert second.warnings == first.warnings
    assert "loss_50" in second.warnings[0].message


def test_load_rule_file_when_file_has_errors_then_never_remembered_and_always_reported(
    cache_folder: Path, tmp_path: Path
) -> None:
    path = write_rule(tmp_path, BROKEN)
    reports = []
    for _ in range(2):
        with pytest.raises(SpecError) as info:
            load_rule_file(path)
        reports.append([d.headline() for d in info.value.diagnostics])
    assert reports[0] == reports[1] and any("vixx" in h for h in reports[0])
    assert entries(cache_folder) == []


def test_load_rule_file_when_entry_corrupt_then_full_check_and_entry_rewritten(
    cache_folder: Path, tmp_path: Path
) -> None:
    path = write_rule(tmp_path, SHADOWED)
    expected = load_rule_file(path).warnings
    (entry,) = entries(cache_folder)
    good = entry.read_bytes()
    entry.write_bytes(b"\x00\x01 not an entry")
    assert load_rule_file(path).warnings == expected
    assert entry.read_bytes() == good


def test_load_rule_file_when_cache_off_then_checked_every_time_and_nothing_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENGINE_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = write_rule(tmp_path, SHADOWED)
    assert load_rule_file(path).warnings == load_rule_file(path).warnings
    assert not (tmp_path / "xdg").exists()


# -- machine files ---------------------------------------------------------------------------


@pytest.fixture
def machines(tmp_path: Path) -> Path:
    folder = tmp_path / "machines"
    shutil.copytree(REPO / "machines", folder)
    return folder


def test_load_machine_file_when_loaded_twice_then_same_spec_from_the_cache(
    cache_folder: Path, machines: Path
) -> None:
    first = load_machine_file(machines / "position.yaml")
    count = len(entries(cache_folder))
    assert count >= 1
    second = load_machine_file(machines / "position.yaml")
    assert len(entries(cache_folder)) == count
    assert second.name == first.name and second.initial == first.initial
    assert sorted(second.states) == sorted(first.states)
    assert [t.name for t in second.transitions] == [t.name for t in first.transitions]
    assert second.warnings == first.warnings


def test_load_machine_file_when_a_sibling_machine_changed_then_cache_misses(
    cache_folder: Path, machines: Path
) -> None:
    """position.yaml reads the other machines' states: its checks depend on their files."""
    load_machine_file(machines / "position.yaml")
    before = set(entries(cache_folder))
    sibling = machines / "breakers.yaml"
    sibling.write_text(sibling.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    load_machine_file(machines / "position.yaml")
    assert set(entries(cache_folder)) - before


def test_load_machine_file_when_it_has_errors_then_not_remembered(
    cache_folder: Path, machines: Path
) -> None:
    path = machines / "session.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("initial:", "initial: nowhere\nx_initial:", 1), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(SpecError):
            load_machine_file(path)
    assert entries(cache_folder) == []
