"""CLI commands of the training package (``cxchurn train``, ``cxchurn evaluate``).

The commands are thin: they turn options into a ``TrainConfig`` and call
``training.job.run_training`` / ``run_evaluation``, the same functions the MLproject entry
points (``cxchurn train ...``) and the demo call. Help text is written once, here, and the
defaults are read from ``TrainConfig`` so they cannot drift. ``cxchurn/cli.py`` attaches the
commands (``register_top_level``); this module does not import the CLI.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from cxchurn import paths
from cxchurn.errors import ConfigError
from cxchurn.settings import Settings

FeaturesDir = Annotated[
    Path | None,
    typer.Option("--features", help="Feature build folder (examples.parquet + "
                 "feature_spec.json); default <CXCHURN_HOME>/features."),
]
OutDir = Annotated[
    Path | None,
    typer.Option("--out", help="Folder for run files and plots; default "
                 "<CXCHURN_HOME>/reports/<command>."),
]
ModelName = Annotated[str, typer.Option(help="Registered model name.")]
TrainModelName = Annotated[str | None, typer.Option(
    "--model-name", help="Registered model name; default 'cxchurn' for a feature build, "
    "'cxchurn-<file name>' for --table.")]
CategoricalCols = Annotated[list[str] | None, typer.Option(
    "--categorical", help="--table: treat this column as categories (repeatable).")]
NumericCols = Annotated[list[str] | None, typer.Option(
    "--numeric", help="--table: read this column as numbers; text in it becomes missing, "
    "counted in the summary (repeatable).")]
DateCols = Annotated[list[str] | None, typer.Option(
    "--date", help="--table: read this column as ISO dates -> age in days (repeatable).")]
DropCols = Annotated[list[str] | None, typer.Option(
    "--drop", help="--table: leave this column out (repeatable).")]


def _calibration(value: str) -> str | None:
    allowed = ("auto", "isotonic", "sigmoid", "none")
    if value not in allowed:
        raise ConfigError(f"--calibration must be one of {allowed}, got {value!r}")
    return None if value == "none" else value


def train_command(
    features: FeaturesDir = None,
    world: Annotated[
        str | None,
        typer.Option(help="Simulated world folder: adds the true-probability 'truth' row to "
                     "the metrics (omit, or pass '', for real data)."),
    ] = None,
    out: OutDir = None,
    events: Annotated[Path | None, typer.Option(
        help="The events file the features were built from, for the BG/NBD baseline; default "
        "the one the feature build recorded (give it when that file has moved).")] = None,
    horizon_days: Annotated[int | None, typer.Option(help="Label horizon in days.")] = None,
    n_valid_cutoffs: Annotated[int | None, typer.Option(
        help="Cutoffs before the test fold used for early stopping and calibration.")] = None,
    n_test_cutoffs: Annotated[int | None, typer.Option(
        help="Newest cutoffs held out for testing.")] = None,
    calibration: Annotated[str | None, typer.Option(
        help="auto (kept only if it lowers cross-fitted validation log loss), isotonic, "
        "sigmoid or none.")] = None,
    monotone: Annotated[bool | None, typer.Option(
        help="Apply the feature specs' monotone direction hints.")] = None,
    tune_trials: Annotated[int | None, typer.Option(
        help="Optuna trials (0 = no tuning).")] = None,
    leak_threshold: Annotated[float | None, typer.Option(
        help="Suspected leak: a column whose single-column AUC reaches this (default 0.90) "
        "is dropped; in event mode only the customer table's pass-through columns.")] = None,
    keep_feature: Annotated[list[str] | None, typer.Option(
        help="Keep this suspected leak on purpose; the run's headline then says it includes "
        "one (repeatable).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse to train when the leakage guard suspects a column (instead "
        "of dropping it).")] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    horizons: Annotated[str | None, typer.Option(
        help="Horizons in days of the churn-over-time model trained beside the main one from "
        "the world's events (with --world), e.g. 30,60,90 (the default); 'none' skips it.")
    ] = None,
    n_estimators: Annotated[int | None, typer.Option(
        help="Maximum boosting rounds (early stopping picks fewer).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="LightGBM learning rate.")] = None,
    plots: Annotated[bool | None, typer.Option(
        help="Write the evaluation and SHAP plots (and log them).")] = None,
    model_name: TrainModelName = None,
    register: Annotated[bool, typer.Option(
        help="Register the model and run the champion/challenger promotion.")] = True,
    force_promote: Annotated[bool, typer.Option(
        help="Make this model champion even if it does not beat its best baseline or the "
        "current champion (recorded in the run and on the model version).")] = False,
    table: Annotated[Path | None, typer.Option(
        help="Snapshot mode: a one-row-per-customer table (.csv, .xlsx, .parquet) with a churn "
        "column, instead of a feature build.")] = None,
    id_column: Annotated[str | None, typer.Option(
        "--id", help="--table: the customer id column, filled and unique (default: row "
        "numbers; identifier-like columns are left out of the features either way).")] = None,
    label: Annotated[str | None, typer.Option(
        help="--table: the churn column.")] = None,
    positive: Annotated[str | None, typer.Option(
        help="--table: the label value that means churn (default: yes/true/1).")] = None,
    negative: Annotated[list[str] | None, typer.Option(
        help="--table: a label value that means 'stayed' (repeatable); needed when the label "
        "has more than two values, e.g. --positive 1 --negative 0 --negative 2.")] = None,
    test_table: Annotated[Path | None, typer.Option(
        help="--table: a test file the data ships (its own split) instead of k-fold CV.")
    ] = None,
    categorical: CategoricalCols = None,
    numeric: NumericCols = None,
    date: DateCols = None,
    drop: DropCols = None,
    as_of: Annotated[str | None, typer.Option(
        help="--table: date at which date columns become ages (default: the latest date).")
    ] = None,
    folds: Annotated[int, typer.Option(help="--table: cross-validation folds.")] = 5,
    cv: Annotated[bool, typer.Option(help="--table: run the k-fold estimate.")] = True,
) -> None:
    """Train on a feature build (or a customer table), log to MLflow, register, promote.

    The new model becomes `champion` only if its test ROC-AUC beats its best baseline and the
    current champion's on the same held-out rows; otherwise it stays `challenger`
    (--force-promote overrides). Columns the leakage guard suspects are dropped
    (--keep-feature NAME keeps one, --strict refuses to train). Options left out take the
    defaults of TrainConfig (training/train.py), defined once there.

    Snapshot mode (--table FILE --label COL [--id COL] [--positive VALUE [--negative VALUE]]):
    each run writes to its own folder under --out (newest linked as `latest`); column types are
    inferred and printed; override with --categorical/--numeric/--date/--drop COL
    (repeatable). The estimate is stratified k-fold CV with a fixed seed (or --test-table).
    """
    if table is not None and events is not None:
        raise ConfigError("--events feeds the BG/NBD baseline of a feature build (event "
                          "mode); a --table has no event log: leave --events out")
    if table is not None:
        _train_table(table, id_column, label, positive, tuple(negative or ()), test_table,
                     categorical, numeric, date, drop, as_of, folds, cv, seed, leak_threshold,
                     keep_feature, plots, out, model_name, register, force_promote, strict)
        return
    from training.job import run_training
    from training.train import TrainConfig

    given: dict[str, Any] = {
        "horizon_days": horizon_days, "n_valid_cutoffs": n_valid_cutoffs,
        "n_test_cutoffs": n_test_cutoffs, "monotone": monotone, "tune_trials": tune_trials,
        "leak_threshold": leak_threshold, "seed": seed, "n_estimators": n_estimators,
        "learning_rate": learning_rate, "write_plots": plots,
        "keep_features": tuple(keep_feature) if keep_feature else None,
        "strict_leakage": strict or None,
        "calibration": _calibration(calibration) if calibration is not None else None,
    }
    if horizons is not None:
        from training.horizons import parse_horizons

        given["horizons"] = () if horizons.strip().lower() in ("", "none") else parse_horizons(
            horizons)
    config = TrainConfig(**{k: v for k, v in given.items() if v is not None},
                         contact_columns=Settings.from_env().contact_columns)
    if calibration == "none":
        config = dataclasses.replace(config, calibration=None)
    summary = run_training(
        features or paths.features_dir(), Path(world) if world else None, config, out,
        model_name=model_name or "cxchurn", register=register, force_promote=force_promote,
        events_path=events,
    )
    for line in summary.lines():
        typer.echo(line)


def _train_table(table: Path, id_column: str | None, label: str | None, positive: str | None,
                 negative: tuple[str, ...], test_table: Path | None, categorical: list[str] | None,
                 numeric: list[str] | None, date: list[str] | None, drop: list[str] | None,
                 as_of: str | None, folds: int, cv: bool, seed: int | None,
                 leak_threshold: float | None, keep_feature: list[str] | None,
                 plots: bool | None, out: Path | None, model_name: str | None, register: bool,
                 force_promote: bool, strict: bool = False) -> None:
    """``cxchurn train --table``: snapshot mode (training/snapshot.py)."""
    from training.snapshot import SnapshotConfig
    from training.snapshot_job import run_snapshot_training

    if not label:
        raise ConfigError("--table needs --label COL: the column that says who churned")
    given: dict[str, Any] = {"seed": seed, "leak_threshold": leak_threshold, "write_plots": plots}
    config = SnapshotConfig(
        label=label, id_column=id_column, positive=positive, negative=negative,
        categorical=tuple(categorical or ()), numeric=tuple(numeric or ()),
        date=tuple(date or ()), drop=tuple(drop or ()), as_of=as_of, n_folds=folds,
        cross_validate=cv, keep_features=tuple(keep_feature or ()), strict_leakage=strict,
        **{k: v for k, v in given.items() if v is not None},
    )
    summary = run_snapshot_training(table, config, out, test_table=test_table,
                                    model_name=model_name, register=register,
                                    force_promote=force_promote)
    for line in summary.lines():
        typer.echo(line)


def evaluate_command(
    features: FeaturesDir = None,
    model_uri: Annotated[str | None, typer.Option(
        help="Model to evaluate, e.g. models:/cxchurn/3; default the champion.")] = None,
    out: OutDir = None,
    n_cutoffs: Annotated[int, typer.Option(help="Evaluate on this many newest cutoffs.")] = 1,
    model_name: ModelName = "cxchurn",
) -> None:
    """Evaluate a registered model (the champion by default) on the newest cutoffs.

    Prints the metrics, writes the plots and records an MLflow evaluation run.
    """
    from training.job import run_evaluation

    summary = run_evaluation(features or paths.features_dir(), model_uri or None, out,
                             n_cutoffs=n_cutoffs, model_name=model_name)
    for line in summary.lines():
        typer.echo(line)


def train_event_log(features: Path, horizon_days: int, out: Path, model_name: str
                    ) -> list[str]:
    """``cxchurn features adapt ... --train``: train on an adapted event log's feature build.

    ``training.refit.run_event_log_training``: selection on the purged cutoffs, refit on every
    cutoff labelled before the test one; returns the summary lines.
    """
    from training.refit import run_event_log_training
    from training.train import TrainConfig

    summary = run_event_log_training(features, TrainConfig(horizon_days=horizon_days), out,
                                     model_name=model_name)
    return summary.lines()


def register_top_level(root: typer.Typer) -> None:
    """Attach top-level commands owned by this package."""
    root.command("train")(train_command)
    root.command("evaluate")(evaluate_command)

