"""A serving worker leaves its start-up objects out of the garbage collector's full passes,
only once its start-up work (at-risk list, live history) is done, and a reload does not leak
the cycles of the state it replaced."""

from __future__ import annotations

import gc
import threading
import weakref

from serving.gc_pause import freeze_after, refreeze


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


class _Node:
    me: _Node | None = None


def test_a_reload_collects_the_cycles_the_frozen_state_left() -> None:
    gc.unfreeze()
    try:
        refreeze()
        assert gc.get_freeze_count() == 0  # a process that never froze stays as it is
        node = _Node()
        node.me = node  # a cycle, as a model object may hold one
        seen = weakref.ref(node)
        gc.collect()
        gc.freeze()
        del node
        gc.collect()
        assert seen() is not None  # frozen: full passes no longer reach it
        refreeze()
        assert seen() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
