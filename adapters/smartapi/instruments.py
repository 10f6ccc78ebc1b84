"""The instrument master (OpenAPIScripMaster.json, §9): download, daily cache, lookups.

The file is one JSON array of flat rows whose values are all strings; strikes are written
×100 and tick sizes in paise. It is regenerated every morning around 08:30 IST, so a copy
downloaded on an earlier IST date (or before 08:30 today) is refreshed; when the download
fails or comes back empty (it happens, §9) the previous copy is kept and a warning logged.

Lookups: an option by underlying, expiry, strike and CE/PE; lot and tick size; index
tokens (India VIX). ``cross_check`` compares lot sizes, tick sizes and strike steps with
the calendar's dated contract facts and logs every disagreement: the master is what the
exchange says today, the calendar is what the engine's sizing and backtests assume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from adapters.smartapi.parsing.values import to_date, to_decimal, to_int
from adapters.smartapi.redact import adapter_logger
from engine.errors import BrokerUnavailableError, CalendarError
from engine.timeutil import IST

__all__ = [
    "FactMismatch",
    "Instrument",
    "InstrumentCache",
    "InstrumentMaster",
    "default_cache_dir",
]

log = adapter_logger("instruments")

REFRESH_AT = time(8, 30)  # IST; the file is regenerated around then
VIX_NAMES = ("INDIA VIX",)


@dataclass(frozen=True, slots=True)
class Instrument:
    token: str
    symbol: str
    name: str
    expiry: date | None
    strike: Decimal | None  # rupees; None for equities, futures and indices
    lot_size: int
    instrument_type: str
    exchange: str
    tick_size: Decimal  # rupees
    option_type: Literal["CE", "PE"] | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Instrument:
        symbol = str(row.get("symbol", ""))
        itype = str(row.get("instrumenttype", ""))
        strike = to_decimal(row.get("strike"), Decimal(-1))
        is_option = itype.startswith("OPT") and symbol[-2:] in ("CE", "PE")
        return cls(
            token=str(row.get("token", "")),
            symbol=symbol,
            name=str(row.get("name", "")),
            expiry=to_date(row.get("expiry")),
            strike=strike / 100 if is_option and strike > 0 else None,
            lot_size=to_int(row.get("lotsize"), 1),
            instrument_type=itype,
            exchange=str(row.get("exch_seg", "")),
            tick_size=to_decimal(row.get("tick_size")) / 100,
            option_type=symbol[-2:] if is_option else None,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class FactMismatch:
    """The master and the calendar disagree on a contract fact."""

    underlying: str
    expiry: date | None
    field: str
    master: str
    calendar: str


class InstrumentMaster:
    """Indexed rows of one day's instrument master."""

    def __init__(self, instruments: Iterable[Instrument], *, as_of: date | None = None) -> None:
        self.instruments = tuple(instruments)
        self.as_of = as_of
        self._by_token = {(i.exchange, i.token): i for i in self.instruments}
        self._by_symbol = {(i.exchange, i.symbol): i for i in self.instruments}
        self._options: dict[tuple[str, date, Decimal, str], Instrument] = {}
        for i in self.instruments:
            if i.option_type and i.expiry and i.strike is not None:
                self._options[(i.name.upper(), i.expiry, i.strike, i.option_type)] = i

    @classmethod
    def from_json(cls, payload: Any, *, as_of: date | None = None) -> InstrumentMaster:
        if not isinstance(payload, list):
            raise ValueError("the instrument master is not a JSON array")
        return cls((Instrument.from_row(r) for r in payload if isinstance(r, dict)), as_of=as_of)

    def __len__(self) -> int:
        return len(self.instruments)

    def by_token(self, exchange: str, token: str) -> Instrument | None:
        return self._by_token.get((exchange, token))

    def by_symbol(self, exchange: str, symbol: str) -> Instrument | None:
        return self._by_symbol.get((exchange, symbol))

    def option(
        self, underlying: str, expiry: date, strike: Decimal | int | float, right: str
    ) -> Instrument | None:
        key = (underlying.upper(), expiry, Decimal(str(strike)), right.upper())
        return self._options.get(key)

    def expiries(self, underlying: str) -> list[date]:
        u = underlying.upper()
        return sorted({k[1] for k in self._options if k[0] == u})

    def strikes(self, underlying: str, expiry: date) -> list[Decimal]:
        u = underlying.upper()
        return sorted({k[2] for k in self._options if k[0] == u and k[1] == expiry})

    def lot_size(self, underlying: str, expiry: date) -> int | None:
        for k, i in self._options.items():
            if k[0] == underlying.upper() and k[1] == expiry:
                return i.lot_size
        return None

    def tick_size(self, underlying: str, expiry: date) -> Decimal | None:
        for k, i in self._options.items():
            if k[0] == underlying.upper() and k[1] == expiry:
                return i.tick_size
        return None

    def index(self, name: str) -> Instrument | None:
        """The NSE index row (instrument type AMXIDX) named ``name`` (``NIFTY``, ``INDIA VIX``)."""
        wanted = name.upper()
        rows = [
            i
            for i in self.instruments
            if i.instrument_type == "AMXIDX" and i.exchange == "NSE" and i.name.upper() == wanted
        ]
        # both 99926xxx and short 26xxx tokens circulate (§9 ⚠): prefer the long REST form
        rows.sort(key=lambda i: (not i.token.startswith("999"), i.token))
        return rows[0] if rows else None

    def vix_token(self) -> str | None:
        for name in VIX_NAMES:
            row = self.index(name)
            if row is not None:
                return row.token
        return None

    def cross_check(self, calendar: Any, on: date) -> list[FactMismatch]:
        """Compare every option's lot size and tick size, and each expiry's strikes, with
        the calendar's facts (``engine.data.calendar.Calendar``) for trade date ``on``.

        Facts the calendar does not know are skipped. Each distinct disagreement is logged
        as a warning and returned once.
        """
        found: dict[tuple[str, date | None, str, str], FactMismatch] = {}
        expected: dict[tuple[str, str, date], Decimal | None] = {}

        def fact(name: str, u: str, d: date, read: Any) -> Decimal | None:
            key = (name, u, d)
            if key not in expected:
                try:
                    expected[key] = Decimal(str(read(u, d)))
                except CalendarError:
                    expected[key] = None
            return expected[key]

        for (u, expiry, strike, _right), inst in self._options.items():
            if u not in calendar.underlyings:
                continue
            checks = (
                ("lot_size", Decimal(inst.lot_size), fact("lot", u, expiry, calendar.lot_size)),
                ("tick_size", inst.tick_size, fact("tick", u, on, calendar.tick_size)),
            )
            for name, value, wanted in checks:
                if wanted is not None and value != wanted:
                    m = FactMismatch(u, expiry, name, f"{value:f}", f"{wanted:f}")
                    found.setdefault((u, expiry, name, m.master), m)
            step = fact("step", u, on, calendar.strike_interval)
            if step is not None and strike % step:
                m = FactMismatch(u, expiry, "strike_interval", f"{strike:f}", f"{step:f}")
                found.setdefault((u, expiry, "strike_interval", ""), m)
        for m in found.values():
            log.warning(
                "instrument master and calendar disagree: {} {} {}: master {}, calendar {}",
                m.underlying, m.expiry, m.field, m.master, m.calendar,
            )  # fmt: skip
        return list(found.values())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nse-rule-engine" / "smartapi"


class InstrumentCache:
    """The master on disk, refreshed once per trading morning."""

    FILE = "OpenAPIScripMaster.json"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_cache_dir()
        self.path = self.folder / self.FILE

    def is_fresh(self, now: datetime) -> bool:
        """True when the copy was saved after this morning's regeneration."""
        if not self.path.exists():
            return False
        saved = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        local = now.astimezone(IST)
        regenerated = datetime.combine(local.date(), REFRESH_AT, tzinfo=IST)
        if local < regenerated:
            regenerated -= timedelta(days=1)
        return saved >= regenerated

    async def load(self, url: str, now: datetime, *, timeout_s: float = 30.0) -> InstrumentMaster:
        """The cached master when fresh, else a new download (the old copy on failure)."""
        today = now.astimezone(IST).date()
        if self.is_fresh(now):
            return self._read(today)
        try:
            payload = await _download(url, timeout_s)
            master = InstrumentMaster.from_json(payload, as_of=today)
            if len(master) == 0:
                raise ValueError("the instrument master is empty")
        except (BrokerUnavailableError, ValueError) as e:
            if self.path.exists():
                log.warning("instrument master download failed ({}); keeping the copy of {}",
                            e, self.path)  # fmt: skip
                return self._read(today)
            raise BrokerUnavailableError(
                f"the instrument master could not be downloaded ({e}) and no copy is cached "
                f"in {self.folder}",
                maybe_processed=False,
            ) from None
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        tmp.replace(self.path)
        log.info("instrument master downloaded: {} rows", len(master))
        return master

    def _read(self, today: date) -> InstrumentMaster:
        payload = json.loads(self.path.read_text(encoding="utf-8"))
        return InstrumentMaster.from_json(payload, as_of=today)


async def _download(url: str, timeout_s: float) -> Any:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            reply = await client.get(url)
    except httpx.HTTPError as e:
        raise BrokerUnavailableError(f"instrument master: {type(e).__name__}") from None
    if reply.status_code != 200:
        raise BrokerUnavailableError(f"instrument master: HTTP {reply.status_code}")
    try:
        return reply.json()
    except ValueError:
        raise BrokerUnavailableError("instrument master: the reply was not JSON") from None
