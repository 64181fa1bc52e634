"""One folder per run, the newest linked as ``latest``: a second run never overwrites the first.

``new_run_dir(parent)`` makes ``<parent>/<UTC timestamp>`` (``-2``, ``-3`` ... when two runs
start in the same second); ``link_latest`` points ``<parent>/latest`` at it, as a symlink, or
where symlinks fail (some Windows and network file systems) as ``latest.txt`` holding the
folder name. ``latest_run_dir`` reads either.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

LATEST = "latest"
LATEST_POINTER = "latest.txt"


def new_run_dir(parent: str | Path, now: datetime | None = None) -> Path:
    """Create and return a fresh run folder under ``parent``."""
    root = Path(parent)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free run folder name under {root} for {stamp}")


def link_latest(run_dir: Path) -> Path:
    """Point ``<parent>/latest`` at ``run_dir`` (symlink, else ``latest.txt``); return it."""
    parent = run_dir.parent
    link = parent / LATEST
    pointer = parent / LATEST_POINTER
    pointer.write_text(run_dir.name + "\n", encoding="utf-8")
    try:
        tmp = parent / f".{LATEST}.{os.getpid()}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)  # atomic: readers see the old or the new run, never none
        return link
    except OSError:
        return pointer


def latest_run_dir(parent: str | Path) -> Path | None:
    """The newest run folder under ``parent``, or None when no run finished there."""
    root = Path(parent)
    if (root / LATEST).is_dir():
        return (root / LATEST).resolve()
    if (root / LATEST_POINTER).is_file():
        name = (root / LATEST_POINTER).read_text(encoding="utf-8").strip()
        return root / name if name and (root / name).is_dir() else None
    return None


__all__ = ["LATEST", "LATEST_POINTER", "latest_run_dir", "link_latest", "new_run_dir"]
