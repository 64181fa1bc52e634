"""CLI of the serving package: ``cxchurn serve`` and ``cxchurn online materialize``."""

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
from cxchurn.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "serving.api.service:ChurnService"

online_app = typer.Typer(no_args_is_help=True, help="The online feature store the API reads.")


def register_top_level(root: typer.Typer) -> None:
    """Attach ``cxchurn serve`` and the ``cxchurn online`` group."""
    root.command("serve")(serve_command)
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
        features = latest_features(tables.customers, tables.events, at, spec_set, label)
    written = write_store(features, target, {"cutoff": at.isoformat(),
                                             "spec_version": spec_version(spec_set),
                                             "source": str(customers)})
    console.print(f"{len(features):,} customers x {len(spec_set)} features at "
                  f"{at.isoformat()} -> {written}")
    console.print("a running service picks it up on POST /reload")
