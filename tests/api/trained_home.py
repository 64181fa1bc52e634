"""A CXCHURN_HOME with a small trained champion and a materialised online store, for tests.

Shared by ``tests/api`` and ``tests/browser``: train once per session on the default world's
examples (few trees, no plots, so it takes seconds), register and promote the model in the
home's own SQLite registry, then materialise every customer's latest features. Use::

    from tests.api.trained_home import build_trained_home
    info = build_trained_home(tmp_dir / "home", world, examples)
    with start_service(info.home) as svc: ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.default_specs import DEFAULT_SPECS
from features.spec import dump_specs

SMALL_MODEL = {"n_estimators": 80, "learning_rate": 0.1, "early_stopping_rounds": 20}


def world_examples(world: Any) -> pd.DataFrame:
    """Labelled examples of a simulated world at its cutoffs, carrying the built-in spec
    version as a training run from disk does (the benchmarks train on them)."""
    from features.labels import LabelConfig
    from features.pipeline import build_examples
    from features.spec import spec_version

    config = world.config
    dates = [pd.Timestamp(c, tz="UTC") for c in config.cutoffs]
    features, labels = build_examples(world.customers, world.events, dates,
                                      LabelConfig(horizon_days=config.horizon_days))
    examples = features.merge(labels, on=["customer_id", "cutoff"])
    examples.attrs = {"spec_version": spec_version(DEFAULT_SPECS)}
    return examples


@dataclass(frozen=True)
class TrainedHome:
    """Where things are: the home folder, the features folder, the store, the model name."""

    home: Path
    features_dir: Path
    store_file: Path
    model_name: str
    model_version: str


@contextmanager
def home_env(home: Path) -> Iterator[str]:
    """Point CXCHURN_HOME and MLflow (tracking and registry) at ``home``; restore after.

    Restores MLflow's own globals rather than re-setting URIs, so that a registry URI is never
    left pinned to whatever the tracking URI happened to be before.
    """
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = {k: os.environ.get(k) for k in ("CXCHURN_HOME", "MLFLOW_TRACKING_URI",
                                            "MLFLOW_REGISTRY_URI")}
    saved_uris = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    uri = f"sqlite:///{Path(home) / 'mlflow.db'}"
    os.environ["CXCHURN_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield uri
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved_uris


def write_feature_build(examples: pd.DataFrame, folder: Path) -> Path:
    """Write ``examples`` as a feature build folder, with the default spec it was built from."""
    folder.mkdir(parents=True, exist_ok=True)
    examples.to_parquet(folder / "examples.parquet", index=False)
    dump_specs(DEFAULT_SPECS, folder / "feature_spec.json")
    return folder


def small_horizon_model(world: Any, examples: pd.DataFrame) -> Any:
    """A small hazard model (30/60/90 days, ``training.horizons``) on the world's history.

    ``examples`` must span enough monthly cutoffs for a 90-day purge (the session's
    ``default_training_examples``); labels come from the world's events, censored at its end.
    """
    from features.labels import LabelConfig
    from features.schema import CUSTOMER_ID, CUTOFF
    from training.dataset import feature_columns
    from training.horizon_job import horizon_split
    from training.horizons import DEFAULT_HORIZONS, fit_hazard, horizon_labels

    rows = examples.copy()
    rows[CUTOFF] = pd.to_datetime(rows[CUTOFF], utc=True).astype("datetime64[us, UTC]")
    end = pd.Timestamp(world.config.end, tz="UTC")
    labels = horizon_labels(world.events, rows, DEFAULT_HORIZONS, LabelConfig(data_end=end))
    rows = rows.merge(labels, on=[CUSTOMER_ID, CUTOFF], how="left", validate="one_to_one")
    rows.attrs = {"spec_version": examples.attrs.get("spec_version", "unknown")}
    split = horizon_split(rows, DEFAULT_HORIZONS, 1)
    return fit_hazard(split.train, split.valid, feature_columns(examples), DEFAULT_HORIZONS,
                      SMALL_MODEL)


def train_champion(home: Path, examples: pd.DataFrame, model_name: str,
                   horizon_model: Any = None, **params: Any) -> tuple[str, Any]:
    """Fit a small ChurnModel out of time, log + register it, promote it; (version, model).

    The model is logged with the project's own ``log_churn_model`` and promoted with
    ``registry.compare_and_promote`` (forced), exactly what ``cxchurn train`` does, minus the
    baselines, SHAP summaries and plots that make a full run slow.
    """
    import mlflow

    from features.schema import LABEL
    from training import registry
    from training.dataset import feature_columns, split_out_of_time
    from training.model import ChurnModel
    from training.pyfunc import log_churn_model
    from training.tracking import setup_tracking

    # Only the spec version travels in attrs: pandas deep-copies attrs on every operation,
    # and the full spec dict there made fitting several times slower.
    examples = examples.copy()
    examples.attrs = {"spec_version": examples.attrs.get("spec_version", "unknown")}
    split = split_out_of_time(examples)
    features = feature_columns(examples)
    X_train = split.train[features]
    X_train.attrs = dict(examples.attrs)
    model = ChurnModel(**{**SMALL_MODEL, **params}).fit(
        X_train, split.train[LABEL], split.valid[features], split.valid[LABEL])
    if horizon_model is not None:  # travels with the champion, as run_training attaches it
        from training.horizons import attach

        attach(model, horizon_model)
    with home_env(home):
        experiment_id = setup_tracking(root=home)
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.log_metric("test_roc_auc", registry.roc_auc(
                split.test[LABEL], model.predict_churn(split.test[features])))
            info = log_churn_model(model, split.test, registered_model_name=model_name)
            version = str(info.registered_model_version)
            registry.compare_and_promote(
                model_name, version, model.predict_churn(split.test[features]), split.test,
                split.test[LABEL].to_numpy(), force=True)
    return version, model


def build_trained_home(home: Path, world: Any, examples: pd.DataFrame,
                       model_name: str = "cxchurn",
                       history: pd.DataFrame | None = None) -> TrainedHome:
    """Train + promote a champion and materialise the online store under ``home``.

    With ``history`` (examples over many monthly cutoffs) the champion also carries a small
    30/60/90-day horizon model, as a champion from ``cxchurn train --world`` does.
    """
    from serving.api.online_store import default_cutoff, latest_features, store_path, write_store

    home.mkdir(parents=True, exist_ok=True)
    features_dir = write_feature_build(examples, home / "features")
    horizons = small_horizon_model(world, history) if history is not None else None
    version, _ = train_champion(home, examples, model_name, horizon_model=horizons)
    cutoff = default_cutoff(world.events)
    table = latest_features(world.customers, world.events, cutoff)
    # the world's files, recorded as materialise records them: live ingestion's history.
    # Not as the store's "source" nor in home/world: the page's timeline and KPIs keep
    # running without an events file here, as the API tests expect.
    folder = home / "history"
    folder.mkdir(parents=True, exist_ok=True)
    world.customers.to_parquet(folder / "customers.parquet", index=False)
    world.events.to_parquet(folder / "events.parquet", index=False)
    store = write_store(table, store_path(home), {
        "cutoff": cutoff.isoformat(), "spec_version": examples.attrs.get("spec_version"),
        "customers": str(folder / "customers.parquet"),
        "events": str(folder / "events.parquet"), "label": "contractual"})
    return TrainedHome(home=home, features_dir=features_dir, store_file=store,
                       model_name=model_name, model_version=version)
