"""The training and evaluation jobs: one function each, shared by CLI, MLproject and demo.

``run_training`` loads a feature build, trains (``training.train``), logs the run to MLflow,
registers the model and lets the registry decide whether it becomes ``champion``.
``run_evaluation`` scores a registered model (the champion by default) on the newest cutoffs
of a feature build and logs that as an evaluation run. Both return a small summary whose
``lines()`` say where to look (MLflow UI command, plot files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models.model import ModelInfo

from cxchurn import paths
from cxchurn.errors import ConfigError, DataContractError, NotFoundError
from features.schema import CUTOFF
from features.spec import load_specs
from training import registry
from training.build_events import BuildEvents, baseline_events, build_events
from training.dataset import load_examples
from training.evaluate import MAIN_MODEL
from training.horizon_job import HorizonResult, train_horizons
from training.horizons import attach
from training.pyfunc import load_churn_model, log_churn_model
from training.report import RunReport, evaluate_on_test
from training.tracking import (
    DEFAULT_EXPERIMENT,
    data_fingerprint,
    flat_metrics,
    log_training_run,
    setup_tracking,
    ui_command,
)
from training.train import TrainConfig, TrainResult, train_churn_model

log = logging.getLogger(__name__)


def start_tracking(experiment: str, register: bool) -> str:
    """The experiment id; with ``register``, fail before training if the registry is unusable."""
    experiment_id = setup_tracking(experiment)
    if register:
        registry.client()
    return experiment_id


def log_and_promote(report: RunReport, model_name: str, register: bool, *, force: bool = False,
                    min_improvement: float = 0.0
                    ) -> tuple[ModelInfo, str | None, registry.PromotionDecision | None]:
    """Log the model in the active run; when registering, promote it if it beats the champion.

    The champion and the new model are judged on the new model's test rows (identical rows).
    Before that, the promotion gate: a model that does not beat its best baseline on the test
    fold stays a challenger (``force`` overrides, and the run records it).
    Returns (model info, registered version or None, promotion decision or None).
    """
    info = log_churn_model(report.model, report.rows,
                           registered_model_name=model_name if register else None)
    if not register:
        return info, None, None
    version = str(info.registered_model_version)
    decision = registry.compare_and_promote(
        model_name, version, report.p_churn, report.rows, report.labels,
        min_improvement=min_improvement, force=force,
        baseline_check=(report.beats_baselines, report.baseline_verdict()))
    if decision.forced:
        log.warning("promotion forced (--force-promote): %s", decision.reason)
    elif not decision.promoted:
        log.warning("kept as challenger: %s", decision.reason)
    return info, version, decision


def registry_lines(model_name: str, version: str | None,
                   decision: registry.PromotionDecision | None) -> list[str]:
    """What the run registered and whether it became the champion, for the CLI."""
    out = [f"registered: {model_name} v{version}"] if version is not None else []
    if decision is not None:
        verdict = "promoted to champion" if decision.promoted else "kept as challenger"
        out.append(f"promotion: {verdict}: {decision.reason}")
    return out


@dataclass
class RunSummary:
    """What a training run produced and where to find it."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    model_uri: str
    model_name: str
    model_version: str | None
    decision: registry.PromotionDecision | None
    report: RunReport = field(repr=False)
    out_dir: Path
    fingerprint: dict[str, Any]
    summary_text: str = ""

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Model name -> test metrics (the model, its baselines, the truth when known)."""
        return self.report.metrics

    def lines(self) -> list[str]:
        """Human-readable report for the CLI and the demo."""
        out = [self.summary_text] if self.summary_text else []
        out.append(f"data fingerprint: {self.fingerprint['fingerprint']} "
                   f"({self.fingerprint['n_rows']} rows x {self.fingerprint['n_columns']} cols)")
        out.append(f"MLflow run: {self.run_id} (experiment {self.experiment_id})")
        out.extend(registry_lines(self.model_name, self.model_version, self.decision))
        out.append(f"run files: {self.out_dir}")
        plots = self.report.plots
        if plots:
            out.append(f"plots: {Path(next(iter(plots.values()))).parent}")
            out.extend(f"  {name}: {path}" for name, path in plots.items())
        out.append(f"browse runs and the registry: {ui_command(self.tracking_uri)}")
        return out


@dataclass
class EvalSummary:
    """An evaluation of a registered model on a feature build's newest cutoffs."""

    run_id: str
    model_uri: str
    cutoffs: list[str]
    report: RunReport = field(repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        """The model's figures on the evaluated rows (undefined ones left out)."""
        return {k: float(v) for k, v in self.report.metrics[MAIN_MODEL].items()
                if np.isfinite(v)}

    def lines(self) -> list[str]:
        out = [f"model: {self.model_uri}", f"cutoffs: {', '.join(self.cutoffs)}"]
        out.extend(f"  {k:<20} {v:.4f}" for k, v in self.metrics.items())
        if self.report.intervals:
            out.append(self.report.interval_line())
        out.extend(f"WARNING: {w}" for w in self.warnings)
        if self.report.plots:
            out.append(f"plots: {Path(next(iter(self.report.plots.values()))).parent}")
        if self.run_id:
            out.append(f"MLflow run: {self.run_id}; browse: {ui_command()}")
        return out


def build_specs(features_dir: Path) -> Any:
    """The feature spec set of the build (for monotone hints), or None if not recorded."""
    spec_file = features_dir / "feature_spec.json"
    if not spec_file.exists():
        return None
    return load_specs(spec_file)


def _truth(world_dir: Path | None) -> pd.DataFrame | None:
    if world_dir is None:
        return None
    path = Path(world_dir) / "truth_churn.parquet"
    if not path.exists():
        raise NotFoundError(
            f"expected the simulator's truth at {path}, found no such file; pass the world "
            "folder written by `cxchurn simulate`, or omit --world for real data"
        )
    return pd.read_parquet(path)


def run_training(
    features_dir: str | Path,
    world_dir: str | Path | None = None,
    config: TrainConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    model_name: str = registry.DEFAULT_MODEL_NAME,
    experiment: str = DEFAULT_EXPERIMENT,
    register: bool = True,
    force_promote: bool = False,
    min_improvement: float = 0.0,
    events_path: str | Path | None = None,
) -> RunSummary:
    """Train on a feature build, log everything to MLflow, register and maybe promote.

    The promotion compares the current champion and the new model on the new model's test
    fold (the newest out-of-time cutoff), so the two are judged on identical rows. The BG/NBD
    baseline is fitted on the events the build records (``events_path`` overrides).
    """
    config = config or TrainConfig()
    features_dir = Path(features_dir)
    out = Path(out_dir) if out_dir is not None else paths.reports_dir() / "train"
    experiment_id = start_tracking(experiment, register)
    examples = load_examples(features_dir)
    truth = _truth(Path(world_dir) if world_dir else None)
    every = build_events(features_dir, world_dir, events_path)
    events = baseline_events(features_dir, world_dir, events_path, read=every)
    result = train_churn_model(
        examples, build_specs(features_dir), config, out,
        truth=truth, events=events.orders,
    )
    if events.note:
        result.notes.append(events.note)
    horizon = horizon_step(result, config, features_dir, every, truth, out,
                           dict(examples.attrs))
    return record_training_run(
        result, config, examples, features_dir=features_dir, experiment_id=experiment_id,
        tags={"run_type": "train", "cxchurn.model_name": model_name}, out_dir=out,
        model_name=model_name, register=register, force_promote=force_promote,
        min_improvement=min_improvement, horizon=horizon,
    )


def horizon_step(result: TrainResult, config: TrainConfig, features_dir: Path,
                 events: BuildEvents, truth: pd.DataFrame | None, out: Path,
                 attrs: dict[str, Any]) -> HorizonResult | None:
    """Train the multi-horizon model beside the 30-day one and attach it, so it is logged,
    registered and served with it; None when no horizons are asked for, or when the build's
    events cannot be found (the run's summary then says why)."""
    if not config.horizons:
        return None
    if events.source is None:
        if events.note:
            result.notes.append(events.note)
        return None
    try:
        horizon = train_horizons(
            features_dir, events.source, config.horizons, result.model.feature_names_,
            dict(result.params), truth=truth, n_valid_cutoffs=config.n_valid_cutoffs,
            n_resamples=config.bootstrap_resamples, seed=config.seed, out_dir=out,
            attrs=attrs)
    except (ConfigError, DataContractError) as err:  # e.g. a history too short for 90 days
        note = f"horizon model skipped: {err}"
        log.warning(note)
        result.notes.append(note)
        return None
    attach(result.model, horizon.model)
    return horizon


def record_training_run(
    result: TrainResult,
    config: TrainConfig,
    examples: pd.DataFrame,
    *,
    features_dir: Path,
    experiment_id: str,
    tags: dict[str, str],
    out_dir: Path,
    model_name: str,
    register: bool,
    force_promote: bool = False,
    min_improvement: float = 0.0,
    horizon: HorizonResult | None = None,
) -> RunSummary:
    """Log a finished training run to MLflow, register its model and maybe promote it.

    ``horizon`` (already attached to the model) adds its figures and ``horizons.json``."""
    report = result.report
    # Under `mlflow run` MLFLOW_RUN_ID is set and start_run resumes the project's run (and
    # ignores its arguments), so tags are set explicitly inside.
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags(tags)
        fp = log_training_run(report, config=config, examples=examples,
                              split=result.split.describe(), leakage=result.leakage,
                              features_dir=features_dir)
        if horizon is not None:
            mlflow.log_metrics(horizon.evaluation.metrics())
            mlflow.log_dict(horizon.to_dict(), "horizons/horizons.json")
            mlflow.set_tag("cxchurn.horizons", ",".join(map(str, horizon.model.horizons)))
        info, version, decision = log_and_promote(
            report, model_name, register, force=force_promote, min_improvement=min_improvement)
    return RunSummary(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        tracking_uri=mlflow.get_tracking_uri(),
        model_uri=info.model_uri,
        model_name=model_name,
        model_version=version,
        decision=decision,
        report=report,
        out_dir=out_dir,
        fingerprint=fp,
        summary_text="\n".join([result.summary(), *(horizon.lines() if horizon else [])]),
    )


def run_evaluation(
    features_dir: str | Path,
    model_uri: str | None = None,
    out_dir: str | Path | None = None,
    *,
    n_cutoffs: int = 1,
    budget_share: float = 0.1,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str = registry.DEFAULT_MODEL_NAME,
    segment_columns: tuple[str, ...] = TrainConfig.segment_columns,
    log_run: bool = True,
) -> EvalSummary:
    """Score a registered model on the newest ``n_cutoffs`` of a build; log metrics and plots.

    Defaults to the champion. Warns (loudly, and in the run) when the evaluated cutoffs are
    ones the model was trained or early-stopped on: such figures flatter the model.
    Metrics by segment for ``segment_columns`` (by default the training config's).
    ``log_run=False`` only reads (the review notebook): no evaluation run is recorded.
    """
    if n_cutoffs < 1:
        raise ConfigError(f"n_cutoffs must be >= 1, got {n_cutoffs}")
    experiment_id = setup_tracking(experiment)
    uri = model_uri or registry.champion_uri(model_name)
    examples = load_examples(features_dir)
    cutoffs = sorted(pd.unique(examples[CUTOFF]))[-n_cutoffs:]
    rows = examples[examples[CUTOFF].isin(cutoffs)].reset_index(drop=True)
    try:
        model = load_churn_model(uri)
    except Exception as err:
        raise NotFoundError(
            f"could not load model {uri!r} from {mlflow.get_tracking_uri()}: "
            f"{str(err)[:300]}; train one first (`cxchurn train`) or pass --model-uri"
        ) from err
    labels = [pd.Timestamp(c).date().isoformat() for c in cutoffs]
    warnings = _seen_cutoff_warnings(uri, labels)
    for w in warnings:
        log.warning(w)
    out = Path(out_dir) if out_dir is not None else paths.reports_dir() / "evaluate"
    report = evaluate_on_test(model, rows, uncalibrated=False, segment_columns=segment_columns,
                              budget_share=budget_share, plots_dir=out / "plots")
    summary = EvalSummary(run_id="", model_uri=uri, cutoffs=labels, report=report,
                          warnings=warnings)
    if not log_run:
        return summary
    tags = {"run_type": "evaluate", "evaluated_model": uri,
            "evaluated_cutoffs": ",".join(labels)}
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags(tags)
        # Prefixed: under `mlflow run` the project already logged its own `model_uri` etc.
        mlflow.log_params({"eval.model_uri": uri, "eval.n_cutoffs": n_cutoffs,
                           "eval.budget_share": budget_share})
        mlflow.set_tag("data.fingerprint", data_fingerprint(rows)["fingerprint"])
        mlflow.log_metrics(flat_metrics(report.metrics))
        mlflow.log_metrics({f"test_{k}": v for k, v in report.interval_figures().items()
                            if np.isfinite(v)})
        for path in report.plots.values():
            mlflow.log_artifact(str(path), artifact_path="plots")
        if warnings:
            mlflow.set_tag("warning", " | ".join(warnings)[:4000])
    summary.run_id = run.info.run_id
    return summary


def _seen_cutoff_warnings(model_uri: str, cutoffs: list[str]) -> list[str]:
    """Cutoffs the model's training run used for training or early stopping, if known."""
    try:
        info = mlflow.models.get_model_info(model_uri)
        split = mlflow.artifacts.load_dict(f"runs:/{info.run_id}/data/split.json")
    except Exception:  # the model may come from elsewhere: no split record, no warning
        return []
    seen = set(split.get("train", {}).get("cutoffs", [])) | set(
        split.get("valid", {}).get("cutoffs", [])
    )
    overlap = sorted(seen & set(cutoffs))
    if not overlap:
        return []
    return [f"cutoff(s) {overlap} were used to train or early-stop this model; these metrics "
            "are optimistic — evaluate on a newer feature build"]
