"""Error bars: the paired bootstrap agrees with a hand computation and narrows with more rows."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from training.baselines import rfm_columns
from training.bootstrap import (
    BOOTSTRAP_METRICS,
    paired_bootstrap,
    resample_counts,
    weighted_metrics,
)
from training.evaluate import compute_metrics


def test_resampled_auc_equals_a_hand_computation_on_a_tiny_frame() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.9])
    # Resample 1 is the frame itself; resample 2 draws rows 0, 1, 1, 2, 3, 3.
    counts = np.array([[1, 1, 1, 1, 1, 1], [1, 2, 1, 2, 0, 0]])
    auc = weighted_metrics(y, p, counts)["roc_auc"]
    # Frame: churners 0.35, 0.8, 0.9 against stayers 0.1, 0.4, 0.4: 0.35 beats one stayer,
    # 0.8 and 0.9 beat all three -> 7 of 9 pairs.
    assert auc[0] == pytest.approx(7 / 9)
    # Resample 2: churners 0.35, 0.8, 0.8 against stayers 0.1, 0.4, 0.4 -> (1 + 3 + 3) / 9.
    assert auc[1] == pytest.approx(7 / 9)
    counts = np.array([[0, 1, 2, 0, 1, 1]])  # churners 0.35, 0.35, 0.9; stayers 0.4, 0.4
    assert weighted_metrics(y, p, counts)["roc_auc"][0] == pytest.approx(2 / 6)


def test_every_resampled_metric_equals_compute_metrics_on_the_drawn_rows() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.2).astype(int)
    p = np.round(rng.random(400) + 0.4 * y, 1)  # coarse: many ties, as in the recency rule
    counts = resample_counts(y, 15, seed=2)
    got = weighted_metrics(y, p, counts)
    for b in range(len(counts)):
        rows = np.repeat(np.arange(len(y)), counts[b])
        want = compute_metrics(y[rows], p[rows])
        for m in BOOTSTRAP_METRICS:
            assert got[m][b] == pytest.approx(want[m], abs=1e-9), (m, b)
    # Stratified: every resample keeps the fold's number of churners and rows.
    assert (counts @ y == y.sum()).all() and (counts.sum(axis=1) == len(y)).all()


def _fold(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    model = rng.normal(size=n) + 1.2 * y
    baseline = rng.normal(size=n) + 1.0 * y
    return y, model, baseline


def test_interval_narrows_with_more_rows_and_is_reproducible() -> None:
    small = paired_bootstrap(*_fold(1000, 1)[:2], n_resamples=300)
    large = paired_bootstrap(*_fold(10000, 1)[:2], n_resamples=300)
    width = {k: r["roc_auc"].high - r["roc_auc"].low for k, r in
             (("small", small), ("large", large))}
    assert width["large"] < 0.5 * width["small"]  # ~1/sqrt(10) in theory
    assert small["roc_auc"].low < small["roc_auc"].estimate < small["roc_auc"].high
    again = paired_bootstrap(*_fold(1000, 1)[:2], n_resamples=300)
    assert again["roc_auc"] == small["roc_auc"]  # fixed seed


def test_paired_difference_has_its_own_interval_and_says_when_it_crosses_zero() -> None:
    y, model, baseline = _fold(3000, 2)
    out = paired_bootstrap(y, model, {"logistic": baseline}, truth=model + 0.3 * y,
                           n_resamples=400)
    diff = out["roc_auc_diff_vs_logistic"]
    assert diff.estimate == pytest.approx(
        compute_metrics(y, model)["roc_auc"] - compute_metrics(y, baseline)["roc_auc"])
    assert not diff.crosses_zero and diff.low > 0
    assert out["roc_auc_gap_vs_truth"].estimate > 0  # truth minus model
    assert diff.text(signed=True).startswith(f"+{diff.estimate:.3f} (95% CI +")
    same = paired_bootstrap(y, model, {"twin": model + 1e-9 * np.random.default_rng(0)
                                       .normal(size=len(y))}, n_resamples=200)
    assert same["roc_auc_diff_vs_twin"].crosses_zero


def test_rfm_columns_are_picked_by_name_and_skipped_with_a_note_when_absent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cols = pd.Index(["plan", "days_since_last_order", "orders_total", "orders_30d",
                     "order_value_total", "order_value_mean_90d", "nps_last", "tenure_days"])
    assert rfm_columns(cols) == ["days_since_last_order", "orders_total", "orders_30d",
                                 "order_value_total"]
    caplog.set_level(logging.INFO, logger="training.baselines")
    assert rfm_columns(["plan", "days_since_last_activity", "last_nps"]) == []
    assert "rfm_logistic baseline skipped: no frequency or monetary column" in caplog.text
