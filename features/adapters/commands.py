"""``cxchurn features adapt <data set>``: map a public transaction log into the events contract.

Writes ``customers.parquet``, ``events.parquet`` and ``dataset.json`` (label, cutoffs and the
out-of-time protocol), then prints the command that builds features at every cutoff; with
``--train`` it also builds them and trains (``training.refit``: selection on the purged
cutoffs, refit on every cutoff labelled before the test one), logs, explains and registers
``cxchurn-<data set>`` in MLflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxchurn.errors import ConfigError
from features.adapters import registry
from features.adapters.base import AdaptedLog

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Map a public transaction log into customers + events files.")


@app.command("online-retail")
def online_retail_command(
    data: Annotated[Path, typer.Option(help="Folder holding onlineretail.csv.gz.")] = (
        registry.DEFAULT_DATA_ROOT / "online_retail"),
    out: Annotated[Path, typer.Option(help="Output folder for customers/events/dataset.json.")
                   ] = Path("output/online_retail"),
    train: Annotated[bool, typer.Option(
        help="Also build features at every cutoff and train/register the model.")] = False,
) -> None:
    """UCI Online Retail: invoices -> order events, C-invoices -> return events; 90-day label."""
    adapt_dataset("online_retail", data, out, train)


def adapt_dataset(name: str, data: Path, out: Path, train: bool = False) -> None:
    dataset = registry.get(name)
    if not isinstance(dataset, registry.LogDataset):
        raise ConfigError(f"{name} is a customer table, not an event log: train on it with "
                          "`cxchurn train --table FILE --label COL`")
    adapted = dataset.adapt_folder(data)
    written = adapted.write(out)
    for key, value in adapted.report.items():
        typer.echo(f"  {key:<36} {value}")
    cutoffs = ",".join(c.date().isoformat() for c in adapted.cutoffs)
    features = out / "features"
    typer.echo(f"wrote {written['customers']}, {written['events']}, {written['dataset']}")
    typer.echo(f"protocol: {adapted.protocol()}")
    if train:
        _build_and_train(adapted, features, out / "train", dataset.model_name())
        return
    typer.echo("next (features at every cutoff; the training protocol picks its folds):")
    typer.echo(f"  cxchurn features build --customers {written['customers']} --events "
               f"{written['events']} --cutoffs {cutoffs} --label {adapted.label.kind} "
               f"--horizon-days {adapted.label.horizon_days} --active-within-days "
               f"{adapted.label.active_within_days} --out {features}")
    typer.echo(f"or build and train in one go: cxchurn features adapt {name.replace('_', '-')} "
               f"--data {data} --out {out} --train")


def _build_and_train(adapted: AdaptedLog, features: Path, train_out: Path,
                     model_name: str) -> None:
    from features.default_specs import DEFAULT_SPECS
    from features.pipeline import build_examples, write_outputs
    from training.refit import run_event_log_training
    from training.train import TrainConfig

    feats, labels = build_examples(adapted.customers, adapted.events, list(adapted.cutoffs),
                                   adapted.label, DEFAULT_SPECS)
    write_outputs(feats, labels, DEFAULT_SPECS, features, adapted.label)
    typer.echo(f"features: {len(labels)} labelled rows at {len(adapted.cutoffs)} cutoffs -> "
               f"{features}")
    summary = run_event_log_training(
        features, TrainConfig(horizon_days=adapted.label.horizon_days), train_out,
        model_name=model_name)
    for line in summary.lines():
        typer.echo(line)
