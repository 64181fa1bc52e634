"""``cxchurn features adapt <data set>``: map a public transaction log into the events contract.

Writes ``customers.parquet``, ``events.parquet`` and ``dataset.json`` (label, cutoffs and the
out-of-time protocol), then prints the command that builds features at every cutoff; with
``--train`` it also builds them and hands the build to ``train_after`` (the CLI passes
``training.commands.train_event_log``: selection on the purged cutoffs, refit on every cutoff
labelled before the test one, registered as ``cxchurn-<data set>``). The training step is
passed in because features sit below training and never import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from cxchurn.errors import ConfigError
from features.adapters import registry
from features.adapters.base import AdaptedLog
from features.build_sources import BuildSources

# (feature build folder, label horizon in days, output folder, model name) -> summary lines
TrainAfter = Callable[[Path, int, Path, str], Iterable[str]]


def make_app(train_after: TrainAfter | None = None) -> typer.Typer:
    """The ``adapt`` commands; ``--train`` trains with ``train_after`` (None: not offered)."""
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                      help="Map a public transaction log into customers + events files.")

    @app.command("online-retail")
    def online_retail_command(
        data: Annotated[Path, typer.Option(help="Folder holding onlineretail.csv.gz.")] = (
            registry.DEFAULT_DATA_ROOT / "online_retail"),
        out: Annotated[Path, typer.Option(
            help="Output folder for customers/events/dataset.json.")] = Path(
                "output/online_retail"),
        train: Annotated[bool, typer.Option(
            help="Also build features at every cutoff and train/register the model.")] = False,
    ) -> None:
        """UCI Online Retail: invoices -> order events, C-invoices -> return events; 90-day
        label."""
        if train and train_after is None:
            raise ConfigError("--train is offered by the `cxchurn` command only; run "
                              "`cxchurn features adapt online-retail --train`")
        adapt_dataset("online_retail", data, out, train_after if train else None)

    return app


def adapt_dataset(name: str, data: Path, out: Path, train_after: TrainAfter | None = None
                  ) -> None:
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
    if train_after is not None:
        _build_and_train(adapted, features, out / "train", dataset.model_name(), train_after,
                         BuildSources.of(written["customers"], written["events"]))
        return
    typer.echo("next (features at every cutoff; the training protocol picks its folds):")
    typer.echo(f"  cxchurn features build --customers {written['customers']} --events "
               f"{written['events']} --cutoffs {cutoffs} --label {adapted.label.kind} "
               f"--horizon-days {adapted.label.horizon_days} --active-within-days "
               f"{adapted.label.active_within_days} --out {features}")
    typer.echo(f"or build and train in one go: cxchurn features adapt {name.replace('_', '-')} "
               f"--data {data} --out {out} --train")


def _build_and_train(adapted: AdaptedLog, features: Path, train_out: Path, model_name: str,
                     train_after: TrainAfter, sources: BuildSources) -> None:
    from features.default_specs import DEFAULT_SPECS
    from features.pipeline import build_examples, write_outputs

    feats, labels = build_examples(adapted.customers, adapted.events, list(adapted.cutoffs),
                                   adapted.label, DEFAULT_SPECS)
    write_outputs(feats, labels, DEFAULT_SPECS, features, adapted.label, sources)
    typer.echo(f"features: {len(labels)} labelled rows at {len(adapted.cutoffs)} cutoffs -> "
               f"{features}")
    for line in train_after(features, adapted.label.horizon_days, train_out, model_name):
        typer.echo(line)
