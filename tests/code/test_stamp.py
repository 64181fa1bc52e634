"""Stamp files: a worker that looked between two changes still sees the second one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from serving.stamp import read_stamp, write_stamp


def test_a_missing_stamp_reads_as_never_stamped(tmp_path: Path) -> None:
    assert read_stamp(tmp_path / "never") is None


def test_every_write_is_a_new_stamp_even_when_the_clock_has_not_moved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / ".stamp"
    first = write_stamp(path)
    monkeypatch.setattr(time, "time_ns", lambda: first)  # a clock stuck in one tick
    seen = [read_stamp(path)]
    for _ in range(3):
        written = write_stamp(path)
        seen.append(read_stamp(path))
        assert seen[-1] == written
    assert len(set(seen)) == len(seen)
