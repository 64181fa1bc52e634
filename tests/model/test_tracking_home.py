"""Tracking hygiene: a training run writes its MLflow files under CXCHURN_HOME, never in cwd."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from features.default_specs import DEFAULT_SPECS
from features.spec import dump_specs
from training.job import run_training
from training.train import TrainConfig


@pytest.mark.slow
def test_training_run_from_another_folder_writes_nothing_there(
    toy_examples: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd, build = tmp_path / "home", tmp_path / "elsewhere", tmp_path / "features"
    for folder in (cwd, build):
        folder.mkdir()
    toy_examples.to_parquet(build / "examples.parquet", index=False)
    dump_specs(DEFAULT_SPECS, build / "feature_spec.json")
    monkeypatch.setenv("CXCHURN_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.chdir(cwd)
    try:
        summary = run_training(build, config=TrainConfig(write_plots=False, n_estimators=60),
                               out_dir=home / "reports", experiment="hygiene")
        # A run in MLflow's Default experiment (what a bare start_run uses) stays home too.
        with mlflow.start_run(experiment_id="0"):
            mlflow.log_dict({"ok": True}, "probe.json")
        client = mlflow.MlflowClient()
        artifacts = {e.name: e.artifact_location for e in client.search_experiments()}
        logged = {f.path for f in client.list_artifacts(summary.run_id)}
    finally:
        mlflow.set_tracking_uri(None)

    assert list(cwd.iterdir()) == [], "the run wrote into the working folder"
    assert set(artifacts) == {"Default", "hygiene"}
    for name, location in artifacts.items():
        assert location.startswith(home.resolve().as_uri()), (name, location)
    # The feature spec is still logged although it no longer rides in the examples' attrs.
    assert "feature_spec.json" in logged
