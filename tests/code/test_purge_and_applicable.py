"""Training chooses purged folds itself, and features that cannot apply are left out, named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.default_specs import DEFAULT_SPECS
from training.dataset import applicable_features, split_out_of_time
from training.train import TrainConfig, train_churn_model


def monthly(n_months: int = 12, n_customers: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cutoffs = pd.date_range("2024-01-01", periods=n_months, freq="MS", tz="UTC")
    return pd.DataFrame({
        "customer_id": np.tile([f"K{i}" for i in range(n_customers)], n_months),
        "cutoff": np.repeat(cutoffs, n_customers),
        "orders_total": rng.poisson(3, n_customers * n_months).astype(float),
        "churned": rng.integers(0, 2, n_customers * n_months).astype("int8"),
    })


def test_a_monthly_grid_with_a_90_day_label_is_purged_not_refused() -> None:
    examples = monthly()
    split = split_out_of_time(examples, horizon_days=90)
    day = [c.date().isoformat() for c in split.train_cutoffs]
    assert day == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01",
                   "2024-06-01"]
    assert split.valid_cutoffs == [pd.Timestamp("2024-09-01", tz="UTC")]
    assert split.test_cutoffs == [pd.Timestamp("2024-12-01", tz="UTC")]
    assert [c.month for c in split.purged_cutoffs] == [7, 8, 10, 11]
    horizon = pd.Timedelta(days=90)
    assert max(split.train_cutoffs) + horizon <= split.valid_cutoffs[0]
    assert split.valid_cutoffs[-1] + horizon <= split.test_cutoffs[0]
    # nothing kept is lost: every row of a used cutoff is in its fold
    used = len(split.train) + len(split.valid) + len(split.test)
    assert used == len(examples[~examples["cutoff"].isin(split.purged_cutoffs)])
    note = split.notes()[0]
    assert note.startswith("purged 4 cutoff(s) ['2024-07-01', '2024-08-01', '2024-10-01'")
    assert split.describe()["purged"]["cutoffs"][0] == "2024-07-01"


def test_purging_keeps_several_validation_cutoffs_when_asked() -> None:
    split = split_out_of_time(monthly(18), n_valid_cutoffs=2, horizon_days=90)
    assert [c.month for c in split.valid_cutoffs] == [2, 3]  # 2025: windows end by June
    assert max(split.train_cutoffs) + pd.Timedelta(days=90) <= split.valid_cutoffs[0]


def test_applicable_features_name_what_the_data_lacks() -> None:
    frame = pd.DataFrame({
        "orders_total": [1.0, 2.0, 0.0],
        "tickets_30d": [0.0, 0.0, 0.0],
        "nps_last": [np.nan, np.nan, np.nan],
        "plan": ["a", "b", "a"],
        "late_share_90d": [np.nan, 0.0, np.nan],  # missing vs 0 is information: kept
    })
    kept, dropped, note = applicable_features(frame, list(frame.columns), DEFAULT_SPECS)
    assert kept == ["orders_total", "plan", "late_share_90d"]
    assert dropped == {"tickets_30d": "constant (0.0)", "nps_last": "all missing"}
    assert note.startswith("your events hold ") and "3 of 5 features apply" in note
    assert "survey_nps" in note and "support_ticket" in note
    kept_all, none, _ = applicable_features(frame, list(frame.columns), keep=("tickets_30d",
                                                                               "nps_last"))
    assert len(kept_all) == 5 and not none


def test_a_feature_over_every_activity_does_not_make_sessions_look_present() -> None:
    frame = pd.DataFrame({
        "orders_total": [1.0, 2.0, 0.0],
        "active_events_30d": [3.0, 1.0, 0.0],  # reads orders, sessions, e-mail opens ...
        "sessions_30d": [0.0, 0.0, 0.0],
    })
    _, dropped, note = applicable_features(frame, list(frame.columns), DEFAULT_SPECS)
    assert dropped == {"sessions_30d": "constant (0.0)"}
    assert note.startswith("your events hold order only (no session)")


@pytest.mark.slow
def test_training_drops_constant_features_and_records_them(tmp_path: Path) -> None:
    from tests.conftest import make_toy_examples

    examples = make_toy_examples(n_customers=300, seed=1)
    examples["complaints_30d"] = 0.0
    examples["ces_mean_90d"] = np.nan
    config = TrainConfig(n_estimators=40, write_plots=False, calibration=None)
    result = train_churn_model(examples, None, config, tmp_path)
    assert "complaints_30d" not in result.model.feature_names_
    assert "ces_mean_90d" not in result.model.feature_names_
    recorded = json.loads((tmp_path / "split.json").read_text())["not_applicable"]
    assert recorded["features"] == {"complaints_30d": "constant (0.0)",
                                    "ces_mean_90d": "all missing"}
    assert "features apply" in result.summary()
