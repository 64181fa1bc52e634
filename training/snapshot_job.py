"""The snapshot training job: train on a customer table, log to MLflow, register, promote.

The MLflow half of snapshot mode (``training.snapshot`` is the pure half), mirroring
``training.job.run_training``: same tracking store and experiment, same run record (params,
data fingerprint, metrics of model and baselines, SHAP, plots, leakage report), plus the
type plan and the cross-validation folds. The model is registered under its own name
(``cxchurn-<table>`` by default) so a table's champion never competes with the event-log one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from cxchurn import paths
from features.schema import LABEL
from training import registry
from training.pyfunc import log_churn_model
from training.snapshot import (
    SnapshotConfig,
    SnapshotResult,
    read_table,
    train_snapshot,
)
from training.tracking import (
    DEFAULT_EXPERIMENT,
    log_training_run,
    setup_tracking,
    ui_command,
)


def default_model_name(table: str | Path) -> str:
    """``cxchurn-<file stem>``, lower case, safe characters only."""
    stem = Path(table).name.split(".")[0].lower()
    return "cxchurn-" + (re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "table")


@dataclass
class SnapshotSummary:
    """Where a snapshot run went, and its figures."""

    result: SnapshotResult
    run_id: str
    model_name: str
    model_version: str | None
    decision: registry.PromotionDecision | None
    out_dir: Path
    tracking_uri: str

    def lines(self) -> list[str]:
        out = [self.result.plan.summary(), "", self.result.summary(),
               f"MLflow run: {self.run_id}"]
        if self.model_version is not None:
            out.append(f"registered: {self.model_name} v{self.model_version}")
        if self.decision is not None:
            verdict = "promoted to champion" if self.decision.promoted else "kept as challenger"
            out.append(f"promotion: {verdict}: {self.decision.reason}")
        out.append(f"run files: {self.out_dir}")
        out.append(f"browse runs and the registry: {ui_command(self.tracking_uri)}")
        return out


def run_snapshot_training(
    table: str | Path,
    config: SnapshotConfig,
    out_dir: str | Path | None = None,
    *,
    test_table: str | Path | None = None,
    model_name: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    register: bool = True,
    force_promote: bool = False,
) -> SnapshotSummary:
    """Read, type, estimate, train, explain; log the run; register and maybe promote."""
    name = model_name or default_model_name(table)
    out = Path(out_dir) if out_dir is not None else paths.reports_dir() / f"train-{name}"
    experiment_id = setup_tracking(experiment)
    if register:
        registry.client()  # fail before training if the registry is unusable
    raw = read_table(table)
    test_raw = read_table(test_table) if test_table is not None else None
    result = train_snapshot(raw, config, out, test_raw)
    s = result.split
    examples = pd.concat([s.train, s.valid, s.test], ignore_index=True)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"run_type": "train", "cxchurn.model_name": name,
                         "cxchurn.mode": "snapshot", "data.table": Path(table).name,
                         "protocol": result.protocol[:500]})
        log_training_run(result, config=config, examples=examples)
        mlflow.log_dict(result.plan.to_dict(), "data/type_plan.json")
        if result.cv is not None:
            mlflow.log_metrics({f"cv.{model}.{k}": v
                                for model, values in result.estimate().items()
                                for k, v in values.items() if math.isfinite(v)})
            mlflow.log_text(result.cv.folds.to_csv(index=False), "metrics/cv_folds.csv")
        info = log_churn_model(result.model, result.split.test,
                               registered_model_name=name if register else None)
        decision = version = None
        if register:
            version = str(info.registered_model_version)
            decision = registry.compare_and_promote(
                name, version, result.test_frame["p_churn"].to_numpy(), result.split.test,
                result.split.test[LABEL].to_numpy(), force=force_promote,
            )
    return SnapshotSummary(result=result, run_id=run.info.run_id, model_name=name,
                           model_version=version, decision=decision, out_dir=out,
                           tracking_uri=mlflow.get_tracking_uri())


__all__ = ["SnapshotConfig", "SnapshotSummary", "default_model_name", "run_snapshot_training"]
