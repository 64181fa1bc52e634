"""A simulated world folder made once and reused: benchmarks measure what comes after it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from features.simulate import SimConfig, simulate_to_folder


def cached_world(folder: Path, config: SimConfig, say: Callable[[str], None] = print
                 ) -> dict[str, Any]:
    """The world's ``world.json`` (config and summary), simulating it into ``folder`` only when
    the folder holds no world or one made with a different config."""
    folder = Path(folder)
    meta_path = folder / "world.json"
    if meta_path.exists() and (folder / "events.parquet").exists():
        meta = json.loads(meta_path.read_text())
        if SimConfig.from_json(meta) == config:
            say(f"reusing world at {folder}")
            return meta
    say(f"simulating {config.n_customers:,} customers (activity {config.activity}) into "
        f"{folder}; one-off, reused by later runs")
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    simulate_to_folder(config, folder, progress=False)
    say(f"simulated in {time.perf_counter() - began:.0f}s")
    return json.loads(meta_path.read_text())
