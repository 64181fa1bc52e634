"""Drift (PSI, KS, chi-square) and CBPE figures against hand computations on tiny frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from cxchurn.errors import ConfigError
from training import cbpe
from training.drift import (
    DriftConfig,
    drift_table,
    numeric_bin_counts,
    psi,
    psi_from_shares,
    quantile_edges,
    two_sample_test,
)


def test_psi_from_shares_is_the_published_formula() -> None:
    hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi_from_shares(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(hand)
    assert hand == pytest.approx(0.274653, abs=1e-6)
    assert psi_from_shares(np.array([0.3, 0.7]), np.array([0.3, 0.7])) == 0.0


def test_numeric_bins_are_reference_quantiles_right_closed() -> None:
    ref = np.arange(1.0, 11.0)  # 1..10: the median 5 is the only edge of 2 bins
    assert quantile_edges(ref, 2).tolist() == [5.0]
    assert numeric_bin_counts(np.array([5.0, 5.1, np.nan]), np.array([5.0])).tolist() == [1, 1, 1]
    cur = np.array([1, 2, 3, 9, 10, 10, 10, 11], dtype=float)  # 3 | 5 -> 0.375 | 0.625
    hand = (0.375 - 0.5) * math.log(0.375 / 0.5) + (0.625 - 0.5) * math.log(0.625 / 0.5)
    assert psi(ref, cur, DriftConfig(n_bins=2)) == pytest.approx(hand)


def test_ties_merge_bins_of_a_mostly_zero_count() -> None:
    ref = np.array([0.0] * 8 + [1.0, 2.0])
    assert quantile_edges(ref, 10).tolist() == [0.0, 1.0]  # bins (-inf,0], (0,1], (1,inf)


def test_missing_values_are_a_bin_and_empty_bins_get_epsilon() -> None:
    ref = np.array([1.0, 2.0, 3.0, 4.0, np.nan])  # edge 2: shares 0.4 | 0.4 | missing 0.2
    cur = np.array([1.0, np.nan, np.nan, np.nan])  # 0.25 | 0 | 0.75
    eps = 1e-4
    hand = ((0.25 - 0.4) * math.log(0.25 / 0.4) + (eps - 0.4) * math.log(eps / 0.4)
            + (0.75 - 0.2) * math.log(0.75 / 0.2))
    assert psi(ref, cur, DriftConfig(n_bins=2, epsilon=eps)) == pytest.approx(hand)


def test_categories_are_compared_level_by_level_with_missing_as_a_level() -> None:
    ref = pd.Series(["a", "a", "b", None], dtype="object")
    cur = pd.Series(["a", "b", "b", "c"], dtype="object")
    # levels <missing>, a, b, c: reference .25 .5 .25 0, current 0 .25 .5 .25
    eps = 1e-4
    hand = ((eps - 0.25) * math.log(eps / 0.25) + (0.25 - 0.5) * math.log(0.25 / 0.5)
            + (0.5 - 0.25) * math.log(0.5 / 0.25) + (0.25 - eps) * math.log(0.25 / eps))
    assert psi(ref, cur) == pytest.approx(hand)
    # chi-square by hand: every expected count is half its column's total
    test, chi2, p_value, effect = two_sample_test(ref, cur)
    assert test == "chi2"
    assert chi2 == pytest.approx(8 / 3)
    assert p_value == pytest.approx(stats.chi2.sf(8 / 3, 3))
    assert effect == pytest.approx(math.sqrt((8 / 3) / 8))


def test_ks_statistic_is_the_largest_cdf_gap_with_missing_above_every_number() -> None:
    # CDFs at 2: 0.5 vs 0; at 4: 1 vs 2/5 (the missing value sits above 6): D = 0.6
    test, d, p_value, effect = two_sample_test(pd.Series([1.0, 2, 3, 4]),
                                               pd.Series([3.0, 4, 5, 6, np.nan]))
    assert (test, effect) == ("ks", d)
    assert d == pytest.approx(0.6)
    assert 0 < p_value <= 1
    assert two_sample_test(pd.Series([], dtype=float), pd.Series([1.0]))[1:] == (0.0, 1.0, 0.0)


def test_drift_table_flags_by_psi_or_by_a_test_with_an_effect_and_sorts() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    ref = pd.DataFrame({"stable": rng.normal(size=n), "shifted": rng.normal(size=n),
                        "plan": rng.choice(["a", "b"], n)})
    cur = pd.DataFrame({"stable": rng.normal(size=n), "shifted": rng.normal(1.0, 1.0, n),
                        "plan": rng.choice(["a", "b"], n)})
    table = drift_table(ref, cur, ["stable", "shifted", "plan"])
    assert table["feature"].tolist()[0] == "shifted"
    assert table.set_index("feature")["drifted"].to_dict() == {
        "shifted": True, "stable": False, "plan": False}
    assert table.set_index("feature").loc["plan", "test"] == "chi2"
    # a tiny shift on many rows: significant, but too small an effect to count as drift
    small = drift_table(ref, cur.assign(stable=cur["stable"] + 0.1), ["stable"],
                        DriftConfig(psi_threshold=0.5))
    assert small.loc[0, "p_value"] < 0.01 and not small.loc[0, "drifted"]
    with pytest.raises(ConfigError, match="not in both frames"):
        drift_table(ref, cur, ["nope"])
    with pytest.raises(ConfigError, match="psi_threshold"):
        DriftConfig(psi_threshold=0)


def test_expected_auc_by_hand_on_three_rows() -> None:
    # ranked 0.8 > 0.4 > 0.1: pairs p_i(1-p_j) above, plus half of each row with itself
    pairs = 0.8 * 0.6 + 0.8 * 0.9 + 0.4 * 0.9 + 0.5 * (0.8 * 0.2 + 0.4 * 0.6 + 0.1 * 0.9)
    hand = pairs / ((0.8 + 0.4 + 0.1) * (0.2 + 0.6 + 0.9))
    assert cbpe.expected_auc([0.4, 0.1, 0.8]) == pytest.approx(hand)
    assert hand == pytest.approx(1.805 / 2.21)
    fpr, tpr = cbpe.expected_roc_curve([0.4, 0.1, 0.8])
    assert fpr.tolist() == pytest.approx([0, 0.2 / 1.7, 0.8 / 1.7, 1])
    assert tpr.tolist() == pytest.approx([0, 0.8 / 1.3, 1.2 / 1.3, 1])
    assert cbpe.expected_auc([0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(cbpe.expected_auc([0.0, 0.0]))


def test_expected_lift_and_churn_rate_by_hand() -> None:
    p = [0.9] + [0.1] * 9  # the top decile is the 0.9 row: it holds 0.9 of 1.8 churners
    assert cbpe.expected_lift(p) == pytest.approx(0.5 / 0.1)
    est = cbpe.estimate(p)
    assert est["est_churn_rate"] == pytest.approx(0.18)
    assert est["est_lift_top_decile"] == pytest.approx(5.0)


def test_realised_auc_of_bernoulli_labels_averages_to_the_estimate() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(0.6, 8.0, 3000)  # a churn-like spread of calibrated probabilities
    realised = [roc_auc_score(rng.random(p.size) < p, p) for _ in range(200)]
    assert np.mean(realised) == pytest.approx(cbpe.expected_auc(p), abs=0.003)
    lifts = []
    for _ in range(200):
        y = (rng.random(p.size) < p).astype(float)
        top = np.argsort(-p)[:300]
        lifts.append(y[top].sum() / y.sum() / 0.1)
    assert np.mean(lifts) == pytest.approx(cbpe.expected_lift(p), rel=0.02)


def test_auc_interval_covers_the_realised_auc_of_bernoulli_labels() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 12.0, 8000)  # about 370 churners, as a 20,000-customer cutoff has
    low, high = cbpe.auc_interval(p)
    assert low < cbpe.expected_auc(p) < high
    realised = [roc_auc_score(rng.random(p.size) < p, p) for _ in range(200)]
    inside = np.mean([(low <= r <= high) for r in realised])
    assert 0.9 <= inside <= 0.99  # a 95% range, judged on labels it never saw
    assert high - low == pytest.approx(np.percentile(realised, 97.5)
                                       - np.percentile(realised, 2.5), rel=0.25)
    assert all(math.isnan(x) for x in cbpe.auc_interval([0.0, 0.0, 0.0]))


def _churn_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Calibrated churn probabilities: log-odds ~ N(-3.4, 1), about 4.5% churners, AUC 0.75."""
    return 1 / (1 + np.exp(-rng.normal(-3.4, 1.0, n)))


def _compressed(p: np.ndarray, slope: float = 0.85) -> np.ndarray:
    """The same ranking with log-odds squeezed towards their mean: a model whose spread is
    too small, as LightGBM's raw probability came out on the benchmark's worlds."""
    z = np.log(p / (1 - p))
    return 1 / (1 + np.exp(-(slope * (z - z.mean()) + z.mean())))


# The recalibration's own error: its slope is learned from the labelled rows. With 60,000 of
# them (about 2,900 churners) the expected AUC it gives moves by about 0.003 (sd over seeds);
# with 20,000 by about 0.006. The tolerance below is about three sd.
TOLERANCE = 0.01


def test_compressed_probabilities_underestimate_auc_and_recalibration_restores_it() -> None:
    rng = np.random.default_rng(7)
    true_valid, true_now = _churn_like(rng, 60000), _churn_like(rng, 10000)
    y_valid = (rng.random(true_valid.size) < true_valid).astype(int)
    squeezed = _compressed(true_now)
    expected = cbpe.expected_auc(true_now)
    assert cbpe.expected_auc(squeezed) < expected - 0.025  # the bias the monitor had
    recal = cbpe.fit_recalibration(_compressed(true_valid), y_valid, source="valid")
    fixed = recal(squeezed)
    assert cbpe.expected_auc(fixed) == pytest.approx(expected, abs=TOLERANCE)
    assert recal.platt.slope == pytest.approx(1 / 0.85, rel=0.08)
    assert np.array_equal(np.argsort(fixed, kind="stable"), np.argsort(squeezed, kind="stable"))
    # judged on labels it never saw: the mean realised AUC of fresh draws
    realised = [roc_auc_score(rng.random(true_now.size) < true_now, fixed) for _ in range(100)]
    assert np.mean(realised) == pytest.approx(cbpe.expected_auc(fixed), abs=TOLERANCE)
    assert recal.to_dict()["n"] == 60000 and recal.to_dict()["source"] == "valid"


def test_recalibration_leaves_calibrated_probabilities_nearly_alone() -> None:
    rng = np.random.default_rng(11)
    p = _churn_like(rng, 60000)
    recal = cbpe.fit_recalibration(p, (rng.random(p.size) < p).astype(int))
    assert recal.platt.slope == pytest.approx(1.0, abs=0.06)
    assert recal.platt.intercept == pytest.approx(0.0, abs=0.25)
    assert cbpe.expected_auc(recal(p)) == pytest.approx(cbpe.expected_auc(p), abs=TOLERANCE)

def test_recalibration_refuses_rows_that_cannot_support_it() -> None:
    with pytest.raises(ConfigError, match="3 probabilities but 2 labels"):
        cbpe.fit_recalibration([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ConfigError, match=r"\(valid\): labels must be 0/1"):
        cbpe.fit_recalibration([0.1, 0.2, 0.3], [0, 2, 1], source="valid")
    with pytest.raises(ConfigError, match="1 churners among 4 rows"):
        cbpe.fit_recalibration([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 1])
    with pytest.raises(ConfigError, match="does not rank churners above stayers"):
        cbpe.fit_recalibration([0.9, 0.8, 0.2, 0.1] * 5, [0, 0, 1, 1] * 5)
