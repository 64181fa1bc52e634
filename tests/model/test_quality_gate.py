"""Model-quality checks a user relies on: the leakage guard and the promotion gate.

Small synthetic frames: a CRM table whose extract carries a vendor's churn score (single-column
AUC ~0.94, under the old 0.95 line) and a purchase log where recency carries the model, both
linear enough that a logistic regression beats LightGBM (the gate must then hold).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn.errors import ConfigError
from training import registry
from training.job import record_training_run
from training.leakage import find_leaks, single_feature_auc
from training.snapshot import SnapshotConfig, train_snapshot
from training.snapshot_job import run_snapshot_training
from training.tracking import setup_tracking
from training.train import TrainConfig, train_churn_model

CUTOFFS = pd.date_range("2025-01-01", periods=5, freq="MS", tz="UTC").as_unit("us")
RFM_SPECS = [SimpleNamespace(name="days_since_last_order", monotone=1),
             SimpleNamespace(name="orders_total", monotone=0),
             SimpleNamespace(name="order_value_total", monotone=0)]


def crm_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Churn linear in six attributes, plus a vendor's score and a weaker honest signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    logit = -1.2 + X @ np.array([1.0, -0.8, 0.6, 0.5, -0.4, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(X.round(3), columns=[f"x{i}" for i in range(6)])
    df.insert(0, "cust", [f"K{i:05d}" for i in range(n)])
    df["vendor_score"] = (y + rng.normal(0, 0.467, n)).round(3)
    df["weak_signal"] = (y + rng.normal(0, 0.84, n)).round(3)
    df["Churn"] = np.where(y == 1, "Yes", "No")
    return df.astype(str)


def purchase_log(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """(customer, cutoff) rows where days since the last order decides most of the churn,
    plus a pass-through vendor score from the customer table."""
    rng = np.random.default_rng(seed)
    frames = []
    for cutoff in CUTOFFS:
        recency = rng.exponential(40, n).round()
        orders = rng.poisson(3 + 20 / (1 + recency / 20))
        logit = -4 + 0.07 * recency - 0.05 * orders
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int8")
        frames.append(pd.DataFrame({
            "customer_id": [f"C{i:05d}" for i in range(n)], "cutoff": cutoff,
            "plan": rng.choice(["basic", "plus"], n),
            "vendor_score": (y + rng.normal(0, 0.467, n)).round(3),
            "days_since_last_order": recency, "orders_total": orders.astype(float),
            "order_value_total": (orders * rng.gamma(2, 25, n)).round(2), "churned": y,
        }))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["spec_version"] = "log-v1"
    return out


SNAPSHOT = SnapshotConfig(label="Churn", id_column="cust", cross_validate=False,
                          tree_sizes=("small",), write_plots=False)
EVENT = TrainConfig(write_plots=False, n_estimators=200, learning_rate=0.1)


# ------------------------------------------------------------------------ leakage guard v2
def test_a_copied_vendor_score_is_flagged_and_dropped_a_weaker_column_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    raw = crm_table()
    y = (raw["Churn"] == "Yes").to_numpy(dtype=int)
    assert 0.93 <= single_feature_auc(raw["vendor_score"].astype(float), y) <= 0.945
    assert 0.75 <= single_feature_auc(raw["weak_signal"].astype(float), y) <= 0.82
    caplog.set_level(logging.WARNING, logger="training")
    result = train_snapshot(raw, SNAPSHOT, tmp_path)
    assert "vendor_score" not in result.model.feature_names_
    assert "weak_signal" in result.model.feature_names_
    assert list(result.leakage.dropped) == ["vendor_score"]
    assert "LEAKAGE: dropped feature 'vendor_score'" in caplog.text
    assert "--keep-feature vendor_score" in caplog.text  # the real option name
    assert "suspected leak(s): vendor_score (AUC 0.94" in result.summary()
    recorded = json.loads((tmp_path / "leakage.json").read_text())
    assert recorded["suspected_leaks"] == ["vendor_score"] and recorded["threshold"] == 0.9
    assert json.loads((tmp_path / "headline.json").read_text())["suspected_leaks"] == [
        "vendor_score"]


def test_keep_feature_keeps_the_suspected_leak_and_the_headline_says_so(tmp_path: Path) -> None:
    config = dataclasses.replace(SNAPSHOT, keep_features=("vendor_score",))
    result = train_snapshot(crm_table(), config, tmp_path)
    assert "vendor_score" in result.model.feature_names_
    first = result.summary().splitlines()[0]
    assert "includes a suspected leak: vendor_score" in first
    assert json.loads((tmp_path / "headline.json").read_text())["includes_suspected_leak"] == [
        "vendor_score"]


def test_strict_refuses_to_train_and_names_the_column_and_the_options(tmp_path: Path) -> None:
    config = dataclasses.replace(SNAPSHOT, strict_leakage=True)
    with pytest.raises(ConfigError, match="vendor_score") as err:
        train_snapshot(crm_table(), config, tmp_path)
    assert "--strict" in str(err.value) and "--keep-feature vendor_score" in str(err.value)
    assert "weak_signal" not in str(err.value)
    # Kept on purpose, the same column no longer stops a strict run.
    report = find_leaks(crm_table()[["vendor_score"]].astype(float),
                        crm_table()["Churn"] == "Yes", keep=["vendor_score"], strict=True)
    assert list(report.kept_on_request) == ["vendor_score"]


def test_recency_on_a_purchase_log_is_dominant_and_kept_the_pass_through_leak_dropped(
    tmp_path: Path,
) -> None:
    examples = purchase_log()
    y = examples["churned"].to_numpy()
    assert single_feature_auc(examples["days_since_last_order"], y) > 0.90
    result = train_churn_model(examples, RFM_SPECS, EVENT, tmp_path)
    features = result.model.feature_names_
    # Declared event features are point-in-time by construction: over the line, yet kept.
    assert "days_since_last_order" in features
    assert "days_since_last_order" in result.leakage.exempt_over_threshold
    assert "days_since_last_order" in result.leakage.dominant
    assert "confirm it is known before the outcome" in result.leakage.dominant[
        "days_since_last_order"]
    # The customer table's pass-through column is a candidate, and dropped.
    assert "vendor_score" not in features and list(result.leakage.dropped) == ["vendor_score"]
    summary = result.summary()
    assert "dominant: feature 'days_since_last_order'" in summary
    assert "rfm_logistic" in result.metrics  # the RFM baseline ran on the RFM columns


# ------------------------------------------------------------------------ promotion gate
@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    yield tmp_path
    mlflow.set_tracking_uri(None)


@pytest.mark.slow
def test_snapshot_challenger_losing_to_logistic_is_not_promoted_unless_forced(
    store: Path,
) -> None:
    path = store / "crm.csv"
    crm_table().to_csv(path, index=False)
    first = run_snapshot_training(path, SNAPSHOT, store / "run1", model_name="crm-gate")
    m = first.result.metrics
    assert m["lightgbm"]["roc_auc"] < m["logistic"]["roc_auc"]
    assert first.decision is not None and not first.decision.promoted
    text = "\n".join(first.lines())
    assert "beats baselines: NO" in text
    assert "kept as challenger: does not beat the best baseline logistic (" in text
    c = registry.client()
    assert registry.aliases(c, "crm-gate") == {"challenger": "1"}

    forced = run_snapshot_training(path, SNAPSHOT, store / "run2", model_name="crm-gate",
                                   force_promote=True)
    assert forced.decision is not None and forced.decision.promoted and forced.decision.forced
    assert "forced promotion (--force-promote)" in forced.decision.reason
    assert registry.aliases(c, "crm-gate")["champion"] == "2"
    assert c.get_model_version("crm-gate", "2").tags["promotion.forced"] == "true"
    run = mlflow.get_run(forced.run_id)
    assert run.data.tags["promotion.forced"] == "true"
    assert run.data.tags["cxchurn.suspected_leaks"] == "vendor_score"
    assert run.data.metrics["test_roc_auc_ci_low"] < run.data.metrics["test_roc_auc"]


@pytest.mark.slow
def test_event_challenger_losing_to_its_baselines_is_not_promoted_unless_forced(
    store: Path,
) -> None:
    examples = purchase_log()
    # Churn is logit-linear here, and three stumps cannot follow the ramp: a clear loser,
    # whatever calibration or feature screening the training run applies.
    weak = dataclasses.replace(EVENT, n_estimators=3, num_leaves=2)
    result = train_churn_model(examples, RFM_SPECS, weak, store / "run")
    assert result.metrics["lightgbm"]["roc_auc"] < result.metrics["logistic"]["roc_auc"] - 0.005
    experiment_id = setup_tracking("gate-test")
    kwargs = {"features_dir": store, "experiment_id": experiment_id,
              "tags": {"run_type": "train"}, "out_dir": store / "run", "model_name": "log-gate",
              "register": True}
    kept = record_training_run(result, weak, examples, **kwargs)
    assert kept.decision is not None and not kept.decision.promoted
    assert kept.decision.beats_baselines is False
    assert "kept as challenger: does not beat the best baseline" in "\n".join(kept.lines())
    forced = record_training_run(result, weak, examples, force_promote=True, **kwargs)
    assert forced.decision is not None and forced.decision.promoted and forced.decision.forced
    assert registry.aliases(registry.client(), "log-gate")["champion"] == "2"
    assert mlflow.get_run(forced.run_id).data.tags["promotion.forced"] == "true"


@pytest.mark.slow
def test_cli_strict_refuses_and_names_the_column(store: Path) -> None:
    from cxchurn.cli import app

    path = store / "crm.csv"
    crm_table().to_csv(path, index=False)
    out = CliRunner().invoke(app, ["train", "--table", str(path), "--id", "cust", "--label",
                                   "Churn", "--strict", "--no-register", "--no-plots",
                                   "--no-cv", "--out", str(store / "run")])
    assert out.exit_code != 0
    message = str(out.exception) + out.output
    assert "vendor_score" in message and "--keep-feature" in message
