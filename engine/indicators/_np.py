"""numpy, imported the first time a batch function needs it.

The streaming indicators are pure Python and run in every backtest and live session;
numpy serves only the batch functions (``engine indicators``, the TA-Lib checks). Importing
it eagerly cost a tenth of a second of every start, so the modules refer to it through
this proxy, which imports numpy on the first attribute read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["np"]


class _Numpy:
    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        import numpy

        return getattr(numpy, name)


np: Any = _Numpy()
