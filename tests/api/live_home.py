"""A home whose online store was materialised at a cutoff inside the world, for live ingestion.

The world's events before ``cutoff`` are the store's history; the events after it are what a
test (or ``benchmarks/realtime.py``) posts to ``/events``, as ``cxchurn replay`` would. The
store records the customers and events files and the label kind, as ``cxchurn online
materialize`` does, so the live path finds its history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from features.default_specs import DEFAULT_SPECS
from features.spec import spec_version


def write_world_files(world: Any, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    customers, events = folder / "customers.parquet", folder / "events.parquet"
    world.customers.to_parquet(customers, index=False)
    world.events.to_parquet(events, index=False)
    return customers, events


def materialize_at(home: Path, world: Any, cutoff: pd.Timestamp) -> Path:
    """Write ``home``'s online store at ``cutoff`` from the world's files (kept in the home)."""
    from serving.api.online_store import latest_features, store_path, write_store

    customers, events = write_world_files(world, home / "world")
    before = world.events[world.events["event_time"] < cutoff]
    table = latest_features(world.customers, before, cutoff)
    return write_store(table, store_path(home), {
        "cutoff": cutoff.isoformat(), "spec_version": spec_version(DEFAULT_SPECS),
        "source": str(customers), "customers": str(customers), "events": str(events),
        "label": "contractual"})


def later_events(world: Any, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The world's events at or after ``cutoff``, in time order (what a replay posts)."""
    events = world.events[world.events["event_time"] >= cutoff]
    return events.sort_values("event_time", kind="stable").reset_index(drop=True)
