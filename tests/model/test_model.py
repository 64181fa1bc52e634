"""Behaviour of the churn model: contract, SHAP additivity, direction, invariance, quality."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, FeatureMismatchError
from tests.conftest import TOY_MONOTONE
from training.dataset import feature_columns, split_out_of_time
from training.explain import explain_rows, shap_values
from training.model import ChurnModel
from training.train import TrainConfig, train_churn_model


def fit_toy(examples: pd.DataFrame, **params: object) -> tuple[ChurnModel, pd.DataFrame]:
    split = split_out_of_time(examples)
    feats = feature_columns(examples)
    model = ChurnModel(monotone=TOY_MONOTONE, **params).fit(
        split.train[feats], split.train["churned"], split.valid[feats], split.valid["churned"]
    )
    return model, split.test


@pytest.fixture(scope="module")
def fitted(toy_examples: pd.DataFrame) -> tuple[ChurnModel, pd.DataFrame]:
    return fit_toy(toy_examples)


# -------------------------------------------------------------------------- contract
def test_model_carries_feature_list_categories_and_spec_version(fitted) -> None:
    model, _ = fitted
    assert model.feature_names_[:3] == ["plan", "segment", "region"]
    assert model.categorical_features_ == ["plan", "segment", "region"]
    assert model.categories_["plan"] == ["basic", "plus", "premium"]
    assert model.spec_version_ == "toy-v1"
    assert 0 < model.best_iteration_ < model.n_estimators
    schema = model.feature_schema()
    assert schema["plan"] == {"type": "category", "categories": ["basic", "plus", "premium"]}
    assert schema["late_deliveries_90d"] == {"type": "float"}


def test_missing_and_extra_columns_are_named(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_].drop(columns=["last_nps", "plan"]).assign(shoe_size=42.0)
    with pytest.raises(FeatureMismatchError,
                       match=r"missing: \['plan', 'last_nps'\]; extra: \['shoe_size'\]"):
        model.predict_churn(X)
    with pytest.raises(FeatureMismatchError, match=r"missing: none; extra: \['customer_id'\]"):
        model.predict_proba(test[[*model.feature_names_, "customer_id"]])


def test_column_order_does_not_matter(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_]
    np.testing.assert_array_equal(model.predict_churn(X), model.predict_churn(X[X.columns[::-1]]))


def test_predict_proba_is_a_calibrated_distribution(fitted) -> None:
    model, test = fitted
    proba = model.predict_proba(test[model.feature_names_])
    assert proba.shape == (len(test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert abs(proba[:, 1].mean() - test["churned"].mean()) < 0.03


def test_calibration_needs_a_held_out_fold(toy_examples: pd.DataFrame) -> None:
    feats = feature_columns(toy_examples)
    with pytest.raises(ConfigError, match="needs a held-out fold"):
        ChurnModel(calibration="isotonic").fit(toy_examples[feats], toy_examples["churned"])
    with pytest.raises(ConfigError, match="calibration must be one of"):
        ChurnModel(calibration="magic").fit(toy_examples[feats], toy_examples["churned"])


def test_pickled_model_predicts_the_same(fitted) -> None:
    model, test = fitted
    clone = pickle.loads(pickle.dumps(model))
    X = test[model.feature_names_]
    np.testing.assert_array_equal(clone.predict_churn(X), model.predict_churn(X))


def test_calibration_keeps_the_ranking_and_the_fast_path_agrees(fitted) -> None:
    from sklearn.metrics import roc_auc_score

    model, test = fitted
    X, y = test[model.feature_names_], test["churned"]
    raw = model.raw_score(X)
    p = model.predict_churn(X)
    np.testing.assert_array_equal(model.proba_from_raw(raw), p)
    assert roc_auc_score(y, p) == roc_auc_score(y, raw)
    assert len(np.unique(p)) == len(np.unique(raw))
    report = model.calibration_report_
    assert report.requested == "auto" and report.n_folds == 5
    assert report.candidates[report.chosen]["log_loss"] <= report.candidates["none"]["log_loss"]
    from training.tracking import flat_params

    assert flat_params(TrainConfig(), model)["calibration_chosen"] == report.chosen


def test_explicit_isotonic_leaves_no_plateau(toy_examples: pd.DataFrame) -> None:
    model, test = fit_toy(toy_examples, calibration="isotonic", n_estimators=300)
    assert model.calibration_report_.chosen == "isotonic"
    raw = model.raw_score(test[model.feature_names_])
    top = np.argsort(-raw, kind="stable")[:100]
    p = model.proba_from_raw(raw)
    assert len(np.unique(p[top])) == len(np.unique(raw[top]))
    assert len(np.unique(p)) == len(np.unique(raw))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.proba_from_raw(raw), p)


def test_calibration_is_chosen_on_the_validation_fold_only(
    toy_examples: pd.DataFrame, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.model as model_module

    seen: list[tuple[np.ndarray, np.ndarray]] = []
    choose = model_module.choose_calibration

    def spy(raw, y, *args, **kwargs):
        seen.append((np.asarray(raw), np.asarray(y)))
        return choose(raw, y, *args, **kwargs)

    monkeypatch.setattr(model_module, "choose_calibration", spy)
    result = train_churn_model(toy_examples, TOY_MONOTONE,
                               TrainConfig(write_plots=False, n_estimators=100), tmp_path)
    valid, model = result.split.valid, result.model
    assert len(seen) == 1
    raw, y = seen[0]
    np.testing.assert_array_equal(raw, model.raw_score(valid[model.feature_names_]))
    np.testing.assert_array_equal(y, valid["churned"].to_numpy())
    assert result.split.test["cutoff"].min() > valid["cutoff"].max()
    assert model.calibration_report_.chosen in result.summary()
    assert (tmp_path / "calibration.json").exists()


def test_models_pickled_with_scikit_learn_calibrators_still_score(fitted) -> None:
    from sklearn.isotonic import IsotonicRegression

    model, test = fitted
    old = pickle.loads(pickle.dumps(model))
    raw = old.raw_score(test[old.feature_names_])
    old.calibrator_ = IsotonicRegression(out_of_bounds="clip").fit(raw, test["churned"])
    p = old.proba_from_raw(raw)
    assert p.shape == raw.shape and np.all((p > 0) & (p < 1))


# ---------------------------------------------------------------------------- SHAP
def test_shap_values_add_up_to_the_raw_score_for_every_row(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_]
    values, expected = shap_values(model, X)
    assert values.shape == (len(X), len(model.feature_names_))
    np.testing.assert_allclose(values.sum(axis=1) + expected, model.raw_score(X), atol=1e-6)


def test_explain_rows_gives_top_drivers_with_direction(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_].head(20)
    explanations = explain_rows(model, X, top_k=3)
    values, _ = shap_values(model, X)
    assert len(explanations) == 20
    for i, drivers in enumerate(explanations):
        assert len(drivers) == 3
        assert [abs(d.shap) for d in drivers] == sorted((abs(d.shap) for d in drivers),
                                                        reverse=True)
        assert abs(drivers[0].shap) == pytest.approx(np.abs(values[i]).max())
        for d in drivers:
            assert d.direction == ("raises" if d.shap > 0 else "lowers")
            raw = X.iloc[i][d.feature]
            assert (d.value is None) == pd.isna(raw)


# ------------------------------------------------------------ behaviour (directional)
def test_more_late_deliveries_never_lowers_risk(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_].head(200)
    previous = None
    for late in range(0, 12):
        p = model.predict_churn(X.assign(late_deliveries_90d=float(late)))
        if previous is not None:
            assert np.all(p >= previous), f"risk fell when late deliveries rose to {late}"
        previous = p


def test_monotone_constraint_holds_even_when_data_disagree(toy_examples: pd.DataFrame) -> None:
    # Reverse the true effect in the labels' feature: unconstrained, the model would learn
    # "more late deliveries = safer"; constrained, it must stay flat or rising.
    flipped = toy_examples.assign(late_deliveries_90d=10 - toy_examples["late_deliveries_90d"])
    model, test = fit_toy(flipped, calibration=None, n_estimators=200)
    X = test[model.feature_names_].head(200)
    raw = np.stack([model.raw_score(X.assign(late_deliveries_90d=float(v))) for v in range(11)])
    assert np.all(np.diff(raw, axis=0) >= -1e-12)


# ------------------------------------------------------------- behaviour (invariance)
@pytest.mark.slow
def test_renaming_customer_ids_changes_nothing(toy_examples: pd.DataFrame, tmp_path) -> None:
    config = TrainConfig(write_plots=False, n_estimators=300)
    renamed = toy_examples.copy()
    renamed["customer_id"] = "X-" + renamed["customer_id"].str[::-1]
    a = train_churn_model(toy_examples, TOY_MONOTONE, config, tmp_path / "a")
    b = train_churn_model(renamed, TOY_MONOTONE, config, tmp_path / "b")
    np.testing.assert_array_equal(a.report.test_frame["p_churn"], b.report.test_frame["p_churn"])
    assert pd.DataFrame(a.metrics).equals(pd.DataFrame(b.metrics))


def test_row_order_at_prediction_changes_no_customer_score(fitted) -> None:
    model, test = fitted
    X = test[model.feature_names_]
    shuffled = X.sample(frac=1.0, random_state=3)
    p = pd.Series(model.predict_churn(X), index=X.index)
    p_shuffled = pd.Series(model.predict_churn(shuffled), index=shuffled.index)
    pd.testing.assert_series_equal(p, p_shuffled.loc[p.index])


# -------------------------------------------------------------------- training run
@pytest.mark.slow
def test_training_run_reports_metrics_baselines_and_files(
    toy_examples: pd.DataFrame, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="training")
    result = train_churn_model(toy_examples, TOY_MONOTONE, TrainConfig(), tmp_path)
    assert {"lightgbm", "lightgbm_uncalibrated", "logistic", "recency_rule"} <= set(
        result.metrics)
    main = result.metrics["lightgbm"]
    assert main["roc_auc"] > result.metrics["recency_rule"]["roc_auc"]
    assert main["lift_top_decile"] > 3
    assert result.report.shap_values.shape == (len(result.split.test),
                                               len(result.model.feature_names_))
    assert result.report.global_importance["feature"].iloc[0] in {
        "late_deliveries_90d", "days_since_last_activity"}
    assert set(result.report.segment_metrics["segment_column"]) == {"segment", "plan"}
    for name in ("metrics.json", "leakage.json", "importance.csv", "test_predictions.parquet",
                 "plots/roc.png", "plots/shap_summary.png"):
        assert (tmp_path / name).exists(), name
    # The toy world is linear in log-odds, so logistic regression may win: it must be said.
    assert ("beats baselines: yes" in caplog.text) == result.report.beats_baselines
    if not result.report.beats_baselines:
        assert "does NOT beat every baseline" in caplog.text


def test_truth_row_is_added_when_given(toy_examples: pd.DataFrame, tmp_path) -> None:
    test_cutoff = toy_examples["cutoff"].max()
    truth = toy_examples.loc[toy_examples["cutoff"] == test_cutoff, ["customer_id", "cutoff"]]
    truth = truth.assign(p_churn=np.linspace(0.01, 0.5, len(truth)))
    result = train_churn_model(toy_examples, TOY_MONOTONE,
                               TrainConfig(write_plots=False, n_estimators=100), tmp_path,
                               truth=truth)
    assert "truth" in result.metrics
    assert "auc_gap_vs_truth" in result.headline()


# ------------------------------------------------ acceptance on the default world
@pytest.mark.slow
def test_default_world_model_is_close_to_truth_and_captures_churners(
    default_world, default_training_examples: pd.DataFrame, tmp_path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cxchurn.demo import DEMO_TEST_CUTOFFS
    from features.default_specs import DEFAULT_SPECS

    caplog.set_level(logging.INFO, logger="training")
    # Evaluated as the demo evaluates: on its newest months, enough rows that the oracle gap
    # is a measurement rather than noise (one month left it at +/-0.019).
    result = train_churn_model(default_training_examples, DEFAULT_SPECS,
                               TrainConfig(write_plots=False, n_test_cutoffs=DEMO_TEST_CUTOFFS),
                               tmp_path, truth=default_world.truth_churn)
    print(result.summary())
    headline = result.headline()
    gap = result.report.intervals["roc_auc_gap_vs_truth"]
    assert "AUC gap vs simulator truth" in caplog.text  # the figures are logged
    assert (gap.high - gap.low) / 2 < 0.01, gap.text(signed=True, digits=4)
    assert headline["auc_gap_vs_truth"] <= 0.02, result.summary()
    assert headline["lift_top_decile"] >= 3.0, result.summary()
