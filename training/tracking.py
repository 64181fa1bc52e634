"""MLflow tracking: where runs go, and what one training run records.

A run records what is needed to reproduce and to judge it: the parameters, a fingerprint of
the exact examples it learned from, the feature spec, test metrics for the model and its
baselines, the plots, the SHAP artifacts and (via ``training.pyfunc``) the model itself.
The tracking store is configured when a command runs, never at import: a SQLite file in the
working folder unless ``MLFLOW_TRACKING_URI`` says otherwise, with artifacts beside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from cxchurn import paths
from cxchurn.errors import RegistryUnavailableError
from cxchurn.settings import Settings
from features.schema import CUSTOMER_ID, CUTOFF
from training.dataset import load_feature_spec
from training.evaluate import MAIN_MODEL
from training.leakage import LeakageReport
from training.model import ChurnModel
from training.report import RunReport, jsonable_dict

DEFAULT_EXPERIMENT = "cxchurn"


def setup_tracking(experiment: str = DEFAULT_EXPERIMENT, root: Path | None = None) -> str:
    """Point MLflow at the project's store and experiment; return the experiment id.

    With the default local SQLite store every experiment's artifacts go to
    ``<working folder>/mlartifacts`` (not ``./mlruns`` of whatever folder a command runs in),
    MLflow's ``Default`` experiment included. Under ``mlflow run`` (``MLFLOW_RUN_ID`` set) the
    project run's experiment is used.
    """
    settings = Settings.from_env()
    uri = paths.tracking_uri(root, settings)
    mlflow.set_tracking_uri(uri)
    try:
        _init_local_store(uri, _artifact_root(uri, settings, root))
        project_run = os.environ.get("MLFLOW_RUN_ID")
        if project_run:
            # Inside `mlflow run`: log into the project's run and its experiment (choose it
            # with `mlflow run --experiment-name cxchurn`); a different one is refused.
            exp_id = mlflow.get_run(project_run).info.experiment_id
            mlflow.set_experiment(experiment_id=exp_id)
            return exp_id
        found = mlflow.get_experiment_by_name(experiment)
        if found is not None:
            mlflow.set_experiment(experiment_id=found.experiment_id)
            return found.experiment_id
        location = _artifact_root(uri, settings, root)
        exp_id = mlflow.create_experiment(experiment, artifact_location=location)
        mlflow.set_experiment(experiment_id=exp_id)
        return exp_id
    except (MlflowException, OSError) as err:
        raise RegistryUnavailableError(
            f"the MLflow tracking store at {uri!r} is unavailable ({type(err).__name__}: "
            f"{str(err)[:200]}); set MLFLOW_TRACKING_URI to a reachable store or unset it "
            "to use the local SQLite file in the working folder"
        ) from err


DATABASE_SCHEMES = ("postgresql", "mysql", "mssql")


def _artifact_root(uri: str, settings: Settings | None = None, root: Path | None = None
                   ) -> str | None:
    """Where a new experiment's artifacts go, as a URI; None lets the tracking server decide.

    A local SQLite store keeps them beside the database (``<store folder>/mlartifacts``). A
    database server (PostgreSQL, MySQL, SQL Server) holds only the runs' records: the
    artifacts go to ``CXCHURN_ARTIFACT_ROOT`` (a folder or a URI such as ``s3://bucket/x``,
    which every machine that trains or serves must reach), else ``<CXCHURN_HOME>/mlartifacts``
    (``root`` when given), rather than MLflow's ``./mlruns`` of whatever folder a command runs
    in. An ``http(s)`` tracking server has its own ``--default-artifact-root``.
    """
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        return (db.parent / "mlartifacts").resolve().as_uri()
    if uri.split(":", 1)[0].split("+", 1)[0] not in DATABASE_SCHEMES:
        return None
    settings = settings or Settings.from_env()
    configured = settings.artifact_root
    if configured and "://" in configured:
        return configured
    folder = Path(configured) if configured else Path(root or settings.home) / "mlartifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve().as_uri()


def _init_local_store(uri: str, root_uri: str | None) -> None:
    """Create a new store with its default artifact root (``_artifact_root``).

    MLflow would create it on first use with ``./mlruns`` of the current working folder as
    the root, so its ``Default`` experiment would write artifacts into whatever folder a
    command or test happens to run in. (Experiments made with ``mlflow.set_experiment(name)``
    still get MLflow's root: create them with ``setup_tracking(name)`` instead.) A SQLite
    file is created once; a database server's tables are created (or checked) on each call,
    as MLflow's own client would.
    """
    if root_uri is None:
        return
    if uri.startswith("sqlite:///") and Path(uri.removeprefix("sqlite:///")).exists():
        return
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    SqlAlchemyStore(uri, root_uri).engine.dispose()


def ui_command(uri: str | None = None) -> str:
    """The command a user runs to browse the runs and the registry."""
    uri = uri or mlflow.get_tracking_uri()
    if uri.startswith(("http://", "https://", "databricks")):
        return f"open {uri}"
    return f"mlflow ui --backend-store-uri {uri}"


def data_fingerprint(examples: pd.DataFrame) -> dict[str, Any]:
    """A stable hash of the examples plus their shape: same data -> same fingerprint.

    Row and column order do not matter (rows are sorted by customer and cutoff, columns by
    name) so that two builds of the same data compare equal; any changed value, added row or
    renamed column changes the hash.
    """
    cols = sorted(map(str, examples.columns))
    frame = examples[cols]
    keys = [c for c in (CUSTOMER_ID, CUTOFF) if c in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256()
    digest.update(json.dumps([[c, str(frame[c].dtype)] for c in cols]).encode())
    digest.update(np.ascontiguousarray(row_hashes).tobytes())
    out: dict[str, Any] = {
        "fingerprint": digest.hexdigest()[:16],
        "n_rows": len(examples),
        "n_columns": len(cols),
    }
    if CUTOFF in examples.columns and len(examples):
        cutoffs = pd.to_datetime(examples[CUTOFF])
        out.update(
            n_cutoffs=int(cutoffs.nunique()),
            first_cutoff=cutoffs.min().date().isoformat(),
            last_cutoff=cutoffs.max().date().isoformat(),
        )
    return out


def flat_params(config: object, model: ChurnModel) -> dict[str, str]:
    """Run parameters: the training config (a dataclass) plus the fitted model's
    hyper-parameters, as strings."""
    params: dict[str, Any] = {}
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        params.update({f"config.{k}": v for k, v in dataclasses.asdict(config).items()})
    params.update({f"model.{k}": v for k, v in model.get_params().items()})
    params["model.best_iteration"] = model.best_iteration_
    params["model.n_features"] = len(model.feature_names_)
    params["model.spec_version"] = model.spec_version_
    calibration = getattr(model, "calibration_report_", None)  # None: calibration=None
    if calibration is not None:
        params.update(calibration.params())
    return {k: _param_text(v) for k, v in params.items()}


def _param_text(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, default=str, sort_keys=isinstance(value, Mapping))
    else:
        text = str(value)
    return text if len(text) <= 6000 else text[:5990] + "...(cut)"


def flat_metrics(metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{model: {metric: v}}`` -> ``test_<metric>`` for LightGBM and ``<model>.test_<metric>``.

    The main model's numbers get the short names the MLflow UI compares across runs; the
    baselines and the simulator's truth sit beside them. NaN/inf values are skipped.
    """
    out: dict[str, float] = {}
    for model_name, values in metrics.items():
        for metric, value in values.items():
            if value is None or not np.isfinite(float(value)):
                continue
            out[f"{model_name}.test_{metric}"] = float(value)
            if model_name == MAIN_MODEL:
                out[f"test_{metric}"] = float(value)
    return out


def log_training_run(
    report: RunReport,
    *,
    config: object,
    examples: pd.DataFrame,
    split: Mapping[str, object] | None = None,
    leakage: LeakageReport | None = None,
    features_dir: Path | None = None,
    feature_spec: Any = None,
) -> dict[str, Any]:
    """Log one run's ``RunReport`` into the active run (everything except the model itself).

    ``split`` is the split's description (rows, churn rate, cutoffs per part) and ``leakage``
    the leakage guard's verdict, both recorded when given. ``feature_spec`` is the build's
    spec document; by default it is read from ``features_dir``. It travels beside the
    examples, not in ``examples.attrs``, because pandas deep-copies attrs on every operation
    (that cost a third of a training run). Returns the data fingerprint that was logged.
    """
    if mlflow.active_run() is None:
        raise RuntimeError("log_training_run needs an active MLflow run (mlflow.start_run())")
    model = report.model
    leakage = report.leakage or leakage
    fp = data_fingerprint(examples)
    mlflow.log_params(flat_params(config, model))
    mlflow.set_tags(
        {
            "data.fingerprint": fp["fingerprint"],
            "data.n_rows": str(fp["n_rows"]),
            "data.n_columns": str(fp["n_columns"]),
            "spec_version": str(model.spec_version_),
            "beats_baselines": str(report.beats_baselines),
            "cxchurn.baseline_verdict": report.baseline_verdict()[:4000],
            **(_leakage_tags(leakage) if leakage is not None else {}),
            **({"data.features_dir": str(features_dir)} if features_dir else {}),
        }
    )
    mlflow.log_dict(fp, "data/fingerprint.json")
    if split is not None:
        mlflow.log_dict(dict(split), "data/split.json")
    if feature_spec is None and features_dir is not None:
        feature_spec = load_feature_spec(features_dir)
    if feature_spec is not None:
        mlflow.log_dict(feature_spec, "feature_spec.json")
    mlflow.log_metrics(flat_metrics(report.metrics))
    mlflow.log_metrics({f"test_{k}": v for k, v in report.interval_figures().items()
                        if np.isfinite(v)})
    calibration = getattr(model, "calibration_report_", None)
    if calibration is not None:  # cross-fitted validation figures of every candidate
        mlflow.log_metrics(calibration.metrics())
        mlflow.log_dict(calibration.to_dict(), "metrics/calibration.json")
    mlflow.log_dict(jsonable_dict(report.metrics), "metrics/test_metrics.json")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        _log_frame(report.segment_metrics, tmp_path, "metrics", "segments")
        _log_frame(report.global_importance, tmp_path, "shap", "importance")
        shap_frame = pd.DataFrame(np.asarray(report.shap_values), columns=model.feature_names_)
        _log_frame(shap_frame, tmp_path, "shap", "test_shap_values", parquet=True)
        # Scores without customer ids: run artifacts are shared more widely than the data.
        predictions = report.test_frame.drop(columns=[CUSTOMER_ID], errors="ignore")
        _log_frame(predictions, tmp_path, "predictions", "test", parquet=True)
    if leakage is not None:
        mlflow.log_dict(jsonable_dict(leakage.to_dict()), "leakage.json")
    for plot in report.plots.values():
        if Path(plot).exists():
            mlflow.log_artifact(str(plot), artifact_path="plots")
    return fp


def _leakage_tags(leakage: LeakageReport) -> dict[str, str]:
    """The guard's verdict as tags, searchable in the MLflow UI (comma-separated names)."""
    def names(items: Mapping[str, object]) -> str:
        return ",".join(items)[:4000] or "none"

    return {
        "cxchurn.suspected_leaks": names(leakage.flagged),
        "cxchurn.includes_suspected_leak": names(leakage.kept_on_request),
        "cxchurn.dominant_features": names(leakage.dominant),
        "cxchurn.leak_threshold": str(leakage.threshold),
    }


def _log_frame(
    frame: pd.DataFrame, tmp: Path, artifact_path: str, stem: str, parquet: bool = False
) -> None:
    if frame.empty:
        return
    path = tmp / f"{stem}.{'parquet' if parquet else 'csv'}"
    if parquet:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    mlflow.log_artifact(str(path), artifact_path=artifact_path)
