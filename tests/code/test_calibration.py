"""Calibration: chosen by cross-fitted log loss on the validation fold, strictly monotone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from cxchurn.errors import ConfigError
from training.calibration import (
    METHODS,
    InterpolatedIsotonic,
    choose_calibration,
    fit_calibrator,
    fit_interpolated_isotonic,
    fit_platt,
    sigmoid,
)


def _world(n: int, seed: int, slope: float = 1.0, shift: float = 0.0
           ) -> tuple[np.ndarray, np.ndarray]:
    """Raw log-odds and labels drawn from sigmoid(slope * raw + shift): calibrated at (1, 0)."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(-3.0, 1.2, n)
    y = (rng.random(n) < sigmoid(slope * raw + shift)).astype(int)
    return raw, y


# -------------------------------------------------------------- interpolated isotonic
def test_interpolated_isotonic_matches_a_hand_computation() -> None:
    # PAV on y = 0 | 1 0 | 1 1 1 (raw 0..5): blocks {0} rate 0, {1, 2} rate 1/2,
    # {3, 4, 5} rate 1, centres 0, 1.5 and 4. The end blocks hold one class, so they move
    # half a case inwards: 0 -> min(0.5 / 1, 0.5 / 2) = 0.25; 1 -> 1 - min(0.5 / 3, 0.5 / 2).
    cal = fit_interpolated_isotonic(np.arange(6.0), np.array([0, 1, 0, 1, 1, 1]))
    np.testing.assert_allclose(cal.centres, [0.0, 1.5, 4.0])
    np.testing.assert_allclose(cal.rates, [0.25, 0.5, 5 / 6])
    raw = np.array([-1.0, 0.0, 1.0, 1.5, 2.0, 4.0, 5.0])
    expected = [
        0.25 * sigmoid(-1.0) / sigmoid(0.0),  # below the first centre: the raw score's odds
        0.25,
        0.25 + (0.5 - 0.25) * (1.0 - 0.0) / 1.5,  # on the line from (0, .25) to (1.5, .5)
        0.5,
        0.5 + (5 / 6 - 0.5) * (2.0 - 1.5) / 2.5,  # on the line from (1.5, .5) to (4, 5/6)
        5 / 6,
        1 - (1 / 6) * sigmoid(-5.0) / sigmoid(-4.0),  # above the last centre
    ]
    np.testing.assert_allclose(cal(raw), expected, rtol=1e-12)


def test_block_centres_weigh_repeated_raw_scores() -> None:
    # raw 0, 0, 3 with y 1, 0, 0 pools into one block: rate 1/3 at centre (0 + 0 + 3) / 3 = 1
    cal = fit_interpolated_isotonic(np.array([0.0, 0.0, 3.0]), np.array([1, 0, 0]))
    np.testing.assert_allclose(cal.centres, [1.0])
    np.testing.assert_allclose(cal.rates, [1 / 3])


raw_scores = st.lists(st.integers(-8000, 4000), min_size=4, max_size=300).map(
    lambda v: np.array(v, dtype=float) / 1000.0)  # distinct scores >= 1e-3 apart, with ties


@settings(max_examples=60, deadline=None)
@given(raw=raw_scores, seed=st.integers(0, 2**16), method=st.sampled_from(METHODS[1:]))
def test_calibration_keeps_every_order_and_the_auc(raw: np.ndarray, seed: int,
                                                     method: str) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(len(raw)) < rng.uniform(0.05, 0.95)).astype(int)
    y[:2] = [0, 1]
    cal = fit_calibrator(method, raw, y)
    if cal is None:  # Platt with a slope <= 0 is refused: no calibration, the raw order
        return
    p = cal(raw)
    assert len(np.unique(p)) == len(np.unique(raw))
    assert roc_auc_score(y, p) == roc_auc_score(y, raw)
    grid = np.unique(np.round(np.r_[raw, np.linspace(-12.0, 8.0, 401)], 6))  # tails, gaps
    q = cal(grid)
    assert np.all(np.diff(q) >= 0)
    # strictly increasing wherever a double can tell the probabilities apart: a steep Platt
    # fit on a narrow range of scores reaches 1 - 1e-16 (rounds to 1), as sigmoid(40) does
    resolved = (q > 1e-300) & (q < 1 - 1e-9)
    assert np.all(np.diff(q[resolved]) > 0)


def test_top_100_never_tie_unless_their_raw_scores_do() -> None:
    raw, y = _world(5000, seed=3, slope=0.6, shift=-0.8)
    raw = np.round(raw, 3)  # ties in the raw score, as rows landing in the same leaves have
    cal = fit_interpolated_isotonic(raw, y)
    top = np.argsort(-raw, kind="stable")[:100]
    assert len(np.unique(cal(raw[top]))) == len(np.unique(raw[top]))
    old_style = np.round(cal(raw[top]), 12)
    assert len(np.unique(old_style)) == len(np.unique(raw[top]))


# ---------------------------------------------------------------------------- chooser
def test_an_already_calibrated_score_is_left_alone() -> None:
    raw, y = _world(4000, seed=0)
    report = choose_calibration(raw, y)
    assert report.chosen == "none"
    assert report.n_folds == 5
    assert set(report.candidates) == set(METHODS)
    for values in report.candidates.values():
        assert set(values) == {"log_loss", "brier", "ece"}


def test_a_miscalibrated_score_is_calibrated_and_its_log_loss_falls() -> None:
    raw, y = _world(4000, seed=1, slope=0.5, shift=-1.5)
    report = choose_calibration(raw, y)
    assert report.chosen in ("sigmoid", "isotonic")
    losses = {m: v["log_loss"] for m, v in report.candidates.items()}
    assert losses[report.chosen] < losses["none"] * (1 - report.margin)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), slope=st.floats(0.3, 2.0), shift=st.floats(-1.5, 1.5),
       n=st.integers(60, 1500))
def test_the_choice_never_raises_cross_fitted_log_loss(seed: int, slope: float, shift: float,
                                                        n: int) -> None:
    raw, y = _world(n, seed, slope, shift)
    report = choose_calibration(raw, y)
    if report.n_folds:
        loss = {m: v["log_loss"] for m, v in report.candidates.items()}
        assert loss[report.chosen] <= loss["none"]


def test_the_choice_depends_only_on_the_rows_given_and_its_seed() -> None:
    raw, y = _world(2000, seed=5, slope=0.7)
    first, again = choose_calibration(raw, y, seed=1), choose_calibration(raw, y, seed=1)
    assert first == again


def test_an_explicit_method_is_kept_and_still_reported() -> None:
    raw, y = _world(2000, seed=0)
    report = choose_calibration(raw, y, requested="isotonic")
    assert report.chosen == "isotonic"
    assert report.candidates["isotonic"]["log_loss"] > 0
    with pytest.raises(ConfigError, match="calibration must be 'auto' or one of"):
        choose_calibration(raw, y, requested="beta")


def test_too_few_churners_to_cross_fit_means_no_calibration() -> None:
    raw = np.linspace(-3, 0, 50)
    y = np.zeros(50, dtype=int)
    y[-1] = 1
    report = choose_calibration(raw, y)
    assert (report.chosen, report.n_folds, report.candidates) == ("none", 0, {})


def test_report_names_the_run_parameters_and_metrics() -> None:
    raw, y = _world(1500, seed=2, slope=0.5)
    report = choose_calibration(raw, y)
    assert report.params()["calibration_chosen"] == report.chosen
    metrics = report.metrics()
    for method in METHODS:
        assert metrics[f"calibration_logloss_{method}"] == report.candidates[method]["log_loss"]
        assert f"calibration_brier_{method}" in metrics and f"calibration_ece_{method}" in metrics
    assert report.chosen in report.summary()


def test_platt_with_a_reversed_score_is_refused() -> None:
    raw, y = _world(2000, seed=4)
    assert fit_platt(-raw, y) is None
    assert isinstance(fit_calibrator("isotonic", raw, y), InterpolatedIsotonic)
