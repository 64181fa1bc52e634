"""The multi-horizon hazard model on the default world: honest split, sane probabilities, and
rankings close to the simulator's truth at 30, 60 and 90 days."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.schema import CUTOFF, LABEL
from training.horizon_job import HorizonResult, train_horizons
from training.horizons import DEFAULT_HORIZONS, INTERVAL

FAST = {"n_estimators": 400, "learning_rate": 0.08, "num_leaves": 7, "min_child_samples": 100,
        "colsample_bytree": 0.5, "calibration": "auto", "random_state": 0}


@pytest.fixture(scope="module")
def horizon_run(default_world: Any, default_training_examples: pd.DataFrame,
                tmp_path_factory: pytest.TempPathFactory) -> HorizonResult:
    folder = tmp_path_factory.mktemp("horizon_build")
    default_training_examples.drop(columns=[LABEL]).to_parquet(folder / "features.parquet")
    end = pd.Timestamp(default_world.config.end, tz="UTC").isoformat()
    (folder / "feature_spec.json").write_text(json.dumps(
        {"version": "test", "label": {"kind": "contractual", "data_end": end}}))
    features = [c for c in default_training_examples.columns
                if c not in ("customer_id", CUTOFF, LABEL)]
    return train_horizons(folder, default_world.events, DEFAULT_HORIZONS, features, FAST,
                          truth=default_world.truth_churn, n_resamples=200,
                          out_dir=Path(folder / "out"),
                          attrs=dict(default_training_examples.attrs))


def test_the_test_cutoff_has_every_window_complete_and_folds_do_not_overlap(
        horizon_run: HorizonResult, default_world: Any) -> None:
    split = horizon_run.split
    end = pd.Timestamp(default_world.config.end, tz="UTC")
    longest = pd.Timedelta(days=DEFAULT_HORIZONS[-1])
    assert split.test_cutoffs == [pd.Timestamp("2025-04-01", tz="UTC")]
    assert split.test_cutoffs[0] + longest <= end
    # no train or validation label window reaches into the next fold
    assert max(split.train_cutoffs) + longest <= min(split.valid_cutoffs)
    assert max(split.valid_cutoffs) + longest <= min(split.test_cutoffs)


def test_probabilities_never_fall_as_the_horizon_grows(horizon_run: HorizonResult) -> None:
    p = horizon_run.model.predict(horizon_run.split.test)
    assert p.shape == (len(horizon_run.split.test), len(DEFAULT_HORIZONS))
    assert ((p > 0) & (p < 1)).all()
    assert (np.diff(p, axis=1) >= 0).all()
    assert INTERVAL not in horizon_run.model.feature_names


def test_ranking_is_close_to_the_truth_at_every_horizon(horizon_run: HorizonResult) -> None:
    ev = horizon_run.evaluation
    for k, h in enumerate(DEFAULT_HORIZONS):
        model, truth = ev.auc["model"][k], ev.auc["truth"][k]
        assert model.estimate > 0.68, (h, model)
        assert truth.estimate - model.estimate < 0.04, (h, model, truth)
        assert model.low < model.estimate < model.high
    assert ev.c_index["model"].estimate > 0.68
    assert ev.c_index["truth"].estimate - ev.c_index["model"].estimate < 0.04


def test_probabilities_match_the_observed_churn_at_every_horizon(
        horizon_run: HorizonResult) -> None:
    ev = horizon_run.evaluation
    assert ev.observed_rate == sorted(ev.observed_rate)  # more churners the longer we wait
    for predicted, observed in zip(ev.predicted_rate, ev.observed_rate, strict=True):
        assert abs(predicted - observed) / observed < 0.3


def test_figures_are_printed_and_logged(horizon_run: HorizonResult) -> None:
    lines = "\n".join(horizon_run.lines())
    assert "time-dependent AUC" in lines and "C-index" in lines and "truth" in lines
    metrics = horizon_run.evaluation.metrics()
    assert {f"horizon_{h}d_auc_model" for h in DEFAULT_HORIZONS} <= set(metrics)
    assert "horizon_c_index_logistic" in metrics


@pytest.mark.slow
def test_a_build_from_files_gets_the_horizon_model_without_a_world(
        default_training_examples: pd.DataFrame, default_world: Any, default_world_dir: Path,
        tmp_path: Path) -> None:
    """Real data has no world folder: the horizon model is labelled from the events file the
    feature build recorded, so the service can say "act by" for a company's own data."""
    from features.build_sources import SOURCES_KEY, BuildSources
    from training.job import run_training
    from training.train import TrainConfig

    build = tmp_path / "features"
    source = Path(str(default_world_dir)).parent / "default_training_features"
    build.mkdir()
    for f in source.iterdir():
        if f.is_file():
            (build / f.name).write_bytes(f.read_bytes())
    spec = json.loads((build / "feature_spec.json").read_text())
    spec[SOURCES_KEY] = BuildSources.of(default_world_dir / "customers.parquet",
                                        default_world_dir / "events.parquet").to_dict()
    end = pd.Timestamp(default_world.config.end, tz="UTC").isoformat()
    spec["label"] = {**spec.get("label", {}), "kind": "contractual", "data_end": end}
    (build / "feature_spec.json").write_text(json.dumps(spec))  # as `features build` writes
    config = TrainConfig(n_estimators=150, write_plots=False, bootstrap_resamples=100)
    summary = run_training(build, None, config, tmp_path / "out", register=False)
    text = summary.summary_text
    assert "churn over 30d, 60d, 90d (discrete-time hazard" in text
    assert "horizon model skipped" not in text
    assert "truth" not in text.split("churn over 30d, 60d, 90d")[1].splitlines()[0]
