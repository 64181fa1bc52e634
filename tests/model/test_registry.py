"""The registry keeps a champion that only a better challenger replaces.

Each test gets its own SQLite tracking store (MLFLOW_TRACKING_URI) and artifact folder, and
small models on a small synthetic example table, so the MLflow round trips stay fast.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import FeatureMismatchError
from training import registry
from training.dataset import feature_columns, split_out_of_time
from training.model import ChurnModel
from training.pyfunc import OUTPUT_COLUMN, load_churn_model, log_churn_model
from training.tracking import data_fingerprint, setup_tracking


def _examples(n: int = 700, seed: int = 0) -> pd.DataFrame:
    """(customer, cutoff) rows whose churn depends on two features and a plan attribute."""
    rng = np.random.default_rng(seed)
    frames = []
    for cutoff in pd.date_range("2025-01-01", periods=4, freq="MS", tz="UTC"):
        late = rng.poisson(1.0, n).astype(float)
        nps = rng.integers(0, 11, n).astype(float)
        noise = rng.normal(size=n)
        plan = rng.choice(["basic", "plus", "pro"], n)
        logit = -1.5 + 0.9 * late - 0.35 * (nps - 5) + 0.5 * (plan == "basic")
        churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int8")
        frames.append(pd.DataFrame({
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "cutoff": cutoff,
            "late_deliveries_30d": late,
            "last_nps": np.where(rng.random(n) < 0.1, np.nan, nps),
            "noise": noise,
            "plan": pd.Series(plan, dtype="object"),
            "churned": churned,
        }))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["spec_version"] = "test-spec-1"
    return out


@pytest.fixture(scope="module")
def _module_store(tmp_path_factory):
    """One SQLite store per module (creating one costs seconds); tests use distinct names."""
    folder = tmp_path_factory.mktemp("registry")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        mp.setenv("CXCHURN_HOME", str(folder))
        # mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID; undo restores it for later tests.
        mp.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        yield folder
    mlflow.set_tracking_uri(None)


@pytest.fixture
def name(_module_store, request) -> str:
    """A registered-model name unique to this test, in the module's store."""
    setup_tracking("registry-test")
    return f"cxchurn-{request.node.name[5:45]}"


@pytest.fixture(scope="module")
def split():
    return split_out_of_time(_examples(), n_valid_cutoffs=1, n_test_cutoffs=1, horizon_days=28)


def _fit(split, shuffle: bool = False, seed: int = 0) -> ChurnModel:
    feats = feature_columns(split.train)
    y_train = split.train["churned"].to_numpy()
    y_valid = split.valid["churned"].to_numpy()
    if shuffle:
        rng = np.random.default_rng(seed)
        y_train, y_valid = rng.permutation(y_train), rng.permutation(y_valid)
    model = ChurnModel(n_estimators=60, learning_rate=0.1, num_leaves=7, min_child_samples=20,
                       early_stopping_rounds=20, random_state=seed, n_jobs=1)
    return model.fit(split.train[feats], y_train, split.valid[feats], y_valid)


def _register_and_promote(model: ChurnModel, split, name: str) -> registry.PromotionDecision:
    """What the training job does: log + register, then compare on the test fold."""
    with mlflow.start_run():
        info = log_churn_model(model, split.test, registered_model_name=name)
        scores = model.predict_churn(split.test[model.feature_names_])
        return registry.compare_and_promote(
            name, info.registered_model_version, scores, split.test, split.test["churned"]
        )


def test_first_model_becomes_champion(name, split):
    decision = _register_and_promote(_fit(split), split, name)
    assert decision.promoted and decision.reason == "no current champion"
    c = registry.client()
    assert registry.aliases(c, name) == {"champion": "1"}
    tags = c.get_model_version(name, "1").tags
    assert tags["promotion.decision"] == "promoted"


def test_shuffled_label_model_is_never_promoted_over_a_real_champion(name, split):
    real = _fit(split)
    assert _register_and_promote(real, split, name).promoted
    for seed in range(3):
        decision = _register_and_promote(_fit(split, shuffle=True, seed=seed), split, name)
        assert not decision.promoted
        assert decision.champion_roc_auc > decision.challenger_roc_auc
        assert "stays challenger" in decision.reason
    c = registry.client()
    assert registry.aliases(c, name) == {"champion": "1", "challenger": "4"}
    # The comparison and its outcome are on the challenger's run.
    run = mlflow.get_run(c.get_model_version(name, "4").run_id)
    assert run.data.tags["promotion.decision"] == "kept_challenger"
    assert run.data.metrics["promotion.promoted"] == 0.0
    assert run.data.metrics["promotion.champion_roc_auc"] == pytest.approx(
        decision.champion_roc_auc
    )


def test_better_challenger_replaces_a_weak_champion(name, split):
    weak = _register_and_promote(_fit(split, shuffle=True), split, name)
    assert weak.promoted  # nothing to beat yet
    decision = _register_and_promote(_fit(split), split, name)
    assert decision.promoted and decision.champion_version == "1"
    assert registry.aliases(registry.client(), name) == {"champion": "2"}


def test_a_tie_keeps_the_champion():
    assert registry.decide(0.71, 0.71) == (
        False,
        "challenger ROC-AUC 0.7100 does not beat champion 0.7100 (delta +0.0000, "
        "needs > 0.0000); stays challenger",
    )
    assert registry.decide(0.72, 0.71)[0]
    assert not registry.decide(0.715, 0.71, min_improvement=0.01)[0]


def test_registered_model_scores_raw_rows_like_the_model(name, split):
    model = _fit(split)
    _register_and_promote(model, split, name)
    loaded = mlflow.pyfunc.load_model(registry.champion_uri(name))
    rows = split.test.head(50)  # raw rows: ids, cutoff and label are ignored
    got = loaded.predict(rows)[OUTPUT_COLUMN].to_numpy()
    np.testing.assert_allclose(got, model.predict_churn(rows[model.feature_names_]))
    inputs = loaded.metadata.get_input_schema().input_names()
    assert set(inputs) == set(model.feature_names_)
    assert loaded.metadata.metadata["spec_version"] == "test-spec-1"
    assert loaded.metadata.metadata["feature_schema"]["plan"]["type"] == "category"
    inner = load_churn_model(registry.champion_uri(name))
    assert inner.feature_names_ == model.feature_names_


def test_champion_with_features_the_data_lacks_is_not_silently_replaced(name, split):
    assert _register_and_promote(_fit(split), split, name).promoted
    narrower = split.test.drop(columns=["noise"])
    feats = [c for c in feature_columns(split.train) if c != "noise"]
    model = ChurnModel(n_estimators=40, num_leaves=7, early_stopping_rounds=10, n_jobs=1).fit(
        split.train[feats], split.train["churned"], split.valid[feats], split.valid["churned"]
    )
    with mlflow.start_run():
        info = log_churn_model(model, narrower, registered_model_name=name)
        decision = registry.compare_and_promote(
            name, info.registered_model_version, model.predict_churn(narrower[feats]),
            narrower, narrower["churned"],
        )
    assert not decision.promoted
    assert "cannot score" in decision.reason and "noise" in decision.reason


def test_pyfunc_names_missing_features(name, split):
    model = _fit(split)
    with mlflow.start_run():
        info = log_churn_model(model, split.test)
    inner = load_churn_model(info.model_uri)
    from training.pyfunc import ChurnPyfunc

    with pytest.raises(FeatureMismatchError, match=r"lack 1 feature.*last_nps"):
        ChurnPyfunc(inner).predict(None, split.test.drop(columns=["last_nps"]))


def test_unreachable_registry_gives_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{blocker / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    with pytest.raises(registry.RegistryUnavailableError, match="MLFLOW_TRACKING_URI"):
        setup_tracking("nowhere")
    mlflow.set_tracking_uri(None)


def test_fingerprint_is_stable_under_row_order_and_changes_with_a_value():
    ex = _examples(n=50)
    fp = data_fingerprint(ex)
    assert data_fingerprint(ex.sample(frac=1.0, random_state=1))["fingerprint"] == fp["fingerprint"]
    changed = ex.copy()
    changed.loc[3, "last_nps"] = 99.0
    assert data_fingerprint(changed)["fingerprint"] != fp["fingerprint"]
    assert (fp["n_rows"], fp["n_cutoffs"]) == (200, 4)


@pytest.mark.slow
def test_cli_train_registers_promotes_and_a_retrain_of_the_same_model_ties(tmp_path, monkeypatch):
    """`cxchurn train` twice on the same data: v1 champion, identical v2 ties and waits."""
    from typer.testing import CliRunner

    from cxchurn.cli import app
    from tests.conftest import make_toy_examples

    features = tmp_path / "features"
    features.mkdir()
    make_toy_examples(n_customers=500, nonlinear=True).to_parquet(features / "examples.parquet")
    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    args = ["train", "--features", str(features), "--seed", "3", "--n-estimators", "80",
            "--learning-rate", "0.1"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "promoted to champion: no current champion" in first.output
    assert f"mlflow ui --backend-store-uri sqlite:///{tmp_path / 'mlflow.db'}" in first.output
    assert "roc.png" in first.output
    second = CliRunner().invoke(app, [*args, "--no-plots"])
    assert second.exit_code == 0, second.output
    assert "kept as challenger" in second.output and "delta +0.0000" in second.output
    c = registry.client()
    assert registry.aliases(c, "cxchurn") == {"champion": "1", "challenger": "2"}
    run = mlflow.get_run(c.get_model_version("cxchurn", "1").run_id)
    assert run.data.tags["data.fingerprint"] == data_fingerprint(
        pd.read_parquet(features / "examples.parquet"))["fingerprint"]
    assert {"test_roc_auc", "logistic.test_roc_auc", "recency_rule.test_roc_auc"} <= set(
        run.data.metrics)
    assert run.data.params["calibration_chosen"] in {"none", "sigmoid", "isotonic"}
    assert {"calibration_logloss_none", "calibration_logloss_isotonic",
            "calibration_brier_sigmoid", "calibration_ece_none"} <= set(run.data.metrics)
    artifacts = {a.path for a in c.list_artifacts(run.info.run_id)}
    assert {"plots", "shap", "data", "metrics", "leakage.json"} <= artifacts
    plots = {Path(a.path).name for a in c.list_artifacts(run.info.run_id, "plots")}
    assert {"roc.png", "pr.png", "gain_lift.png", "calibration.png", "shap_summary.png"} <= plots
    mlflow.set_tracking_uri(None)
