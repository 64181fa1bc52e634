"""The world's truth at several horizons: one expected path, read off at 30, 60 and 90 days."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from features.simulate import truth_column
from features.simulate_truth import TRUTH_HORIZONS


def test_truth_at_every_horizon_never_falls_and_agrees_with_the_world_horizon(
        default_world: Any) -> None:
    truth = default_world.truth_churn
    p = truth[[truth_column(h) for h in TRUTH_HORIZONS]].to_numpy()
    assert ((p > 0) & (p < 1)).all()
    assert (np.diff(p, axis=1) > 0).all()  # the life hazard alone makes it strictly grow
    own = default_world.config.horizon_days
    assert truth[truth_column(own)].to_numpy() == pytest.approx(truth["p_churn"].to_numpy(),
                                                                abs=0)


def test_truth_at_every_horizon_ranks_the_realised_churners(default_world: Any) -> None:
    """Over cutoffs whose 90 days lie inside the world, each horizon's truth ranks who churned
    within that horizon. (Its level runs below realised churn there: the truth cannot know
    the price rise of 2025-03-01, see ``simulate_truth``.)"""
    import pandas as pd

    from features.simulate import auc

    truth, events = default_world.truth_churn, default_world.events
    cancel = events[events["event_type"] == "cancellation"].groupby("customer_id")[
        "event_time"].min()
    end = pd.Timestamp(default_world.config.end, tz="UTC")
    inside = truth[truth["cutoff"] + pd.Timedelta(days=90) <= end]
    assert len(inside) > 1000
    when = inside["customer_id"].map(cancel)
    rates = []
    for h in TRUTH_HORIZONS:
        churned = (when >= inside["cutoff"]) & (when < inside["cutoff"] + pd.Timedelta(days=h))
        rates.append(churned.mean())
        assert auc(churned.to_numpy(dtype=int), inside[truth_column(h)].to_numpy()) > 0.7
    assert rates == sorted(rates)
