"""``cxchurn simulate``: write a synthetic CX world to a folder (streamed, any size)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from cxchurn import paths
from features.simulate import SimConfig, simulate_to_folder


def simulate_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="World folder [default: $CXCHURN_HOME/world]."),
    ] = None,
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed and size, same world.")] = 7,
    activity: Annotated[
        float, typer.Option(help="Scales sessions and email opens (events per customer).")
    ] = 1.0,
    pilot_share: Annotated[
        float,
        typer.Option(
            help="Randomised retention pilot: share of eligible customers given one random "
            "action at each cutoff (0-1). The actions really change those customers and are "
            "written to actions.parquet, so uplift can be learned from outcomes. 0 = no pilot."
        ),
    ] = 0.0,
    shock: Annotated[
        str | None,
        typer.Option(
            help="Start a crisis on a date, e.g. delivery:2025-04-01 (late deliveries triple), "
            "support:DATE (tickets double and take twice as long) or price:DATE (every price "
            "rises about 12%); it lasts to the end of the world. Default: no shock."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="Customers held in memory at a time (data do not depend on it).")
    ] = 20_000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulate a seeded CX world (customers, events, pilot actions, true churn and effects)."""
    folder = out if out is not None else paths.world_dir()
    config = SimConfig(
        n_customers=customers, seed=seed, activity=activity, pilot_share=pilot_share,
        shock=shock,
    )
    began = time.perf_counter()
    summary = simulate_to_folder(config, folder, chunk_size=chunk_size, progress=progress)
    seconds = time.perf_counter() - began
    keys = ("n_customers", "n_events", "n_pilot_actions", "churn_rate", "truth_auc")
    brief = {k: summary[k] for k in keys}
    typer.echo(f"wrote {folder} in {seconds:.1f}s: {json.dumps(brief)}")
