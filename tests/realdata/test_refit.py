"""Event-log training: select on purged cutoffs, then refit on every cutoff labelled in time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training.refit import BEFORE_REFIT, refit_cutoffs, selection_examples, train_event_log
from training.train import TrainConfig

MONTHS = list(pd.date_range("2011-01-01", "2011-09-01", freq="MS", tz="UTC"))


def examples(n: int = 250, seed: int = 0) -> pd.DataFrame:
    """Monthly rows whose churn depends on recency and on the orders so far."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, cutoff in enumerate(MONTHS):
        recency = rng.uniform(0, 90, n)
        orders = rng.poisson(1 + i, n).astype(float)
        logit = 0.03 * recency - 0.4 * orders + 0.5
        parts.append(pd.DataFrame({
            CUSTOMER_ID: [f"c{k}" for k in range(n)], CUTOFF: cutoff,
            "days_since_last_activity": recency, "orders_total": orders,
            LABEL: (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int),
        }))
    return pd.concat(parts, ignore_index=True)


def test_refit_uses_exactly_the_cutoffs_whose_label_is_known_before_the_test_cutoff():
    test = MONTHS[-1]
    chosen = refit_cutoffs(MONTHS, test, 90)
    assert [c.strftime("%m") for c in chosen] == ["01", "02", "03", "04", "05", "06"]
    assert all(c + pd.Timedelta(days=90) <= test for c in chosen)


def test_selection_keeps_the_purged_protocol_and_refuses_too_short_a_log():
    rows = selection_examples(examples(20), 90)
    kept = sorted(pd.unique(rows[CUTOFF]))
    assert [c.strftime("%m") for c in kept] == ["01", "02", "03", "06", "09"]
    short = examples(20)
    short = short[short[CUTOFF] >= MONTHS[5]]
    with pytest.raises(ConfigError, match="cutoffs"):
        selection_examples(short, 90)


@pytest.mark.slow
def test_the_final_model_learns_on_all_labelled_cutoffs_and_never_on_the_test_fold(
        tmp_path: Path):
    ex = examples()
    config = TrainConfig(horizon_days=90, write_plots=False, n_estimators=300)
    result = train_event_log(ex, None, config, tmp_path)
    split = result.split
    assert [c.strftime("%m") for c in split.train_cutoffs] == ["01", "02", "03", "04", "05", "06"]
    assert [c.strftime("%m") for c in split.test_cutoffs] == ["09"]
    assert len(split.train) == 6 * 250
    # same number of rounds as early stopping chose, no early stopping in the refit
    assert result.model.n_estimators == result.model.best_iteration_
    assert result.model.calibrator_ is None
    # the test fold is the untouched newest cutoff, scored by the refitted model
    assert set(result.report.test_frame[CUTOFF]) == {MONTHS[-1]}
    assert {"lightgbm", BEFORE_REFIT, "logistic", "recency_rule"} <= set(result.metrics)
    assert result.metrics["lightgbm"]["roc_auc"] > result.metrics["recency_rule"]["roc_auc"]
    # the final model's figures carry their intervals (the selection run's are not needed)
    assert {"roc_auc", "roc_auc_diff_vs_logistic"} <= set(result.report.intervals)
    written = pd.read_parquet(tmp_path / "test_predictions.parquet")
    assert np.allclose(written["p_churn"], result.report.test_frame["p_churn"])
