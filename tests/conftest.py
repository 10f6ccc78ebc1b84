import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# The engine's cache of checked files and validated data lives in a folder of this test
# session (inherited by the engine processes tests start), never in the user's home.
os.environ["ENGINE_CACHE_DIR"] = tempfile.mkdtemp(prefix="engine-test-cache-")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def market_dir() -> Path:
    return SHARED / "data" / "market"


GOLDEN = REPO / "tests" / "golden"


@pytest.fixture
def golden():  # type: ignore[no-untyped-def]
    """Compare text with a golden file; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    import os

    def check(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
            if not path.exists() and os.environ.get("CI"):
                raise AssertionError(f"golden file {relative} is missing")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert actual == path.read_text(encoding="utf-8"), f"golden file {relative} differs"

    return check


@pytest.fixture(scope="session")
def market_bars(market_dir: Path):  # type: ignore[no-untyped-def]
    """``market_bars("nifty_1m_2024.csv")`` -> the file read once per test session (BarFile)."""
    from engine.data.csv_import import read_bars

    cache: dict[str, object] = {}

    def load(name: str):  # type: ignore[no-untyped-def]
        if name not in cache:
            cache[name] = read_bars(market_dir / name)
        return cache[name]

    return load
