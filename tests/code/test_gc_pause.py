"""A serving worker leaves its start-up objects out of the garbage collector's full passes,
and only once its start-up work (at-risk list, live history) is done."""

from __future__ import annotations

import gc
import threading

from serving.gc_pause import freeze_after


def test_start_up_objects_are_frozen_once_the_start_up_work_has_ended() -> None:
    gate = threading.Event()
    work = threading.Thread(target=gate.wait)
    work.start()
    gc.unfreeze()
    try:
        freezer = freeze_after([work])
        assert freezer.is_alive() and gc.get_freeze_count() == 0  # waits for the work
        gate.set()
        freezer.join(timeout=30)
        assert not freezer.is_alive()
        assert gc.get_freeze_count() > 1000  # this process's modules, at least
    finally:
        gate.set()
        gc.unfreeze()
