"""CLI commands of the features package (``cxchurn features ...`` and ``cxchurn simulate``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from cxchurn import paths
from cxchurn.errors import ConfigError
from features.labels import LabelConfig, cutoff_dates, parse_cutoffs
from features.load_commands import validate_command

app = typer.Typer(no_args_is_help=True)
app.command("validate")(validate_command)


def register_top_level(root: typer.Typer) -> None:
    """Attach top-level commands owned by this package (e.g. ``cxchurn simulate``)."""
    from features.sim_commands import simulate_command

    root.command("simulate")(simulate_command)


def _world_defaults(world: Path) -> dict:
    meta = world / "world.json"
    if not meta.exists():
        raise ConfigError(f"--world {str(world)!r} has no world.json; expected a folder written "
                          f"by `cxchurn simulate`.")
    return json.loads(meta.read_text(encoding="utf-8"))


def _dates(cutoffs: str | None, start: str | None, end: str | None, every: str,
           world: dict) -> list[pd.Timestamp]:
    if cutoffs:
        return parse_cutoffs(cutoffs)
    if start or end:
        if not (start and end):
            raise ConfigError("give both --start and --end (or --cutoffs); got only one.")
        freqs = {"month": "MS", "week": "W-MON", "day": "D"}
        if every not in freqs:
            raise ConfigError(f"--every must be one of {sorted(freqs)}; got {every!r}.")
        return cutoff_dates(start, end, freqs[every])
    if world.get("cutoffs"):
        return parse_cutoffs(",".join(world["cutoffs"]))
    raise ConfigError("no cutoffs: give --cutoffs 2025-01-01,2025-02-01, or --start/--end, "
                      "or --world with a world.json.")


@app.command("build")
def build_command(
    out: Annotated[Path | None, typer.Option(help="Output folder; default <CXCHURN_HOME>/features.")
                   ] = None,
    world: Annotated[Path | None, typer.Option(
        help="A world folder (customers/events parquet + world.json for cutoffs/horizon).")] = None,
    customers: Annotated[Path | None, typer.Option(help="Customers file (.csv or .parquet).")
                         ] = None,
    events: Annotated[Path | None, typer.Option(help="Events file (.csv or .parquet).")] = None,
    actions: Annotated[Path | None, typer.Option(help="Optional actions file (validated).")
                       ] = None,
    cutoffs: Annotated[str | None, typer.Option(help="Comma-separated cutoff dates (UTC).")
                       ] = None,
    start: Annotated[str | None, typer.Option(help="First cutoff date.")] = None,
    end: Annotated[str | None, typer.Option(help="Last cutoff date (inclusive).")] = None,
    every: Annotated[str, typer.Option(help="Cutoff spacing with --start/--end: month, week "
                                            "or day.")] = "month",
    horizon_days: Annotated[int | None, typer.Option(
        help="Label horizon in days; default the world's, else 30.")] = None,
    label: Annotated[str, typer.Option(help="contractual or non_contractual.")] = "contractual",
    active_within_days: Annotated[int, typer.Option(
        help="Non-contractual eligibility: active within this many days before the cutoff.")
    ] = 90,
    specs: Annotated[Path | None, typer.Option(help="Feature spec file (JSON/YAML); default: "
                                                    "the built-in set.")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (one machine) or spark (the same SQL on "
                                             "Apache Spark; writes partitioned Parquet).")
                      ] = "duckdb",
    master: Annotated[str, typer.Option(help="Spark master URL with --engine spark.")
                      ] = "local[*]",
) -> None:
    """Build the point-in-time feature table, labels and training examples as Parquet."""
    from features.default_specs import DEFAULT_SPECS
    from features.load import load_tables
    from features.pipeline import build_examples, write_outputs
    from features.spec import load_specs

    console = Console(stderr=True)
    meta = _world_defaults(world) if world else {}
    customers = customers or (world / "customers.parquet" if world else None)
    events = events or (world / "events.parquet" if world else None)
    if customers is None or events is None:
        raise ConfigError("give --customers and --events (or --world DIR).")
    dates = _dates(cutoffs, start, end, every, meta)
    data_end = pd.Timestamp(meta["end"], tz="UTC") if meta.get("end") else None
    config = LabelConfig(kind=label, horizon_days=horizon_days or meta.get("horizon_days", 30),
                         active_within_days=active_within_days, data_end=data_end)
    spec_set = load_specs(specs) if specs else DEFAULT_SPECS
    out_dir = out or paths.features_dir()
    if engine != "duckdb":
        if actions is not None:  # never silently ignored
            raise ConfigError(
                "--actions is not read by --engine spark (actions do not enter the features); "
                "check the file with `cxchurn features validate` (its --actions option) and "
                "build without it.")
        from features.spark_build import build_command_spark

        build_command_spark(engine, master, customers, events, dates, config, spec_set, out_dir,
                            console)
        return
    with console.status("loading and validating input files"):
        tables = load_tables(customers, events, actions, quarantine_dir=out_dir / "quarantine")
    for result in tables.results:
        console.print(result.summary())
    with console.status(f"building {len(spec_set)} features and {config.kind} labels at "
                        f"{len(dates)} cutoffs"):
        features, labels = build_examples(tables.customers, tables.events, dates, config,
                                          spec_set)
    written = write_outputs(features, labels, spec_set, out_dir, config)
    console.print(f"{len(features):,} rows x {len(spec_set)} features, churn rate "
                  f"{labels['churned'].mean():.3f} -> {written['examples'].parent}")
