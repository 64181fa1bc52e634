"""Batch scoring on Spark equals the in-process model: probabilities, drivers, risk bands.

A small model is trained on the small world, registered in a throw-away MLflow store with the
``champion`` alias, and ``cxchurn spark score`` scores the feature table through
``mlflow.pyfunc.spark_udf`` + ``mapInPandas``; the result is read back from its partitioned
Parquet folder and compared with the same model called in-process.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features import schema

pytestmark = pytest.mark.slow
MODEL_NAME = "cxchurn-spark-test"


@pytest.fixture(scope="module")
def registered(small_world_dir: Path, small_world_dates: list[pd.Timestamp],
               tmp_path_factory: pytest.TempPathFactory):
    """(features parquet path, fitted ChurnModel) with the model registered as champion."""
    from features.labels import LabelConfig
    from features.pipeline import build_examples
    from training.dataset import feature_columns
    from training.model import ChurnModel
    from training.pyfunc import log_churn_model
    from training.tracking import setup_tracking

    folder = tmp_path_factory.mktemp("spark_score")
    features, labels = build_examples(small_world_dir / "customers.parquet",
                                      small_world_dir / "events.parquet", small_world_dates,
                                      LabelConfig())
    examples = features.merge(labels, on=[schema.CUSTOMER_ID, schema.CUTOFF])
    names = feature_columns(examples)
    last = examples[schema.CUTOFF].max()
    train, valid = examples[examples.cutoff < last], examples[examples.cutoff == last]
    model = ChurnModel(n_estimators=60, early_stopping_rounds=20, min_child_samples=20).fit(
        train[names], train[schema.LABEL], valid[names], valid[schema.LABEL])
    path = folder / "features.parquet"
    features.to_parquet(path, index=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        mp.setenv("CXCHURN_HOME", str(folder))
        mp.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        setup_tracking("spark-score-test", root=folder)  # artifacts under folder, not ./mlruns
        with mlflow.start_run():
            info = log_churn_model(model, examples, registered_model_name=MODEL_NAME)
        mlflow.MlflowClient().set_registered_model_alias(
            MODEL_NAME, "champion", info.registered_model_version)
        yield path, model, folder
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def scored(spark, registered) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    from cxchurn.cli import app

    path, model, folder = registered
    out = folder / "scores"
    result = CliRunner().invoke(app, ["spark", "score", "--features", str(path), "--out",
                                      str(out), "--model-name", MODEL_NAME, "--master",
                                      "local[2]"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    scores = pd.read_parquet(out, partitioning=None)
    scores = scores.sort_values([schema.CUSTOMER_ID, schema.CUTOFF]).reset_index(drop=True)
    features = pd.read_parquet(path).sort_values([schema.CUSTOMER_ID, schema.CUTOFF])
    return scores, features.reset_index(drop=True), model


def test_spark_scores_equal_in_process_probabilities(scored) -> None:
    scores, features, model = scored
    assert len(scores) == len(features) > 500
    assert (scores[schema.CUSTOMER_ID].to_numpy() == features[schema.CUSTOMER_ID].to_numpy()).all()
    expected = model.predict_churn(features[model.feature_names_])
    np.testing.assert_allclose(scores["p_churn"].to_numpy(), expected, rtol=0, atol=1e-9)
    assert scores["p_churn"].nunique() > 10
    assert (scores["model_uri"] == f"models:/{MODEL_NAME}@champion").all()


def test_spark_drivers_and_bands_are_the_serving_ones(scored) -> None:
    from training.bands import risk_band
    from training.explain import explain_rows

    scores, features, model = scored
    assert scores["risk_band"].tolist() == list(risk_band(scores["p_churn"].to_numpy()))
    rows = features.head(40)
    for got, want in zip(scores["drivers"].head(40), explain_rows(
            model, rows[model.feature_names_], top_k=5), strict=True):
        assert [d["feature"] for d in got] == [d.feature for d in want]
        np.testing.assert_allclose([d["shap"] for d in got], [d.shap for d in want],
                                   rtol=0, atol=1e-9)
        assert [d["direction"] for d in got] == [d.direction for d in want]
        assert [d["value"] if d["value_text"] is None else d["value_text"] for d in got] == \
            [d.value for d in want]


def test_scoring_rows_without_the_model_features_fails_clearly(spark, registered) -> None:
    from cxchurn.errors import FeatureMismatchError
    from features.spark_io import read_table
    from training.spark_score import score_frame

    path, model, _ = registered
    frame = read_table(spark, pd.read_parquet(path).drop(columns=[model.feature_names_[0]]),
                       "features")
    with pytest.raises(FeatureMismatchError, match=model.feature_names_[0]):
        score_frame(spark, frame, f"models:/{MODEL_NAME}@champion")
