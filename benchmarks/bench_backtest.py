"""The backtest as a user runs it: ``engine backtest rules/adx.yaml`` on the 58,127 real
NIFTY 1-minute bars of 2024, timed as a whole process, start-up included.

Targets: at least 50,000 bars/s as a whole process with peak memory under 300 MB
(start-up under 0.4 s, under 13 us per bar), and at least 25,000 bars/s for a dense
variant where every bar evaluates every filter and trigger and a machine guard. The
peer, measured in the same run, is a hand-written plain-Python loop of the same
strategy (``plain_adx_loop.py``). Warm runs find the rules, the machines and the data
already checked in the engine's cache (``engine.cache``); cold runs start from an empty
cache. Run with ``python -m pytest benchmarks/bench_backtest.py --benchmark-only -s``;
each test prints its figures.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MARKET = REPO.parent / "shared" / "data" / "market"
BARS = 58_127  # rows of nifty_1m_2024.csv (57,960 are inside sessions and replayed)
ENGINE = [sys.executable, "-m", "engine"]
ARGS = [
    "--data", str(MARKET / "nifty_1m_2024.csv"),
    "--daily", str(MARKET / "nifty_daily_2005_2026.csv"),
    "--vix", str(MARKET / "india_vix_daily_2012_2026.csv"),
    "--no-progress",
]  # fmt: skip
DENSE_EDITS = {
    # every day has a direction, every filter holds: each bar evaluates all of them and
    # both triggers (which never fire), and the breakers' flash-move guard
    "CE: daily.adx >= params.adx_min and daily.plus_di > daily.minus_di": "CE: daily.adx >= 0",
    "PE: daily.adx >= params.adx_min and daily.minus_di > daily.plus_di": "PE: daily.adx >= 0",
    "time >= '10:00' and time <= '14:30'": "time >= '09:15' and time <= '15:30'",
    "h1.adx >= params.adx_min": "h1.adx >= 0",
    "m1.close > h1.prev.high and": "m1.close > h1.prev.high * 2 and",
    "m1.close < h1.prev.low and": "m1.close < h1.prev.low / 2 and",
}


def _whole(rules: Path, out: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one ``engine backtest`` process."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run(
        [*ENGINE, "backtest", str(rules), *ARGS, "--out", str(out)],
        check=True, env=env, stdout=subprocess.DEVNULL, cwd=REPO,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


def _best(benchmark) -> float:  # type: ignore[no-untyped-def]
    """The fastest round (or the only one when benchmarks are disabled)."""
    stats = getattr(benchmark, "stats", None)
    return stats.stats.min if stats is not None else float("nan")


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "ENGINE_CACHE_DIR": str(cache)}


@pytest.fixture(scope="module")
def dense_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the short strategy (one trigger per side) keeps the dense figure comparable run to run
    text = (REPO / "examples" / "rules" / "adx_basic.yaml").read_text()
    for old, new in DENSE_EDITS.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("dense") / "adx_dense.yaml"
    path.write_text(text)
    return path


def test_backtest_whole_process_warm(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = _env(tmp_path / "cache")
    _whole(REPO / "rules" / "adx.yaml", tmp_path / "warmup", env)  # fills the cache
    result = benchmark.pedantic(
        _whole, args=(REPO / "rules" / "adx.yaml", tmp_path / "out", env), rounds=5
    )
    elapsed, peak = result
    best = _best(benchmark)
    print(f"\nwhole process, warm cache: best {best:.3f} s = {BARS / best:,.0f} bars/s; "
          f"peak RSS {peak / 1024:.0f} MB")  # fmt: skip


def test_backtest_whole_process_cold(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def cold() -> tuple[float, int]:
        cache = tmp_path / f"cache-{time.monotonic_ns()}"
        return _whole(REPO / "rules" / "adx.yaml", tmp_path / "out", _env(cache))

    benchmark.pedantic(cold, rounds=3)
    best = _best(benchmark)
    print(f"\nwhole process, cold cache: best {best:.3f} s = {BARS / best:,.0f} bars/s")


def test_backtest_whole_process_dense(benchmark, tmp_path: Path, dense_rules: Path) -> None:  # type: ignore[no-untyped-def]
    env = _env(tmp_path / "cache")
    _whole(dense_rules, tmp_path / "warmup", env)
    benchmark.pedantic(_whole, args=(dense_rules, tmp_path / "out", env), rounds=5)
    best = _best(benchmark)
    print(f"\ndense variant, whole process, warm: best {best:.3f} s = {BARS / best:,.0f} bars/s")


def test_startup_only(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Everything before the first bar: a run over one day of the same files."""
    env = _env(tmp_path / "cache")

    def one_day() -> None:
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        subprocess.run(
            [*ENGINE, "backtest", str(REPO / "rules" / "adx.yaml"), *ARGS,
             "--from", "2024-08-23", "--to", "2024-08-23", "--out", str(tmp_path / "out")],
            check=True, env=env, stdout=subprocess.DEVNULL, cwd=REPO,
        )  # fmt: skip

    one_day()
    benchmark.pedantic(one_day, rounds=5)
    print(f"\nstart-up (one-day run, warm cache): best {_best(benchmark):.3f} s")


def test_plain_python_loop_whole_process(benchmark) -> None:  # type: ignore[no-untyped-def]
    script = Path(__file__).with_name("plain_adx_loop.py")
    names = ("nifty_1m_2024.csv", "nifty_daily_2005_2026.csv", "india_vix_daily_2012_2026.csv")
    files = [str(MARKET / n) for n in names]

    def plain() -> None:
        subprocess.run([sys.executable, str(script), *files], check=True,
                       stdout=subprocess.DEVNULL, cwd=REPO)  # fmt: skip

    benchmark.pedantic(plain, rounds=5)
    best = _best(benchmark)
    print(f"\nplain-Python loop, whole process: best {best:.3f} s = {BARS / best:,.0f} bars/s")


def test_engine_loop_in_process(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The replay loop alone (inputs loaded once): microseconds per bar."""
    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.journal import Journal
    from engine.runtime.backtest import replay

    inputs = load_inputs(
        str(REPO / "rules" / "adx.yaml"),
        str(MARKET / "nifty_1m_2024.csv"),
        daily=str(MARKET / "nifty_daily_2005_2026.csv"),
        vix=str(MARKET / "india_vix_daily_2012_2026.csv"),
    )

    def loop() -> None:
        engine, feed = build_engine(
            inputs, journal=Journal(None), broker=PaperBroker(), echo_notifications=False
        )
        replay(engine, feed)

    benchmark.pedantic(loop, rounds=3)
    best = _best(benchmark)
    print(f"\nengine loop in process: best {best:.3f} s = {best / len(inputs.bars) * 1e6:.1f} "
          f"us per bar")  # fmt: skip


def test_backtest_bar_records_on_and_off(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The cost of recording every bar-close evaluation for ``engine explain``: the same
    whole-process backtest with the recorder on (the default) and off
    (``--no-bar-records``), alternated within each round (the order flips every round,
    so a machine busy with other work weighs on both alike); the best of each."""
    env = _env(tmp_path / "cache")
    best = {"on": float("inf"), "off": float("inf")}
    rounds = [0]

    def once(recording: str) -> None:
        out = tmp_path / "out"
        shutil.rmtree(out, ignore_errors=True)
        extra = [] if recording == "on" else ["--no-bar-records"]
        t0 = time.perf_counter()
        subprocess.run(
            [*ENGINE, "backtest", str(REPO / "rules" / "adx.yaml"), *ARGS, *extra,
             "--out", str(out)],
            check=True, env=env, stdout=subprocess.DEVNULL, cwd=REPO,
        )  # fmt: skip
        best[recording] = min(best[recording], time.perf_counter() - t0)

    def pair() -> None:
        rounds[0] += 1
        for recording in ("on", "off") if rounds[0] % 2 else ("off", "on"):
            once(recording)

    once("on")  # fills the cache
    best["on"] = float("inf")
    benchmark.pedantic(pair, rounds=6)
    on, off = best["on"], best["off"]
    print(f"\nwhole process: bar records on {on:.3f} s = {BARS / on:,.0f} bars/s, off "
          f"{off:.3f} s = {BARS / off:,.0f} bars/s; on/off = {on / off:.3f}")  # fmt: skip


def test_engine_loop_bar_records_on_and_off(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The replay loop alone, recorder on and off alternately in one benchmark (journal
    encoded in memory as a backtest encodes it): the overhead without start-up noise."""
    from adapters.paper import PaperBroker
    from engine.cli._inputs import build_engine, load_inputs
    from engine.runtime.backtest import replay

    inputs = load_inputs(
        str(REPO / "rules" / "adx.yaml"),
        str(MARKET / "nifty_1m_2024.csv"),
        daily=str(MARKET / "nifty_daily_2005_2026.csv"),
        vix=str(MARKET / "india_vix_daily_2012_2026.csv"),
    )
    import gc

    best = {True: float("inf"), False: float("inf")}
    rounds = [0]

    def loop() -> None:
        rounds[0] += 1
        for record in (True, False) if rounds[0] % 2 else (False, True):
            gc.collect()
            journal = _EncodingJournal()
            engine, feed = build_engine(inputs, journal=journal, broker=PaperBroker(),
                                        echo_notifications=False, record_bars=record)  # fmt: skip
            t0 = time.perf_counter()
            replay(engine, feed)
            best[record] = min(best[record], time.perf_counter() - t0)

    benchmark.pedantic(loop, rounds=6)
    on, off = best[True], best[False]
    print(f"\nengine loop: bar records on {on:.3f} s, off {off:.3f} s; on/off = {on / off:.3f} "
          f"(+{(on / off - 1) * 100:.1f}%)")  # fmt: skip


class _EncodingJournal:
    """A journal that encodes every record as the file journal does, and keeps nothing."""

    def __init__(self) -> None:
        from engine.journal import encode_record

        self._encode = encode_record
        self.count = 0
        self.records = None

    def write(self, record, *, sync: bool = False) -> None:  # type: ignore[no-untyped-def]
        self._encode(record)
        self.count += 1

    def flush(self, *, sync: bool = True) -> None:
        pass

    def close(self) -> None:
        pass
