"""Where a live update's history comes from, stated once.

The online store was materialised at a cutoff ``C`` from a customers file and an events file.
A live update of customer X recomputes X's row from

* the events file's rows for X with ``event_time < C`` (what the store already reflects), and
* every event of X stored by ``POST /events`` (``serving/live/event_store.py``), whatever its
  time,

at the live cutoff: the midnight after the newest of all those events, never earlier than
``C`` (``serving.api.online_store.default_cutoff``, the rule ``cxchurn online materialize``
uses when no ``--cutoff`` is given). Cutting the file at ``C`` is what lets a replay post a
world's later events to a store materialised with ``--cutoff`` without counting them twice.

The files are found in this order: ``CXCHURN_EVENTS`` for the events; else the paths the store
recorded when it was materialised (``events`` and ``customers`` in its metadata); else an
``events``/``customers`` Parquet or CSV file beside the store's recorded source; else
``<CXCHURN_HOME>/world``. Both are read through the contract loader, as materialise reads
them, so quarantined rows are left out the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError
from cxchurn.settings import Settings
from features.load import load_tables

NAMES = (".parquet", ".csv")


@dataclass(frozen=True)
class History:
    """The two files, the store's cutoff and its label kind (who is still a customer)."""

    customers_file: Path
    events_file: Path
    store_cutoff: pd.Timestamp
    label_kind: str = "contractual"


def _beside(folder: Path, stem: str) -> Path | None:
    for suffix in NAMES:
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def _folders(meta: Mapping[str, Any], home: Path) -> list[Path]:
    source = str(meta.get("source") or "")
    folders = [Path(source), Path(source).parent] if source else []
    return [*folders, home / "world"]


def find_history(meta: Mapping[str, Any], settings: Settings) -> History:
    """The history behind a store with metadata ``meta``; ConfigError naming what is missing."""
    cutoff_text = meta.get("cutoff")
    if not cutoff_text:
        raise ConfigError("the online store records no cutoff, so live events cannot be placed "
                          "after it; re-run `cxchurn online materialize`")
    folders = _folders(meta, Path(settings.home))
    events = settings.events_file or (Path(meta["events"]) if meta.get("events") else None)
    if events is None:
        events = next((p for f in folders if (p := _beside(f, "events"))), None)
    customers = Path(meta["customers"]) if meta.get("customers") else None
    if customers is None:
        source = Path(str(meta.get("source") or ""))
        customers = source if source.is_file() and "customer" in source.name else None
    if customers is None:
        near = [events.parent] if events is not None else []
        customers = next((p for f in [*near, *folders] if (p := _beside(f, "customers"))),
                         None)
    if events is None or not events.is_file() or customers is None or not customers.is_file():
        raise ConfigError(
            "live events need the files the online store was materialised from, and they "
            f"were not found (events: {events}, customers: {customers}); set CXCHURN_EVENTS to "
            "the events file, or re-run `cxchurn online materialize --world DIR`, which records "
            "both")
    cutoff = pd.Timestamp(cutoff_text)
    cutoff = cutoff.tz_localize("UTC") if cutoff.tzinfo is None else cutoff.tz_convert("UTC")
    return History(customers, events, cutoff.as_unit("us"),
                   str(meta.get("label") or "contractual"))


def load_history(history: History, quarantine_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted customers, accepted events) of the two files, as materialise loads them."""
    tables = load_tables(history.customers_file, history.events_file, None,
                         quarantine_dir=quarantine_dir)
    return tables.customers, tables.events


__all__ = ["History", "find_history", "load_history"]
