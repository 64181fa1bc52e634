"""The purchase history a training run's event-log baselines are fitted on.

BG/NBD (``training.baselines.bgnbd_scores``) needs the raw orders, not the examples. Every
event-mode run (``cxchurn train`` on a build from a world, an import or a user's files; the
refit; the benchmarks) takes them from the feature build's recorded sources
(``features.build_sources``), so the baseline sees exactly the events the features were built
from. When they cannot be found the run still trains, without that baseline, and says why in
its summary (a note the user reads, not only a log line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxchurn.errors import CxChurnError
from features.build_sources import (
    events_of_type,
    load_build_events,
    read_events_file,
    read_sources,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineEvents:
    """The orders for the event-log baselines, or None with the reason they are missing."""

    orders: pd.DataFrame | None
    note: str | None = None


@dataclass(frozen=True)
class BuildEvents:
    """Every event a build read (a Parquet path, or the contract-accepted frame of a text
    file), or None with the reason they cannot be found."""

    source: str | pd.DataFrame | None
    note: str | None = None


def baseline_events(features_dir: Path | str, world_dir: Path | str | None = None,
                    events_path: Path | str | None = None, read: BuildEvents | None = None
                    ) -> BaselineEvents:
    """Orders from ``events_path`` if given, else the build's recorded events file, else the
    world folder's ``events.parquet`` (builds that predate the record).

    ``read``: the same build's events as ``build_events`` gave them; when that is a text
    export already read through the data contract, its orders are taken from it instead of
    reading and checking the file a second time.
    """
    if read is not None and isinstance(read.source, pd.DataFrame):
        return BaselineEvents(events_of_type(read.source))
    folder = Path(features_dir)
    try:
        if events_path is not None:
            return BaselineEvents(read_events_file(events_path, read_sources(folder)))
        if read_sources(folder) is not None or world_dir is None:
            return BaselineEvents(load_build_events(folder))
    except CxChurnError as err:
        note = f"bgnbd baseline skipped: {err}"
        log.warning(note)
        return BaselineEvents(None, note)
    world_events = Path(world_dir) / "events.parquet"
    if not world_events.exists():
        note = (f"bgnbd baseline skipped: the world folder {world_dir} has no events.parquet "
                "and the feature build records no events file; rebuild the features")
        log.warning(note)
        return BaselineEvents(None, note)
    return BaselineEvents(read_events_file(world_events))


def build_events(features_dir: Path | str, world_dir: Path | str | None = None,
                 events_path: Path | str | None = None, purpose: str = "horizon model"
                 ) -> BuildEvents:
    """All the events of a build, for labels that need more than its orders (the horizon
    model counts cancellations or purchases in several windows and needs the data's end).

    Same order of places as ``baseline_events``: ``events_path``, then the build's recorded
    events file, then the world folder. A CSV or Excel export goes through the data contract
    again with the recorded customers and date format, so the rows are those the build kept.
    """
    folder = Path(features_dir)
    sources = read_sources(folder)
    if events_path is not None:
        path: Path | None = Path(events_path)
    elif sources is not None:
        path = Path(sources.events)
    elif world_dir is not None:
        path = Path(world_dir) / "events.parquet"
    else:
        path = None
    if path is None or not path.exists():
        where = "records no events file" if path is None else f"reads {path}, which is gone"
        note = (f"{purpose} skipped: the feature build in {folder} {where}; pass --events "
                "(or --world for a simulated world), or rebuild the features")
        log.warning(note)
        return BuildEvents(None, note)
    if events_path is None and sources is not None and sources.changed_since_build():
        log.warning("the events file %s changed since the feature build in %s; the run reads "
                    "it as it is now", path, folder)
    if path.is_dir() or path.name.lower().endswith((".parquet", ".pq")):
        return BuildEvents(str(path))
    if sources is None:
        note = (f"{purpose} skipped: {path} is not Parquet, so it is read through the data "
                "contract, which needs the build's recorded customers file; rebuild the "
                "features with `cxchurn features build`")
        log.warning(note)
        return BuildEvents(None, note)
    from features.load import load_customers, load_events

    try:
        customers = load_customers(sources.customers, None, date_format=sources.date_format)
        loaded = load_events(str(path), customers, None, date_format=sources.date_format)
    except CxChurnError as err:
        note = f"{purpose} skipped: {err}"
        log.warning(note)
        return BuildEvents(None, note)
    return BuildEvents(loaded.frame)


__all__ = ["BaselineEvents", "BuildEvents", "baseline_events", "build_events"]
