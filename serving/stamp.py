"""Stamp files: how one worker process tells the others "something changed, look again".

A worker compares a stamp's modification time (one ``stat``) on every request. ``touch``
would stamp the kernel's coarse clock, which moves in ticks of several milliseconds: two
touches in one tick leave the same time, and a worker that looked between them would never
see the second. So the time is set explicitly, in nanoseconds and always past the last one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def read_stamp(path: Path) -> int | None:
    """The stamp's time in nanoseconds; None when it was never stamped (or is unreadable)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def write_stamp(path: Path) -> int:
    """Mark ``path`` changed with a time no look at it has seen yet; raises ``OSError``."""
    previous = read_stamp(path)
    if previous is None:
        path.touch()
        previous = 0
    now = max(time.time_ns(), previous + 1)
    os.utime(path, ns=(now, now))
    return now
