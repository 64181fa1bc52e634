"""CLI commands of the training package (``cxchurn train``, ``cxchurn evaluate``).

The commands are thin: they turn options into a ``TrainConfig`` and call
``training.job.run_training`` / ``run_evaluation``, the same functions the MLproject entry
points (``python -m training.commands train ...``) and the demo call. Help text is written
once, here, and the defaults are read from ``TrainConfig`` so they cannot drift.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from cxchurn import paths
from cxchurn.errors import ConfigError

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train and evaluate the churn model (MLproject entry points).")

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


def _calibration(value: str) -> str | None:
    allowed = ("isotonic", "sigmoid", "none")
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
    horizon_days: Annotated[int | None, typer.Option(help="Label horizon in days.")] = None,
    n_valid_cutoffs: Annotated[int | None, typer.Option(
        help="Cutoffs before the test fold used for early stopping and calibration.")] = None,
    n_test_cutoffs: Annotated[int | None, typer.Option(
        help="Newest cutoffs held out for testing.")] = None,
    calibration: Annotated[str | None, typer.Option(help="isotonic, sigmoid or none.")] = None,
    monotone: Annotated[bool | None, typer.Option(
        help="Apply the feature specs' monotone direction hints.")] = None,
    tune_trials: Annotated[int | None, typer.Option(
        help="Optuna trials (0 = no tuning).")] = None,
    leak_threshold: Annotated[float | None, typer.Option(
        help="Drop features whose single-feature AUC reaches this.")] = None,
    keep_feature: Annotated[list[str] | None, typer.Option(
        help="Keep this feature even if the leakage guard flags it (repeatable).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    n_estimators: Annotated[int | None, typer.Option(
        help="Maximum boosting rounds (early stopping picks fewer).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="LightGBM learning rate.")] = None,
    plots: Annotated[bool | None, typer.Option(
        help="Write the evaluation and SHAP plots (and log them).")] = None,
    model_name: ModelName = "cxchurn",
    register: Annotated[bool, typer.Option(
        help="Register the model and run the champion/challenger promotion.")] = True,
    force_promote: Annotated[bool, typer.Option(
        help="Make this model champion even if it does not beat the current one.")] = False,
) -> None:
    """Train on a feature build, log to MLflow, register, and promote if better.

    The new model becomes `champion` only if its test ROC-AUC beats the current champion's on
    the same out-of-time rows; otherwise it stays `challenger`. Options left out take the
    defaults of TrainConfig (training/train.py), defined once there.
    """
    from training.job import run_training
    from training.train import TrainConfig

    given = {
        "horizon_days": horizon_days, "n_valid_cutoffs": n_valid_cutoffs,
        "n_test_cutoffs": n_test_cutoffs, "monotone": monotone, "tune_trials": tune_trials,
        "leak_threshold": leak_threshold, "seed": seed, "n_estimators": n_estimators,
        "learning_rate": learning_rate, "write_plots": plots,
        "keep_features": tuple(keep_feature) if keep_feature else None,
        "calibration": _calibration(calibration) if calibration is not None else None,
    }
    config = TrainConfig(**{k: v for k, v in given.items() if v is not None})
    if calibration == "none":
        config = dataclasses.replace(config, calibration=None)
    summary = run_training(
        features or paths.features_dir(), Path(world) if world else None, config, out,
        model_name=model_name, register=register, force_promote=force_promote,
    )
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


app.command("train")(train_command)
app.command("evaluate")(evaluate_command)


def register_top_level(root: typer.Typer) -> None:
    """Attach top-level commands owned by this package."""
    root.command("train")(train_command)
    root.command("evaluate")(evaluate_command)


def main() -> None:
    """``python -m training.commands``: the MLproject entry points, with clean user errors."""
    from cxchurn.cli import run  # late: cxchurn.cli imports this module

    run(app)


if __name__ == "__main__":
    main()
