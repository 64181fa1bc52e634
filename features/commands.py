"""CLI commands of the features package (``cxchurn features ...`` and ``cxchurn simulate``)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from cxchurn import paths
from cxchurn.errors import ConfigError, DataContractError
from cxchurn.settings import Settings
from features.labels import LabelConfig, cutoff_dates, parse_cutoffs, split_by_data_end
from features.load_commands import DateFormat, MaxQuarantined, validate_command
from features.quarantine import DEFAULT_MAX_QUARANTINED

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
    data_end: Annotated[str | None, typer.Option(
        help="End of the observed data (ISO date or time, UTC; a date means its midnight): a "
        "cutoff whose label window [cutoff, cutoff + horizon) passes it has no label. "
        "Default: the world's end, else the last event time.")] = None,
    score_only: Annotated[bool, typer.Option(
        help="Build features (no labels) for cutoffs whose label window passes the data's "
        "end, instead of refusing them; they are left out of examples.parquet.")] = False,
    max_quarantined: MaxQuarantined = DEFAULT_MAX_QUARANTINED,
    date_format: DateFormat = None,
) -> None:
    """Build the point-in-time feature table, labels and training examples as Parquet.

    Every build knows where the data stops (--data-end, else the last event): cutoffs whose
    label window runs past it are refused, or with --score-only get features without labels.
    """
    from features.build_sources import BuildSources
    from features.default_specs import DEFAULT_SPECS
    from features.load import load_tables
    from features.pipeline import build_examples, write_outputs
    from features.quarantine import check_quarantine
    from features.spec import load_specs

    console = Console(stderr=True)
    meta = _world_defaults(world) if world else {}
    customers = customers or (world / "customers.parquet" if world else None)
    events = events or (world / "events.parquet" if world else None)
    if customers is None or events is None:
        raise ConfigError("give --customers and --events (or --world DIR).")
    dates = _dates(cutoffs, start, end, every, meta)
    end = _end_option(data_end) if data_end else (
        pd.Timestamp(meta["end"], tz="UTC") if meta.get("end") else None)
    config = LabelConfig(kind=label, horizon_days=horizon_days or meta.get("horizon_days", 30),
                         active_within_days=active_within_days, data_end=end)
    spec_set = load_specs(specs) if specs else DEFAULT_SPECS
    out_dir = out or paths.features_dir()
    if engine != "duckdb":
        if actions is not None:  # never silently ignored
            raise ConfigError(
                "--actions is not read by --engine spark (actions do not enter the features); "
                "check the file with `cxchurn features validate` (its --actions option) and "
                "build without it.")
        if score_only or date_format:
            raise ConfigError("--score-only and --date-format are not supported by --engine "
                              "spark; build with --engine duckdb, or (for --date-format) "
                              "write the time columns as ISO 8601.")
        if config.data_end is None:
            config = replace(config, data_end=_last_event_time(events))
        from features.spark_build import build_command_spark

        build_command_spark(engine, master, customers, events, dates, config, spec_set, out_dir,
                            console)
        return
    with console.status("loading and validating input files"):
        tables = load_tables(customers, events, actions, quarantine_dir=out_dir / "quarantine",
                             date_format=date_format)
    for result in tables.results:
        console.print(result.summary())
    check_quarantine(tables.results, max_quarantined)
    if config.data_end is None:
        config = replace(config, data_end=_observed_end(tables.events, events))
    complete, late = split_by_data_end(dates, config)
    console.print(f"data end {pd.Timestamp(config.data_end).isoformat()}: {len(complete)} "
                  f"cutoff(s) with a complete {config.horizon_days}-day label window"
                  + (f", {len(late)} scored only (no label): {[str(d.date()) for d in late]}"
                     if late and score_only else ""))
    with console.status(f"building {len(spec_set)} features and {config.kind} labels at "
                        f"{len(dates)} cutoffs"):
        features, labels = build_examples(tables.customers, tables.events, dates, config,
                                          spec_set, score_only=score_only,
                                          contact_names=Settings.from_env().contact_columns)
    written = write_outputs(features, labels, spec_set, out_dir, config,
                            BuildSources.of(customers, events, date_format))
    rate = f"{labels['churned'].mean():.3f}" if len(labels) else "n/a (no labelled rows)"
    console.print(f"{len(features):,} rows x {len(spec_set)} features, {len(labels):,} "
                  f"labelled, churn rate {rate} -> {written['examples'].parent}")


def _end_option(text: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except ValueError as err:
        raise ConfigError(f"--data-end {text!r} is not an ISO date or time; expected e.g. "
                          "2025-06-30 or 2025-06-30T23:59:59.") from err
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _observed_end(events: pd.DataFrame, path: Path) -> pd.Timestamp:
    """The last accepted event time: where the observed data stops."""
    if events.empty:
        raise DataContractError(f"events file '{path}' has no accepted rows, so there is "
                                "nothing to build from; run `cxchurn features validate` to "
                                "see why rows were quarantined.")
    return pd.Timestamp(events["event_time"].max())


def _last_event_time(path: Path) -> pd.Timestamp:
    """The last event time of an events file, read by DuckDB without loading the table."""
    import duckdb

    from features import pit

    name = path.name.lower()
    parquet = path.is_dir() or name.endswith((".parquet", ".pq"))
    source = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    reader = "read_parquet($p)" if parquet else "read_csv($p, all_varchar = true)"
    try:
        row = pit.connect().execute(
            f"SELECT CAST(max(TRY_CAST(event_time AS TIMESTAMPTZ)) AS VARCHAR) FROM {reader}",
            {"p": source}).fetchone()
    except duckdb.Error as err:
        raise DataContractError(f"events file '{path}' could not be read to find the last "
                                f"event time ({err}); pass --data-end DATE.") from err
    if row is None or row[0] is None:
        raise DataContractError(f"events file '{path}' holds no readable event_time; check it "
                                "with `cxchurn features validate`, or pass --data-end DATE.")
    return _end_option(str(pd.Timestamp(row[0])))
