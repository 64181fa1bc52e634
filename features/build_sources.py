"""Which input files a feature build was made from, recorded beside it, and reading them back.

Training on a feature build needs more than the examples for one baseline: BG/NBD is fitted on
the raw purchase history before each cutoff, which the examples do not hold. The build records
the customers and events files it read (absolute paths, the ``--date-format`` it read them
with, and the events file's size and modification time) under ``"sources"`` in its
``feature_spec.json``, so every later step (``cxchurn train``, the refit, the benchmarks) finds
the very events the features were built from, whether they came from a simulated world, an
import or a user's own files. A build made before this was recorded, or whose events file has
since moved, gets a message naming the file and the fix instead of a silent skip.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from cxchurn.errors import NotFoundError
from features.schema import CUSTOMER_ID

log = logging.getLogger(__name__)

SPEC_FILE = "feature_spec.json"
SOURCES_KEY = "sources"
ORDER = "order"
_COLUMNS = [CUSTOMER_ID, "event_time", "event_type"]


@dataclass(frozen=True)
class BuildSources:
    """The input files of one feature build (paths absolute, so the record survives a cd)."""

    customers: str
    events: str
    date_format: str | None = None
    events_bytes: int | None = None
    events_mtime: float | None = None

    @classmethod
    def of(cls, customers: Path | str, events: Path | str,
           date_format: str | None = None) -> BuildSources:
        """Record ``customers`` and ``events`` as they are now (size and time of the events)."""
        ev = Path(events).resolve()
        stat = ev.stat() if ev.is_file() else None
        return cls(customers=str(Path(customers).resolve()), events=str(ev),
                   date_format=date_format,
                   events_bytes=stat.st_size if stat else None,
                   events_mtime=stat.st_mtime if stat else None)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> BuildSources:
        names = {"customers", "events", "date_format", "events_bytes", "events_mtime"}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    def changed_since_build(self) -> bool:
        """Has the events file been rewritten since the build (size or time differ)?"""
        path = Path(self.events)
        if not path.is_file() or self.events_bytes is None:
            return False
        stat = path.stat()
        return stat.st_size != self.events_bytes or stat.st_mtime != self.events_mtime


def read_sources(features_dir: Path | str) -> BuildSources | None:
    """The build's recorded sources, or None for a build that recorded none (older builds)."""
    spec = Path(features_dir) / SPEC_FILE
    if not spec.exists():
        return None
    data = json.loads(spec.read_text(encoding="utf-8")).get(SOURCES_KEY)
    return BuildSources.from_dict(data) if isinstance(data, dict) else None


def _parquet_orders(path: Path, event_type: str) -> pd.DataFrame:
    frame = pd.read_parquet(path, columns=_COLUMNS, filters=[("event_type", "==", event_type)])
    frame[CUSTOMER_ID] = frame[CUSTOMER_ID].astype(str)
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
    return frame.dropna(subset=["event_time"]).reset_index(drop=True)


def _contract_orders(sources: BuildSources, event_type: str) -> pd.DataFrame:
    """A CSV goes through the data contract again, so the rows are exactly those accepted at
    build time (same customers, same date format, same quarantine rules)."""
    from features.load import load_customers, load_events

    customers = load_customers(sources.customers, None, date_format=sources.date_format)
    events = load_events(sources.events, customers, None, date_format=sources.date_format)
    return events_of_type(events.frame, event_type)


def events_of_type(frame: pd.DataFrame, event_type: str = ORDER) -> pd.DataFrame:
    """The ``event_type`` rows (customer_id, event_time, event_type) of contract-accepted
    events."""
    return frame.loc[frame["event_type"] == event_type, _COLUMNS].reset_index(drop=True)


def load_build_events(features_dir: Path | str, event_type: str = ORDER) -> pd.DataFrame:
    """The ``event_type`` events (customer_id, event_time, event_type) the build read.

    Raises ``NotFoundError`` naming the build and the fix when the build recorded no sources
    or the events file is gone; warns when the file changed since the build.
    """
    folder = Path(features_dir)
    sources = read_sources(folder)
    if sources is None:
        raise NotFoundError(
            f"the feature build in {folder} does not record which events file it was built "
            f"from ({SPEC_FILE} has no '{SOURCES_KEY}'); rebuild it with `cxchurn features "
            "build` (or pass the events with --events) to add the BG/NBD baseline")
    path = Path(sources.events)
    if not path.exists():
        raise NotFoundError(
            f"the feature build in {folder} was made from the events file {path}, which no "
            "longer exists; restore it, pass its new place with --events, or rebuild the "
            "features")
    if sources.changed_since_build():
        log.warning("the events file %s changed since the feature build in %s; the BG/NBD "
                    "baseline reads it as it is now", path, folder)
    return read_events_file(path, sources, event_type)


def read_events_file(path: Path | str, sources: BuildSources | None = None,
                     event_type: str = ORDER) -> pd.DataFrame:
    """``event_type`` events of one events file: Parquet (a file or a folder of parts) read
    with a filter; anything else through the data contract (needs ``sources.customers``)."""
    path = Path(path)
    if path.is_dir() or path.name.lower().endswith((".parquet", ".pq")):
        return _parquet_orders(path, event_type)
    if sources is None:
        raise NotFoundError(
            f"events file {path} is not Parquet, so it is read through the data contract, "
            "which needs the customers file; pass a Parquet events file or use the feature "
            "build's recorded sources")
    return _contract_orders(BuildSources(customers=sources.customers, events=str(path),
                                         date_format=sources.date_format), event_type)


__all__ = ["BuildSources", "events_of_type", "load_build_events", "read_events_file",
           "read_sources"]
