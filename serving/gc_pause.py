"""Keep the garbage collector's full passes short in a serving worker.

A worker holds a few hundred thousand long-lived objects after its start (the libraries, the
model, the online store, the live history). CPython's full collection walks every one of them
whenever enough new objects have survived since the last: measured in a worker, 100-220 ms,
landing on whatever request is running (the p99 of ``POST /events``). ``gc.freeze`` moves the
objects alive at that moment out of the collector's scans for good; they are still freed by
reference counting, only cycles among them are no longer collected. So a worker freezes once,
when its start-up work is done, and later full passes walk only what came after. A reload
replaces the model and the store: their cycles would then never be collected, so a reload
thaws, collects and freezes again (``refreeze``; a reload already takes seconds).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)


def freeze_after(started: Sequence[threading.Thread]) -> threading.Thread:
    """Collect and freeze once every thread in ``started`` (the start-up work) has ended."""

    def run() -> None:
        for thread in started:
            thread.join()
        gc.collect()
        gc.freeze()
        log.info("start-up objects left out of garbage collection: %d", gc.get_freeze_count())

    thread = threading.Thread(target=run, name="gc-freeze", daemon=True)
    thread.start()
    return thread


def refreeze() -> None:
    """After a reload in a frozen process: collect what the old state left in cycles, then
    freeze the new state (nothing to do in a process that never froze)."""
    if gc.get_freeze_count() == 0:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()


__all__ = ["freeze_after", "refreeze"]
