"""Relative weights (Johnson 2000) against a hand computation, and the churn SHAP family shares
against sums done by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.churn_drivers import family_contributions, family_shares
from training.relative_weights import relative_weights, weights_from_correlations


def test_two_correlated_predictors_match_the_hand_computation() -> None:
    # r12 = 0.5, r1y = 0.6, r2y = 0.3. By hand: R = Q diag(1.5, 0.5) Q', Q = [[1, 1], [1, -1]]
    # / sqrt 2, so Lambda = [[a, b], [b, a]] with a = (sqrt 1.5 + sqrt 0.5) / 2 = 0.965926,
    # b = (sqrt 1.5 - sqrt 0.5) / 2 = 0.258819; beta = Lambda^-1 r = (0.579555, 0.155292);
    # eps1 = a^2 b1^2 + b^2 b2^2 = 0.315, eps2 = b^2 b1^2 + a^2 b2^2 = 0.045; R^2 =
    # (0.36 + 0.09 - 2 * 0.6 * 0.3 * 0.5) / (1 - 0.25) = 0.36 = eps1 + eps2.
    eps = weights_from_correlations(np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([0.6, 0.3]))
    assert eps == pytest.approx([0.315, 0.045], abs=1e-6)


def test_uncorrelated_predictors_get_their_squared_correlations() -> None:
    eps = weights_from_correlations(np.eye(3), np.array([0.5, -0.3, 0.1]))
    assert eps == pytest.approx([0.25, 0.09, 0.01])


def test_weights_add_up_to_the_regressions_r2_on_data() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 1))
    x = np.column_stack([z[:, 0] + rng.normal(size=2000) * 0.5, rng.normal(size=2000),
                         z[:, 0], np.ones(2000)])  # the last column is constant
    y = 2 * x[:, 0] - x[:, 1] + rng.normal(size=2000)
    eps = relative_weights(x, y)
    design = np.column_stack([np.ones(2000), x[:, :3]])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r2 = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert eps.sum() == pytest.approx(r2, abs=1e-9)
    assert eps[3] == 0.0 and (eps >= 0).all()


def test_row_counts_weigh_rows_like_repeating_them() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    y = x @ [1.0, 0.5, 0.0] + rng.normal(size=50)
    counts = rng.integers(0, 3, 50)
    repeated = np.repeat(np.arange(50), counts)
    assert relative_weights(x, y, counts.astype(float)) == pytest.approx(
        relative_weights(x[repeated], y[repeated]))


def test_missing_values_are_refused_with_the_fix() -> None:
    with pytest.raises(Exception, match="impute"):
        relative_weights(np.array([[1.0], [np.nan], [2.0]]), np.array([1.0, 2.0, 3.0]))


def test_family_shares_are_sums_of_absolute_shap_by_family() -> None:
    values = np.array([[0.5, -0.2, 0.1], [-0.1, 0.4, 0.0]])
    names, contrib = family_contributions(
        values, ["late", "tickets", "late_share"],
        {"late": "delivery", "tickets": "service", "late_share": "delivery"})
    assert names == ["delivery", "service"]
    assert contrib == pytest.approx(np.array([[0.6, -0.2], [-0.1, 0.4]]))
    table = family_shares(contrib, names, n_resamples=100).set_index("family")
    # |SHAP| mass: delivery 0.6 + 0.1 = 0.7, service 0.2 + 0.4 = 0.6 -> 7/13 and 6/13
    assert table.loc["delivery", "share"] == pytest.approx(7 / 13)
    assert table.loc["service", "raising_share"] == pytest.approx(0.4 / 1.0)
    assert table.loc["delivery", "mean_shap"] == pytest.approx(0.25)
    assert (table["share_ci_low"] <= table["share"]).all()
    assert (table["share"] <= table["share_ci_high"]).all()
    assert isinstance(table, pd.DataFrame)


def test_chance_adjustment_removes_what_noise_predictors_get_in_a_small_sample() -> None:
    from training.relative_weights import adjusted_weights

    rng = np.random.default_rng(2)
    raw_noise, adjusted_noise = [], []
    for _ in range(200):
        x = rng.normal(size=(100, 11))
        y = x[:, 0] + rng.normal(size=100) * 2  # only the first predictor matters
        raw = relative_weights(x, y)
        raw_noise.append(raw[1:].sum())
        groups = np.zeros((11, 2))
        groups[0, 0] = groups[1:, 1] = 1.0  # the signal, and the ten noise predictors
        adjusted = adjusted_weights(raw, 100, groups)
        adjusted_noise.append(adjusted[1])
        assert adjusted[0] == pytest.approx(raw[0] - (1 - raw.sum()) / (100 - 11 - 1))
    # ten noise predictors in 100 answers get about 10 x 0.8 / 99 = 0.08 of R2 by chance
    assert np.mean(raw_noise) == pytest.approx(0.08, abs=0.02)
    assert np.mean(adjusted_noise) < 0.25 * np.mean(raw_noise)
