"""The public surface of engine.indicators: every exported name exists, the list is sorted."""

from __future__ import annotations

import engine.indicators as indicators
from engine.indicators import batch


def _isort_key(name: str) -> tuple[int, str]:
    # Constants, then classes, then functions and modules (ruff's RUF022 order).
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_when_listed_then_every_name_exists_once_in_sorted_order():
    for module in (indicators, batch):
        names = module.__all__
        assert len(names) == len(set(names))
        assert names == sorted(names, key=_isort_key)
        for name in names:
            assert hasattr(module, name), name


def test_batch_when_imported_then_offers_every_indicator_function():
    expected = {"adx", "plus_di", "minus_di", "dmi", "rsi", "ema", "sma", "atr", "highest"}
    assert expected | {"lowest", "true_range"} <= set(batch.__all__)
