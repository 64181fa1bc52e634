"""Time-dependent AUC and Harrell's C against counts done by hand on small frames."""

from __future__ import annotations

import numpy as np
import pytest

from training.survival_metrics import c_index_resampled, cumulative_dynamic_auc, harrell_c

# Five customers: churned in interval 1, 2, 2, 3 or not within 3 (time 4, censored).
TIME = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
EVENT = np.array([1, 1, 1, 1, 0])
SCORE = np.array([0.9, 0.4, 0.7, 0.5, 0.6])


def test_cumulative_dynamic_auc_by_hand() -> None:
    # k=1: case {0.9} vs controls {0.4, 0.7, 0.5, 0.6}: 4 of 4 pairs right.
    assert cumulative_dynamic_auc(TIME, EVENT, SCORE, 1) == 1.0
    # k=2: cases {0.9, 0.4, 0.7} vs controls {0.5, 0.6}: 0.9 beats 2, 0.4 beats 0, 0.7 beats 2.
    assert cumulative_dynamic_auc(TIME, EVENT, SCORE, 2) == pytest.approx(4 / 6)
    # k=3: cases {0.9, 0.4, 0.7, 0.5} vs control {0.6}: 0.9 and 0.7 beat it.
    assert cumulative_dynamic_auc(TIME, EVENT, SCORE, 3) == pytest.approx(2 / 4)


def test_auc_counts_ties_as_half() -> None:
    assert cumulative_dynamic_auc([1, 2], [1, 0], [0.5, 0.5], 1) == 0.5


def test_auc_refuses_censoring_inside_the_horizon() -> None:
    with pytest.raises(ValueError, match="censoring weights"):
        cumulative_dynamic_auc([1, 2, 3], [1, 0, 0], [0.1, 0.2, 0.3], 2)


def test_harrell_c_by_hand() -> None:
    # Comparable pairs (earlier event first): (0,1) (0,2) (0,3) (0,4) (1,3) (1,4) (2,3) (2,4)
    # (3,4); the tied event times 1 and 2 are not comparable. Concordant (earlier has the
    # higher score): (0,*) 4, (1,3) no, (1,4) no, (2,3) yes, (2,4) yes, (3,4) no -> 6 of 9.
    assert harrell_c(TIME, EVENT, SCORE) == pytest.approx(6 / 9)


def test_harrell_c_censored_at_the_same_time_is_comparable() -> None:
    # an event and a row censored at the same time: the censored one outlived it
    assert harrell_c([2, 2], [1, 0], [0.8, 0.2]) == 1.0
    assert harrell_c([2, 2], [1, 0], [0.2, 0.8]) == 0.0


def test_perfect_and_reversed_scores() -> None:
    risk = -TIME  # sooner churn, higher risk
    assert harrell_c(TIME, EVENT, risk) == 1.0
    assert harrell_c(TIME, EVENT, TIME) == 0.0


def test_resampled_c_equals_c_on_the_drawn_rows() -> None:
    rng = np.random.default_rng(3)
    time = rng.integers(1, 5, 40).astype(float)
    event = (time < 4).astype(int)
    score = rng.random(40)
    counts = rng.integers(0, 3, (6, 40))
    got = c_index_resampled(time, event, score, counts)
    for r in range(len(counts)):
        take = np.repeat(np.arange(40), counts[r])
        assert got[r] == pytest.approx(harrell_c(time[take], event[take], score[take]),
                                       rel=1e-6)
    assert c_index_resampled(time, event, score, np.ones((1, 40)))[0] == pytest.approx(
        harrell_c(time, event, score))
