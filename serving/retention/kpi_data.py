"""The KPI tables behind ``GET /kpis`` and the Experience tab: which files, and a cache.

The tables are ``features.kpis.kpi_tables`` over the events file behind the online store
(``RetentionState.events_path()``) and the customers file beside it; nothing here computes a
KPI. Reading every event costs seconds on 10M rows, so ``KpiCache`` keeps each table keyed by
both files' (path, modification time, size) and the request's parameters: a page view or a
repeated API call is a dictionary lookup, and a replaced events file (another mtime or size)
is recomputed on first use. One computation runs at a time; a request that needs the same
tables waits for it and then reads the cache instead of starting a second one.

A filter on one segment is a slice of a table grouped by segment too (``select_segment``), so
every number shown equals a ``kpi_table`` row on the same files.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxchurn.errors import ConfigError, NotFoundError
from features.kpis import MONTH, KpiConfig, kpi_tables

CUSTOMER_FILES = ("customers.parquet", "customers.csv")
SEGMENT = "segment"
GROUPS = ("segment", "region", "channel", "touchpoint")  # what the page and the API split by
Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class KpiFiles:
    """The events file, the customers file beside it, and the world's end if it has one."""

    events: Path
    customers: Path
    world_end: pd.Timestamp | None = None

    def fingerprint(self) -> Fingerprint:
        """(path, mtime in ns, size) of both files: any rewrite changes it."""
        out = []
        for path in (self.events, self.customers):
            stat = path.stat()
            out.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(out)


def kpi_files(events: Path) -> KpiFiles:
    """The files behind the online store, or a 404 that says where they were looked for."""
    if not events.is_file():
        raise NotFoundError(f"no events file at {str(events)!r}: the KPIs read the events "
                            f"behind the online store; set CXCHURN_EVENTS_FILE or load a "
                            f"world with `cxchurn simulate`")
    names = dict.fromkeys([f"customers{events.suffix}", *CUSTOMER_FILES])
    for name in names:
        if (events.parent / name).is_file():
            return KpiFiles(events, events.parent / name, _world_end(events.parent))
    raise NotFoundError(f"no customers file beside {str(events)!r} (looked for "
                        f"{list(names)}): segments and churn come from the customers table")


def _world_end(folder: Path) -> pd.Timestamp | None:
    """A simulated world ends at ``end`` (world.json), however late its last event fell."""
    try:
        end = json.loads((folder / "world.json").read_text(encoding="utf-8"))["end"]
        return pd.Timestamp(end, tz="UTC")
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class KpiParams:
    """What a table depends on besides the files and the grouping (hashable: a cache key)."""

    min_n: int = 30
    start: str | None = None
    end: str | None = None
    churn: str = "contractual"

    def config(self) -> KpiConfig:
        for name, value in (("start", self.start), ("end", self.end)):
            if value is not None:
                try:
                    pd.Timestamp(value)
                except ValueError:
                    raise ConfigError(f"{name} must be a month such as 2025-01; got "
                                      f"{value[:40]!r}") from None
        if self.start and self.end and pd.Timestamp(self.start) > pd.Timestamp(self.end):
            raise ConfigError(f"start {self.start} is after end {self.end}; swap them")
        return KpiConfig(churn=self.churn, start=self.start, end=self.end)


class KpiCache:
    """KPI tables per (files' fingerprint, grouping, parameters), the least recently used
    dropped beyond ``max_entries``. ``computations`` counts ``kpi_tables`` calls (tests)."""

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self.computations = 0
        self._tables: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._data_end: dict[Fingerprint, pd.Timestamp | None] = {}
        self._lock = threading.Lock()

    def tables(self, files: KpiFiles, bys: Sequence[tuple[str, ...]], params: KpiParams
               ) -> list[pd.DataFrame]:
        """One table per grouping in ``bys``; the missing ones computed in one pass."""
        fingerprint = files.fingerprint()
        keys = [(fingerprint, tuple(by), params) for by in bys]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._tables))
            if missing:
                config = params.config()
                self.computations += 1
                computed = kpi_tables(files.customers, files.events, [k[1] for k in missing],
                                      params.min_n, config=config)
                for key, table in zip(missing, computed, strict=True):
                    self._tables[key] = table
            for key in keys:
                self._tables.move_to_end(key)
            out = [self._tables[k] for k in keys]
            while len(self._tables) > self.max_entries:
                self._tables.popitem(last=False)
        return out

    def data_end(self, files: KpiFiles) -> pd.Timestamp | None:
        """Where the data ends: the world's end, else the last event's time (cached)."""
        if files.world_end is not None:
            return files.world_end
        fingerprint = files.fingerprint()
        with self._lock:
            if fingerprint not in self._data_end:
                from features import pit

                con = pit.connect()
                pit.register(con, "cx_events", files.events)
                last = con.sql("SELECT max(event_time) FROM cx_events").to_arrow_table(
                    ).to_pandas().iloc[0, 0]
                self._data_end[fingerprint] = None if pd.isna(last) else pd.Timestamp(last)
            return self._data_end[fingerprint]


def group_keys(by: str, segment: str | None) -> tuple[str, ...]:
    """The ``kpi_table`` grouping for a split ``by`` (``month``: none) and a segment filter."""
    keys = [MONTH]
    if segment and by != SEGMENT:
        keys.append(SEGMENT)
    if by != MONTH:
        keys.append(by)
    return tuple(keys)


def select_segment(table: pd.DataFrame, segment: str | None, by: str) -> pd.DataFrame:
    """The rows of one segment (all rows when ``segment`` is empty); the segment column is
    dropped unless it is the split itself. An unknown segment is a 400 naming the known ones."""
    if not segment:
        return table
    known = sorted(table[SEGMENT].dropna().unique())
    if segment not in known:
        raise ConfigError(f"segment must be one of {known}; got {segment[:40]!r}")
    rows = table[table[SEGMENT] == segment]
    return (rows if by == SEGMENT else rows.drop(columns=SEGMENT)).reset_index(drop=True)


def latest_complete_month(months: pd.Series, data_end: pd.Timestamp | None
                          ) -> pd.Timestamp | None:
    """The last month that ends at or before the data's end (a part-month is not compared)."""
    done = [m for m in pd.Series(months).drop_duplicates().sort_values()
            if data_end is None or m + pd.DateOffset(months=1) <= data_end]
    return done[-1] if done else None
