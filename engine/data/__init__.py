"""Market data in, trustworthy bars out: the calendar, ticks -> bars, validation, storage.

This package decides *when* the market trades and turns what the feed or a data file says
into bars the rest of the engine can rely on. ``calendar`` knows every NSE session of the
years its dated files cover (holidays, weekend and Muhurat sessions, the hours of each
segment, option expiries, lot sizes by contract expiry) and refuses to guess outside
them; for older history it derives sessions from the data itself. The bar builder turns
ticks or 1-minute bars into session-aligned bars of every timeframe, validation reports
the quirks of real files (gaps, broken OHLC relations, stray bars) instead of fixing them
silently, and storage keeps what was recorded without losing any of it.

Nothing is imported here, so ``import engine.data`` stays cheap: import the module you
need, e.g. ``from engine.data.calendar import Calendar``.
"""

__all__: list[str] = []
