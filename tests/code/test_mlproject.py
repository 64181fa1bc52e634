"""The MLproject's entry points match the CLI they call."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from training.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict:
    return yaml.safe_load((ROOT / "MLproject").read_text())


def test_mlproject_has_the_three_stage_entry_points():
    assert set(_project()["entry_points"]) >= {"features", "train", "evaluate"}


def test_mlproject_train_defaults_equal_train_config_defaults():
    """Defaults are written twice (MLproject needs literals); this keeps them from drifting."""
    params = _project()["entry_points"]["train"]["parameters"]
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for name in ("horizon_days", "n_valid_cutoffs", "n_test_cutoffs", "calibration",
                 "tune_trials", "leak_threshold", "seed", "n_estimators", "learning_rate"):
        assert params[name]["default"] == defaults[name], name


def test_every_train_parameter_is_passed_to_the_command():
    train = _project()["entry_points"]["train"]
    for name in train["parameters"]:
        assert "{" + name + "}" in train["command"], name


@pytest.mark.slow
def test_mlflow_run_train_with_local_env_manager(tmp_path):
    """`mlflow run . -e train --env-manager local` trains, logs and registers a champion."""
    import mlflow

    from tests.conftest import make_toy_examples

    features = tmp_path / "features"
    features.mkdir()
    make_toy_examples(n_customers=400, nonlinear=True).to_parquet(features / "examples.parquet")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # Other tests in this process may have exported MLFLOW_EXPERIMENT_ID / MLFLOW_RUN_ID.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env = {**clean, "MLFLOW_TRACKING_URI": uri, "CXCHURN_HOME": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "mlflow", "run", str(ROOT), "-e", "train",
           "--env-manager", "local", "--experiment-name", "cxchurn",
           "-P", f"features={features}", "-P", f"out={tmp_path / 'run'}",
           "-P", "n_estimators=60", "-P", "learning_rate=0.1"]
    # Create the experiment the way `cxchurn` does (artifacts beside the store); left to
    # `mlflow run --experiment-name`, it would put them in ./mlruns of the current folder.
    from training.tracking import setup_tracking

    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
            mp.delenv(key)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        setup_tracking("cxchurn")
    mlflow.set_tracking_uri(None)
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "promoted to champion" in done.stdout
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias("cxchurn", "champion")
    run = client.get_run(champion.run_id)
    assert run.data.params["n_estimators"] == "60"  # the project's typed parameter
    assert run.data.params["config.n_estimators"] == "60"  # ...reached TrainConfig
    assert "test_roc_auc" in run.data.metrics
