"""Unit tests of the training steps: split, dtypes, metrics, baselines, plots, tuning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, DataContractError, NotFoundError
from tests.conftest import make_toy_examples
from training.baselines import fit_logistic, recency_column, recency_rule_scores
from training.dataset import (
    feature_columns,
    learn_categories,
    load_examples,
    prepare_frame,
    split_out_of_time,
)
from training.evaluate import (
    capture_at,
    compute_metrics,
    expected_calibration_error,
    metrics_by_segment,
)
from training.explain import global_importance
from training.model import ChurnModel
from training.plots import write_plots
from training.report import baseline_scores, evaluate_on_test, jsonable
from training.train import monotone_hints


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return make_toy_examples(n_customers=300, seed=1)


# ----------------------------------------------------------------------------- split
def test_split_holds_out_newest_cutoffs_in_time(small: pd.DataFrame) -> None:
    split = split_out_of_time(small)
    cutoffs = sorted(small["cutoff"].unique())
    assert split.test_cutoffs == [cutoffs[-1]]
    assert split.valid_cutoffs == [cutoffs[-2]]
    assert split.train["cutoff"].max() < split.valid["cutoff"].min()
    assert split.valid["cutoff"].max() < split.test["cutoff"].min()
    assert len(split.train) + len(split.valid) + len(split.test) == len(small)


def test_split_never_shares_a_customer_cutoff_row_between_folds(small: pd.DataFrame) -> None:
    split = split_out_of_time(small, n_valid_cutoffs=1, n_test_cutoffs=2, horizon_days=28)
    keys = [set(zip(f["customer_id"], f["cutoff"], strict=True))
            for f in (split.train, split.valid, split.test)]
    assert not (keys[0] & keys[1]) and not (keys[1] & keys[2]) and not (keys[0] & keys[2])
    assert len(split.test_cutoffs) == 2


def test_split_refuses_label_window_overlapping_next_fold(small: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"label window of train cutoff .* overlaps"):
        split_out_of_time(small, horizon_days=75)


def test_split_refuses_too_few_cutoffs(small: pd.DataFrame) -> None:
    two = small[small["cutoff"] >= small["cutoff"].max() - pd.Timedelta(days=31)]
    with pytest.raises(ConfigError, match="expected at least 3 cutoffs"):
        split_out_of_time(two)


def test_examples_without_label_are_refused(small: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match=r"missing \['churned'\]"):
        split_out_of_time(small.drop(columns="churned"))


def test_load_examples_attaches_spec_version(tmp_path, small: pd.DataFrame) -> None:
    small.to_parquet(tmp_path / "examples.parquet")
    (tmp_path / "feature_spec.json").write_text(json.dumps({"version": "abc123", "specs": []}))
    loaded = load_examples(tmp_path)
    assert loaded.attrs["spec_version"] == "abc123"
    assert feature_columns(loaded) == feature_columns(small)
    with pytest.raises(DataContractError, match=r"examples\.parquet"):
        load_examples(tmp_path / "nowhere")


def test_prepare_frame_fixes_categories_and_maps_unseen_to_missing(small: pd.DataFrame) -> None:
    cats = learn_categories(small, ["plan"])
    new = small.head(3).copy()
    new["plan"] = ["basic", "platinum", None]
    out = prepare_frame(new, ["plan", "monthly_price"], cats)
    assert list(out["plan"].cat.categories) == ["basic", "plus", "premium"]
    assert out["plan"].tolist()[0] == "basic"
    assert out["plan"].isna().tolist() == [False, True, True]
    assert out["monthly_price"].dtype == "float64"


def test_prepare_frame_names_a_non_numeric_feature(small: pd.DataFrame) -> None:
    bad = small.head(2).copy()
    bad["tickets_30d"] = ["3", "many"]
    with pytest.raises(DataContractError, match="feature 'tickets_30d' must be numeric"):
        prepare_frame(bad, ["tickets_30d"], {})


# --------------------------------------------------------------------------- metrics
def test_perfect_ranking_metrics() -> None:
    y = np.array([0] * 90 + [1] * 10)
    p = np.linspace(0.01, 0.99, 100)
    m = compute_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(1.0)
    assert m["pr_auc"] == pytest.approx(1.0)
    assert m["capture_top_decile"] == pytest.approx(1.0)
    assert m["lift_top_decile"] == pytest.approx(10.0)
    assert m["base_rate"] == pytest.approx(0.1)
    assert m["n"] == 100


def test_capture_shares_ties_in_expectation() -> None:
    # A constant score cannot rank: it must capture exactly its share of churners.
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0] * 10)
    assert capture_at(y, np.ones_like(y, dtype=float), 0.1) == pytest.approx(0.1)
    assert compute_metrics(y, np.full(len(y), 0.2), budget_share=0.3)["capture_at_budget"] == (
        pytest.approx(0.3))


def test_ece_zero_for_calibrated_and_large_for_overconfident() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, 50_000)
    y = (rng.random(50_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p * 3, 0, 1)) > 0.1


def test_metrics_single_class_are_nan_not_errors() -> None:
    m = compute_metrics(np.zeros(10), np.linspace(0, 1, 10))
    assert np.isnan(m["roc_auc"]) and np.isnan(m["capture_top_decile"])
    assert m["brier"] >= 0


def test_ranking_score_outside_unit_interval_gets_no_probability_metrics() -> None:
    m = compute_metrics(np.array([0, 1, 0, 1]), np.array([1.0, 30.0, 2.0, 50.0]))
    assert m["roc_auc"] == 1.0
    assert np.isnan(m["log_loss"]) and np.isnan(m["ece"])


def test_metrics_by_segment_one_row_per_segment() -> None:
    df = pd.DataFrame({"segment": ["a", "a", "b", "b", None, None]})
    y = np.array([0, 1, 0, 1, 0, 1])
    p = np.array([0.1, 0.9, 0.8, 0.2, 0.5, 0.5])
    table = metrics_by_segment(df, y, p, "segment").set_index("segment")
    assert table.loc["a", "roc_auc"] == 1.0
    assert table.loc["b", "roc_auc"] == 0.0
    assert table.loc["<missing>", "n"] == 2


# ------------------------------------------------------------------------- baselines
def test_recency_rule_ranks_never_active_as_riskiest() -> None:
    X = pd.DataFrame({"days_since_last_activity": [3.0, np.nan, 40.0]})
    scores = recency_rule_scores(X)
    assert scores.argmax() == 1
    assert scores[2] > scores[0]


def test_recency_rule_names_what_it_looks_for() -> None:
    assert recency_column(["x", "days_since_last_session_any"]) == "days_since_last_session_any"
    with pytest.raises(ConfigError, match="days_since_last_activity"):
        recency_column(["x", "y"])


def test_logistic_baseline_handles_nans_and_unseen_categories(small: pd.DataFrame) -> None:
    feats = feature_columns(small)
    model = fit_logistic(small[feats], small["churned"])
    new = small[feats].head(5).copy()
    new["region"] = "atlantis"
    p = model.predict_proba(new)[:, 1]
    assert p.shape == (5,) and np.all((p > 0) & (p < 1))


# -------------------------------------------------------------------------- explain
def test_global_importance_ranks_by_mean_absolute_shap() -> None:
    values = np.array([[0.1, -2.0, 0.0], [0.3, 2.0, 0.0]])
    table = global_importance(values, ["a", "b", "c"])
    assert table["feature"].tolist() == ["b", "a", "c"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table.loc[0, "mean_shap"] == pytest.approx(0.0)


def test_monotone_hints_from_specs_or_mapping() -> None:
    class Spec:
        def __init__(self, name: str, monotone: int) -> None:
            self.name, self.monotone = name, monotone

    # spec objects also get the compiler's own column (tenure_days: longer never raises risk)
    assert monotone_hints([Spec("late", 1), Spec("flat", 0), Spec("nps", -1)]) == {
        "late": 1, "nps": -1, "tenure_days": -1}
    assert monotone_hints({"late": 1, "x": 0}) == {"late": 1}
    assert monotone_hints(None) == {}


# ---------------------------------------------------------------------------- plots
def test_write_plots_writes_every_png(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({
        "late": rng.poisson(1, n).astype(float),
        "plan": pd.Categorical(rng.choice(["a", "b"], n), categories=["a", "b"]),
        "nps": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 11, n)),
    })
    values = rng.normal(0, 1, (n, 3)) * [2, 1, 0.5]
    y = rng.integers(0, 2, n)
    p = rng.uniform(0, 1, n)
    paths = write_plots(y, p, values, X, tmp_path, baselines={"rule": rng.normal(0, 5, n)})
    expected = {"roc", "pr", "gain_lift", "calibration", "shap_summary",
                "shap_dependence_late", "shap_dependence_plan", "shap_dependence_nps"}
    assert set(paths) == expected
    for path in paths.values():
        assert path.suffix == ".png" and path.stat().st_size > 1000


# --------------------------------------------------------------------------- report
def test_one_evaluation_orders_metrics_and_compares_only_baselines(small: pd.DataFrame,
                                                                    tmp_path) -> None:
    split = split_out_of_time(small)
    feats = feature_columns(small)
    model = ChurnModel(n_estimators=40, calibration=None).fit(
        split.train[feats], split.train["churned"])
    scores = baseline_scores(split.train[feats], split.train["churned"].to_numpy(),
                             split.test[feats])
    report = evaluate_on_test(model, split.test, baselines=scores,
                              reference={"before": {"roc_auc": 0.5}},
                              segment_columns=("plan", "no_such_column"))
    assert list(report.metrics) == ["lightgbm", "lightgbm_uncalibrated", "before", "logistic",
                                    "recency_rule"]
    assert set(report.baseline_comparison) == {"logistic", "recency_rule"}
    assert list(report.test_frame.columns) == ["customer_id", "cutoff", "churned", "p_churn",
                                               "raw_score", "p_logistic", "recency_days"]
    assert set(report.segment_metrics["segment_column"]) == {"plan"}
    assert report.plots == {}
    assert report.shap_values.shape == (len(split.test), len(feats))
    report.write_files(tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["before"] == {"roc_auc": 0.5}
    drivers = report.drivers(split.test["customer_id"].head(2), top_k=2)
    assert set(drivers["rank"]) <= {1, 2}
    with pytest.raises(NotFoundError, match=r"\['nobody'\] are not in the evaluated rows"):
        report.drivers(["nobody"])


def test_jsonable_turns_nan_and_numpy_into_json() -> None:
    assert jsonable({"a": float("nan"), 1: [np.float64(0.5), np.int64(2)], "t": (np.inf,)}) == {
        "a": None, "1": [0.5, 2], "t": [None]}


# ---------------------------------------------------------------------------- tuning
def test_tuning_respects_the_trial_budget(small: pd.DataFrame) -> None:
    from training.tune import tune

    split = split_out_of_time(small)
    feats = feature_columns(small)
    best, trials = tune(split.train[feats], split.train["churned"], split.valid[feats],
                        split.valid["churned"], n_trials=2,
                        base_params={"n_estimators": 50, "early_stopping_rounds": 10})
    assert len(trials) == 2
    assert {"learning_rate", "num_leaves", "min_child_samples"} <= set(best)
    with pytest.raises(ConfigError, match="n_trials must be >= 1"):
        tune(split.train[feats], split.train["churned"], split.valid[feats],
             split.valid["churned"], n_trials=0)
