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


# ----------------------------------------------------------------- by customer (clusters)


def test_a_customer_resample_takes_all_of_a_drawn_customers_rows_by_hand() -> None:
    # Three customers at two test cutoffs each: A (stays, then churns), B (stays twice),
    # C (churns twice).
    ids = np.array(["A", "A", "B", "B", "C", "C"])
    y = np.array([0, 1, 0, 0, 1, 1])
    p = np.array([0.2, 0.7, 0.3, 0.1, 0.6, 0.9])
    counts = resample_counts(y, 200, seed=3, clusters=ids)
    # one count per customer and resample: a customer comes with all its rows or none
    assert (counts[:, 0] == counts[:, 1]).all() and (counts[:, 2] == counts[:, 3]).all()
    assert (counts[:, 4] == counts[:, 5]).all()
    # stratified by customer: B (no churn row) is drawn once per resample, and A and C (the
    # customers with a churn row) twice between them
    assert (counts[:, 2] == 1).all() and ((counts[:, 0] + counts[:, 4]) == 2).all()
    # Hand computation for the resample {A, A, B}: churners 0.7, 0.7 against stayers
    # 0.2, 0.2, 0.3, 0.1: every pair won -> 1.0. For {C, C, B}: 0.6, 0.9 (twice each) against
    # 0.3, 0.1 -> 1.0. For {A, C, B}: churners 0.7, 0.6, 0.9 against 0.2, 0.3, 0.1 -> 1.0;
    # move C's first score under B's to see a loss: 0.25 beats 0.2 and 0.1, not 0.3.
    p2 = np.array([0.2, 0.7, 0.3, 0.1, 0.25, 0.9])
    hand = np.array([[2, 2, 1, 1, 0, 0], [0, 0, 1, 1, 2, 2], [1, 1, 1, 1, 1, 1]])
    auc = weighted_metrics(y, p2, hand)["roc_auc"]
    assert auc[0] == pytest.approx(1.0)
    # {C, C, B}: churners 0.25, 0.25, 0.9, 0.9 vs stayers 0.3, 0.1 -> (1+1+2+2)/8
    assert auc[1] == pytest.approx(6 / 8)
    # {A, B, C}: churners 0.7, 0.25, 0.9 vs stayers 0.2, 0.3, 0.1 -> (3 + 2 + 3) / 9
    assert auc[2] == pytest.approx(8 / 9)
    # and the random customer resamples score exactly what compute_metrics gives on the
    # rows they drew
    got = weighted_metrics(y, p, counts[:10])
    for b in range(10):
        rows = np.repeat(np.arange(len(y)), counts[b])
        if 0 < y[rows].sum() < len(rows):
            assert got["roc_auc"][b] == pytest.approx(compute_metrics(y[rows], p[rows])["roc_auc"])


def test_one_row_per_customer_is_the_row_bootstrap_draw_for_draw() -> None:
    y = _fold(2000, 5)[0]
    ids = np.array([f"c{i}" for i in range(len(y))])
    by_row = resample_counts(y, 100, seed=1)
    by_customer = resample_counts(y, 100, seed=1, clusters=ids)
    assert np.array_equal(by_row, by_customer)


def _clustered_fold(n_customers: int, n_cutoffs: int, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each customer keeps a latent risk across cutoffs (as in real test folds), part of it
    unseen by the scores, and each score's error is mostly the customer's own: one customer's
    rows agree with each other, so they are less evidence than as many customers."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_customers), n_cutoffs)

    def per_customer() -> np.ndarray:
        return rng.normal(size=n_customers)[ids]

    risk, unseen = per_customer(), per_customer()
    y = (rng.random(len(ids)) < 1 / (1 + np.exp(-(2 * risk + 1.5 * unseen - 3)))).astype(int)
    model = risk + 0.5 * per_customer() + 0.1 * rng.normal(size=len(ids))
    baseline = risk + 0.8 * per_customer() + 0.1 * rng.normal(size=len(ids))
    return ids, y, model, baseline


def test_on_clustered_rows_the_customer_interval_is_wider_than_the_row_interval() -> None:
    ids, y, model, baseline = _clustered_fold(600, 6, seed=0)
    rows = paired_bootstrap(y, model, {"b": baseline}, n_resamples=400)
    customers = paired_bootstrap(y, model, {"b": baseline}, n_resamples=400, clusters=ids)
    # six rows per customer would widen an interval by up to sqrt(6) ~ 2.4 if they agreed
    # completely; here they mostly do (measured ratios 1.4-2.0 over three seeds)
    for key in ("roc_auc", "roc_auc_diff_vs_b", "lift_top_decile", "pr_auc"):
        w_rows = rows[key].high - rows[key].low
        w_cust = customers[key].high - customers[key].low
        assert w_cust > 1.2 * w_rows, (key, w_rows, w_cust)
        assert customers[key].estimate == rows[key].estimate  # same figures, wider doubt


def test_customer_resampling_stays_fast() -> None:
    import time

    ids, y, model, baseline = _clustered_fold(5000, 5, seed=1)  # 25,000 rows
    start = time.perf_counter()
    paired_bootstrap(y, model, {"b": baseline}, n_resamples=1000, clusters=ids)
    # about 2 s here for two scores; the bound leaves room for a loaded machine
    assert time.perf_counter() - start < 30


def test_truth_minus_a_baseline_is_the_sum_of_the_gap_and_the_lead_draw_for_draw() -> None:
    # the headroom over a baseline: what any model could gain over it on these rows
    y, model, baseline = _fold(2000, 3)
    truth = model + 0.5 * y
    out = paired_bootstrap(y, model, {"logistic": baseline}, truth=truth, n_resamples=300)
    headroom = out["roc_auc_truth_vs_logistic"]
    auc = {k: compute_metrics(y, s)["roc_auc"] for k, s in
           (("truth", truth), ("logistic", baseline))}
    assert headroom.estimate == pytest.approx(auc["truth"] - auc["logistic"])
    gap, lead = out["roc_auc_gap_vs_truth"], out["roc_auc_diff_vs_logistic"]
    assert headroom.estimate == pytest.approx(gap.estimate + lead.estimate)
    assert headroom.low > lead.low and headroom.low > 0
