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
from training import registry
from training.job import log_and_promote, registry_lines, start_tracking
from training.run_dirs import link_latest, new_run_dir
from training.snapshot import (
    SnapshotConfig,
    SnapshotResult,
    read_table,
    train_snapshot,
)
from training.tracking import (
    DEFAULT_EXPERIMENT,
    log_training_run,
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
        out.extend(registry_lines(self.model_name, self.model_version, self.decision))
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
    """Read, type, estimate, train, explain; log the run; register and maybe promote.

    The run's files go to a new folder ``<out_dir>/<UTC timestamp>`` (default ``out_dir``:
    ``<CXCHURN_HOME>/reports/train-<model name>``), linked as ``latest`` once the run is logged.
    """
    name = model_name or default_model_name(table)
    parent = Path(out_dir) if out_dir is not None else paths.reports_dir() / f"train-{name}"
    experiment_id = start_tracking(experiment, register)
    raw = read_table(table)
    test_raw = read_table(test_table) if test_table is not None else None
    out = new_run_dir(parent)
    result = train_snapshot(raw, config, out, test_raw)
    s = result.split
    examples = pd.concat([s.train, s.valid, s.test], ignore_index=True)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"run_type": "train", "cxchurn.model_name": name,
                         "cxchurn.mode": "snapshot", "data.table": Path(table).name,
                         "protocol": result.protocol[:500]})
        log_training_run(result.report, config=config, examples=examples,
                         split=result.split.describe(), leakage=result.leakage)
        mlflow.log_dict(result.plan.to_dict(), "data/type_plan.json")
        if result.cv is not None:
            mlflow.log_metrics({f"cv.{model}.{k}": v
                                for model, values in result.estimate().items()
                                for k, v in values.items() if math.isfinite(v)})
            mlflow.log_text(result.cv.folds.to_csv(index=False), "metrics/cv_folds.csv")
        _, version, decision = log_and_promote(result.report, name, register,
                                               force=force_promote)
    link_latest(out)
    return SnapshotSummary(result=result, run_id=run.info.run_id, model_name=name,
                           model_version=version, decision=decision, out_dir=out,
                           tracking_uri=mlflow.get_tracking_uri())


__all__ = ["SnapshotConfig", "SnapshotSummary", "default_model_name", "run_snapshot_training"]
