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
from features.build_sources import load_build_events, read_events_file, read_sources

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineEvents:
    """The orders for the event-log baselines, or None with the reason they are missing."""

    orders: pd.DataFrame | None
    note: str | None = None


def baseline_events(features_dir: Path | str, world_dir: Path | str | None = None,
                    events_path: Path | str | None = None) -> BaselineEvents:
    """Orders from ``events_path`` if given, else the build's recorded events file, else the
    world folder's ``events.parquet`` (builds that predate the record)."""
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


__all__ = ["BaselineEvents", "baseline_events"]
