"""MLflow tracking and registry on a real PostgreSQL server, as a team outgrowing SQLite runs it.

A small churn model is logged and registered with ``MLFLOW_TRACKING_URI`` pointing at a fresh
PostgreSQL database (``tests/postgres.py``), promoted to champion by the project's gate, and
loaded back through the serving model source, exactly what the service does at start. The
artifacts must land under ``CXCHURN_HOME`` (or ``CXCHURN_ARTIFACT_ROOT``), never in ``./mlruns``
of whatever folder the command runs in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.schema import LABEL

pytestmark = pytest.mark.slow


@contextmanager
def tracking_env(home: Path, uri: str, artifact_root: Path | None = None) -> Iterator[None]:
    """CXCHURN_HOME, MLFLOW_TRACKING_URI (and the artifact root) for the block; restored after
    (the autouse fixture ``_isolated_mlflow_uris`` restores MLflow's own URI globals)."""
    from mlflow.tracking._model_registry import utils as registry_utils

    names = ("CXCHURN_HOME", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI",
             "CXCHURN_ARTIFACT_ROOT")
    saved = {k: os.environ.get(k) for k in names}
    # as in a fresh process: the registry follows the tracking URI (an earlier test in this
    # process may have pinned it to its own SQLite file)
    registry_utils._registry_uri = None
    os.environ["CXCHURN_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    if artifact_root is None:
        os.environ.pop("CXCHURN_ARTIFACT_ROOT", None)
    else:
        os.environ["CXCHURN_ARTIFACT_ROOT"] = str(artifact_root)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _log_and_promote(home: Path, examples: pd.DataFrame, name: str) -> tuple[str, np.ndarray,
                                                                              pd.DataFrame]:
    """Train, log, register and promote like ``cxchurn train`` (small and fast)."""
    import mlflow

    from training import registry
    from training.dataset import feature_columns, split_out_of_time
    from training.model import ChurnModel
    from training.pyfunc import log_churn_model
    from training.tracking import setup_tracking

    split = split_out_of_time(examples)
    features = feature_columns(examples)
    model = ChurnModel(n_estimators=40, learning_rate=0.1, early_stopping_rounds=10).fit(
        split.train[features], split.train[LABEL], split.valid[features], split.valid[LABEL])
    experiment_id = setup_tracking(root=home)
    with mlflow.start_run(experiment_id=experiment_id):
        scores = model.predict_churn(split.test[features])
        mlflow.log_metric("test_roc_auc", registry.roc_auc(split.test[LABEL], scores))
        info = log_churn_model(model, split.test, registered_model_name=name)
        version = str(info.registered_model_version)
        promoted = registry.compare_and_promote(name, version, scores, split.test,
                                                split.test[LABEL].to_numpy(), force=True)
    assert promoted
    return version, np.asarray(scores, dtype=float), split.test[features]


def test_champion_tracked_in_postgresql_is_served(postgres_url: str, tmp_path: Path,
                                                  toy_examples: pd.DataFrame,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from mlflow import MlflowClient

    from serving.api.model_source import load_model

    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a stray ./mlruns would land here
    with tracking_env(home, postgres_url):
        version, scores, test_rows = _log_and_promote(home, toy_examples, "cx-pg")
        assert mlflow.get_tracking_uri() == postgres_url
        client = MlflowClient()
        champion = client.get_model_version_by_alias("cx-pg", "champion")
        assert str(champion.version) == version
        run = client.get_run(champion.run_id)
        assert run.data.metrics["test_roc_auc"] > 0.6
        assert run.info.artifact_uri.startswith((home / "mlartifacts").resolve().as_uri())
        loaded = load_model(home, postgres_url, "cx-pg")
    assert loaded.info["source"] == "registry"
    assert str(loaded.info["model_version"]) == version
    np.testing.assert_allclose(loaded.model.predict_churn(test_rows), scores, rtol=1e-9)
    assert not (elsewhere / "mlruns").exists()

    import sqlalchemy as sa  # the runs really are in PostgreSQL, not in a file beside

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as con:
            names = con.execute(sa.text("SELECT name FROM registered_models")).scalars().all()
            aliases = con.execute(sa.text("SELECT alias FROM registered_model_aliases")
                                  ).scalars().all()
    finally:
        engine.dispose()
    assert names == ["cx-pg"] and aliases == ["champion"]


def test_artifact_root_setting_moves_the_artifacts(postgres_url: str, tmp_path: Path,
                                                   toy_examples: pd.DataFrame) -> None:
    from mlflow import MlflowClient

    home, shared = tmp_path / "home", tmp_path / "shared-artifacts"
    with tracking_env(home, postgres_url, artifact_root=shared):
        version, _, _ = _log_and_promote(home, toy_examples, "cx-pg-root")
        run = MlflowClient().get_run(
            MlflowClient().get_model_version("cx-pg-root", version).run_id)
    assert run.info.artifact_uri.startswith(shared.resolve().as_uri())
    assert any(shared.rglob("MLmodel"))
