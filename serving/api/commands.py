"""CLI of the serving package: ``cxchurn serve``, ``cxchurn score`` and ``cxchurn online
materialize``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from cxchurn import paths
from cxchurn.errors import ConfigError, CxChurnError
from cxchurn.settings import Settings
from features.schema import CUSTOMER_ID

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "serving.api.service:ChurnService"

online_app = typer.Typer(no_args_is_help=True, help="The online feature store the API reads.")


def register_top_level(root: typer.Typer) -> None:
    """Attach ``cxchurn serve`` and the ``cxchurn online`` group."""
    root.command("serve")(serve_command)
    root.command("score")(score_command)
    root.add_typer(online_app, name="online")


def serve_command(
    port: Annotated[int, typer.Option(help="TCP port.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 for all).")
                    ] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(
        help="Registered model whose champion is served; default $CXCHURN_MODEL_NAME or "
             "'cxchurn'.")] = None,
    store: Annotated[Path | None, typer.Option(
        help="Online store file; default <CXCHURN_HOME>/online/online_store.duckdb.")] = None,
) -> None:
    """Start the scoring API (BentoML) on the champion model and the online store."""
    from serving.api.runtime import MODEL_NAME_ENV, STORE_ENV

    env = dict(os.environ)
    env.setdefault("BENTOML_DO_NOT_TRACK", "true")
    env["CXCHURN_HOME"] = str(paths.home())
    if model_name:
        env[MODEL_NAME_ENV] = model_name
    if store:
        env[STORE_ENV] = str(store.resolve())
    name = env.get(MODEL_NAME_ENV, "cxchurn")
    console = Console(stderr=True)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    console.print(f"serving {name}@champion from {paths.tracking_uri()}")
    console.print(f"online store: {store or paths.home() / 'online' / 'online_store.duckdb'}")
    # The retention page is mounted at / (over BentoML's Swagger index); BentoML still serves
    # the scoring API's OpenAPI at /docs.json and FastAPI the retention API's Swagger at /docs.
    console.print(f"retention page: {url}/  (scoring API OpenAPI at {url}/docs.json, retention "
                  f"API Swagger UI at {url}/docs; try curl {url}/metadata)")
    if env.get("CXCHURN_API_KEY"):
        console.print("API key required: send 'Authorization: Bearer $CXCHURN_API_KEY'")
    cmd = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host,
           "--port", str(port)]
    try:
        code = subprocess.call(cmd, cwd=PROJECT_ROOT, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def _load_model(name: str) -> object:
    """The champion of registered model ``name`` (or a ``models:/`` / run URI as given)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training.pyfunc import load_churn_model
    from training.registry import champion_uri

    mlflow.set_tracking_uri(paths.tracking_uri())
    uri = name if ":/" in name else champion_uri(name)
    try:
        return load_churn_model(uri)
    except (MlflowException, OSError) as err:
        raise ConfigError(
            f"--model {name!r}: no model at {uri} in {paths.tracking_uri()} ({err}); train one "
            "first (cxchurn train --table FILE registers cxchurn-<file name>), or give the name "
            "the training command printed ('registered: NAME vN')") from err


def score_command(
    model: Annotated[str, typer.Option(
        help="Registered model name (its champion is used), or a models:/ URI.")],
    out: Annotated[Path, typer.Option(help="Output file: .csv, .parquet or .xlsx.")],
    table: Annotated[Path | None, typer.Option(
        help="Customer table (one row per customer; .csv, .xlsx, .parquet) for a model trained "
             "with --table.")] = None,
    customers: Annotated[Path | None, typer.Option(
        help="Customers file, with --events, for a model trained on an event log.")] = None,
    events: Annotated[Path | None, typer.Option(help="Events file, with --customers.")] = None,
    cutoff: Annotated[str | None, typer.Option(
        help="Event log only: score as of this instant (UTC); default midnight after the "
             "latest event.")] = None,
    label: Annotated[str, typer.Option(
        help="Event log only: who is still a customer: contractual or non_contractual.")
    ] = "contractual",
    specs: Annotated[Path | None, typer.Option(
        help="Event log only: the feature spec file the model was trained with; default "
             "built-in.")] = None,
    top: Annotated[int, typer.Option(help="Drivers (reasons) per customer.")] = 3,
) -> None:
    """Score a new customer table or event log with a registered model: P(churn), risk band and
    the top reasons per customer, written to CSV, Parquet or Excel."""
    try:
        _score(model, out, table, customers, events, cutoff, label, specs, top)
    except CxChurnError as err:  # exit code 2 here too when the app is invoked directly
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from err


def _score(model_name: str, out: Path, table: Path | None, customers: Path | None,
           events: Path | None, cutoff: str | None, label: str, specs: Path | None,
           top: int) -> None:
    from serving import batch_score as bs

    if (table is None) == (customers is None and events is None) or (
            table is None and (customers is None or events is None)):
        raise ConfigError("give --table FILE (a customer table), or --customers FILE and "
                          "--events FILE (an event log), not both")
    bs.check_out_path(out)
    console = Console(stderr=True)
    model = _load_model(model_name)
    plan = bs.model_plan(model)
    if table is not None:
        if plan is None:
            raise ConfigError(f"model {model_name!r} carries no table type plan: it was trained "
                              "on an event log (score it with --customers FILE --events FILE) "
                              "or on a table before models stored their plan (retrain it with "
                              "cxchurn train --table FILE)")
        from training.snapshot import read_table

        X, ids = bs.table_features(read_table(table), plan, table.name)
        scores = bs.score_frame(model, X, ids, top)
        console.print(f"scored {len(scores):,} rows of {table} with {model_name}")
    else:
        assert customers is not None and events is not None  # checked above
        if plan is not None:
            raise ConfigError(f"model {model_name!r} was trained on a customer table; score "
                              "it with --table FILE")
        from features.spec import load_specs

        spec_set = load_specs(specs) if specs else None
        rows, at = bs.event_features(model, customers, events, bs.as_utc(cutoff), spec_set,
                                     label, out.parent / "quarantine")
        scores = bs.score_frame(model, rows, rows[CUSTOMER_ID].tolist(), top)
        console.print(f"scored {len(scores):,} customers eligible at {at.isoformat()} "
                      f"with {model_name}")
    written = bs.write_scores(scores, out)
    console.print(f"risk bands: {bs.band_counts(scores)} -> {written}")


@online_app.command("materialize")
def materialize_command(
    world: Annotated[Path | None, typer.Option(
        help="A world folder (customers.parquet + events.parquet).")] = None,
    customers: Annotated[Path | None, typer.Option(help="Customers file (.csv/.parquet).")
                         ] = None,
    events: Annotated[Path | None, typer.Option(help="Events file (.csv/.parquet).")] = None,
    cutoff: Annotated[str | None, typer.Option(
        help="Compute features as of this instant (UTC); default: midnight after the "
             "latest event.")] = None,
    table: Annotated[Path | None, typer.Option(
        help="Instead: store this ready feature snapshot (customer_id + features) as is.")
    ] = None,
    label: Annotated[str, typer.Option(
        help="Who is still a customer: contractual (not cancelled) or non_contractual.")
    ] = "contractual",
    specs: Annotated[Path | None, typer.Option(help="Feature spec file; default built-in.")
                     ] = None,
    out: Annotated[Path | None, typer.Option(help="Store file; default <CXCHURN_HOME>/online/"
                                                  "online_store.duckdb.")] = None,
) -> None:
    """Write every customer's latest feature vector to the online store (same feature code)."""
    from serving.api.online_store import (
        default_cutoff,
        latest_features,
        store_path,
        store_table,
        write_store,
    )

    console = Console(stderr=True)
    target = out or store_path(paths.home())
    if table is not None:
        written = store_table(table, target)
        console.print(f"stored {table} as the online store -> {written}")
        return
    from features.default_specs import DEFAULT_SPECS
    from features.load import load_tables
    from features.spec import load_specs, spec_version

    customers = customers or (world / "customers.parquet" if world else None)
    events = events or (world / "events.parquet" if world else None)
    if customers is None or events is None:
        raise ConfigError("give --world DIR, or --customers and --events (or --table FILE)")
    spec_set = load_specs(specs) if specs else DEFAULT_SPECS
    with console.status("loading and validating input files"):
        tables = load_tables(customers, events, None,
                             quarantine_dir=target.parent / "quarantine")
    at = (pd.Timestamp(cutoff, tz="UTC") if cutoff and pd.Timestamp(cutoff).tzinfo is None
          else pd.Timestamp(cutoff) if cutoff else default_cutoff(tables.events))
    with console.status(f"computing {len(spec_set)} features at {at.isoformat()}"):
        features = latest_features(tables.customers, tables.events, at, spec_set, label,
                                   Settings.from_env().contact_columns)
    # customers/events/label: the history a live update of a row starts from
    # (serving/live/sources.py)
    written = write_store(features, target, {"cutoff": at.isoformat(),
                                             "spec_version": spec_version(spec_set),
                                             "source": str(customers),
                                             "customers": str(Path(customers).resolve()),
                                             "events": str(Path(events).resolve()),
                                             "label": label})
    console.print(f"{len(features):,} customers x {len(spec_set)} features at "
                  f"{at.isoformat()} -> {written}")
    console.print("a running service picks it up on POST /reload")
