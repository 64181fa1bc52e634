"""Leakage guard: a feature that gives the label away is caught, reported and dropped."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TOY_MONOTONE, make_toy_examples
from training.leakage import find_leaks, single_feature_auc
from training.train import TrainConfig, train_churn_model


@pytest.fixture(scope="module")
def leaky() -> pd.DataFrame:
    examples = make_toy_examples(n_customers=600, seed=2)
    # A copy of the label (as if computed from the horizon), and a flag missing exactly for
    # churners (as if a post-cutoff event filled it in for stayers only).
    examples["cancelled_next_30d"] = examples["churned"].astype(float)
    examples["renewal_days"] = np.where(examples["churned"] == 1, np.nan, 30.0)
    return examples


def test_label_copy_is_caught_and_dropped_with_a_loud_message(
    leaky: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training.leakage")
    features = [c for c in leaky.columns if c not in ("customer_id", "cutoff", "churned")]
    report = find_leaks(leaky[features], leaky["churned"])
    assert set(report.dropped) == {"cancelled_next_30d", "renewal_days"}
    assert report.dropped["cancelled_next_30d"] == pytest.approx(1.0)
    assert "LEAKAGE: dropped feature 'cancelled_next_30d' alone separates churners with AUC 1.000" \
        in caplog.text
    assert "likely computed from the label window" in caplog.text


def test_honest_features_are_not_flagged(leaky: pd.DataFrame) -> None:
    honest = ["plan", "segment", "region", "monthly_price", "tenure_days", "late_deliveries_90d",
              "days_since_last_activity", "last_nps", "tickets_30d"]
    report = find_leaks(leaky[honest], leaky["churned"])
    assert report.dropped == {} and report.kept_on_request == {}


def test_kept_on_request_is_recorded_not_dropped(leaky: pd.DataFrame) -> None:
    report = find_leaks(leaky[["cancelled_next_30d", "tickets_30d"]], leaky["churned"],
                        keep=["cancelled_next_30d"])
    assert report.dropped == {}
    assert set(report.kept_on_request) == {"cancelled_next_30d"}


def test_inverted_and_categorical_leaks_are_caught() -> None:
    y = np.array([0, 1] * 50)
    assert single_feature_auc(pd.Series(1.0 - y), y) == pytest.approx(1.0)
    words = pd.Series(np.where(y == 1, "gone", "here"), dtype="str")
    assert single_feature_auc(words, y) == pytest.approx(1.0)
    assert single_feature_auc(pd.Series(np.full(100, 3.0)), y) == pytest.approx(0.5)


def test_training_run_leaves_the_leak_out_and_records_why(leaky: pd.DataFrame, tmp_path) -> None:
    config = TrainConfig(write_plots=False, n_estimators=150)
    result = train_churn_model(leaky, TOY_MONOTONE, config, tmp_path)
    assert "cancelled_next_30d" not in result.model.feature_names_
    assert "renewal_days" not in result.model.feature_names_
    recorded = json.loads((tmp_path / "leakage.json").read_text())
    assert set(recorded["dropped"]) == {"cancelled_next_30d", "renewal_days"}
    assert "label window" in recorded["dropped"]["cancelled_next_30d"]["reason"]
    # Honest AUC: the model did not see the label.
    assert result.metrics["lightgbm"]["roc_auc"] < 0.95


def test_user_can_keep_a_flagged_feature_explicitly(leaky: pd.DataFrame, tmp_path) -> None:
    config = TrainConfig(write_plots=False, n_estimators=50, keep_features=("renewal_days",))
    result = train_churn_model(leaky, TOY_MONOTONE, config, tmp_path)
    assert "renewal_days" in result.model.feature_names_
    assert "cancelled_next_30d" not in result.model.feature_names_
    assert set(result.leakage.kept_on_request) == {"renewal_days"}
