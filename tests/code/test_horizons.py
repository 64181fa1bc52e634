"""Horizon labels and person-period rows: the point-in-time and censoring rules, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.labels import LabelConfig
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training.horizons import (
    INTERVAL,
    cumulative,
    horizon_labels,
    interval_bounds,
    parse_horizons,
    person_periods,
)

HORIZONS = (30, 60, 90)
C1, C2 = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-03-01", tz="UTC")
END = pd.Timestamp("2025-05-15", tz="UTC")  # C1 + 90 fits, C2 + 90 does not (C2 + 60 does)


def _events(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "event_time": pd.to_datetime([r[1] for r in rows], utc=True),
        "event_type": ["cancellation"] * len(rows), "channel": ["web"] * len(rows),
        "amount": np.nan, "score": np.nan, "duration": np.nan, "text": None})


def _keys() -> pd.DataFrame:
    return pd.DataFrame({CUSTOMER_ID: ["a", "b", "c", "a", "b", "c"],
                         CUTOFF: [C1, C1, C1, C2, C2, C2]})


def test_labels_at_every_horizon_and_censored_windows_stay_missing() -> None:
    # a cancels on day 40 after C2 (inside 60 days of C2); b exactly at C1 + 30 days (the
    # second window, half-open intervals); c never.
    events = _events([("a", "2025-04-10"), ("b", "2025-01-31")])
    keys = _keys()
    keys = keys[~((keys[CUSTOMER_ID] == "b") & (keys[CUTOFF] == C2))]  # b is gone by C2
    out = horizon_labels(events, keys, HORIZONS, LabelConfig(data_end=END))
    got = out.set_index([CUSTOMER_ID, CUTOFF])
    assert got.loc[("a", C1)].tolist() == [0, 0, 0]  # Apr 10 is past C1 + 90 days (Apr 1)
    assert got.loc[("b", C1)].tolist() == [0, 1, 1]
    assert got.loc[("c", C1)].tolist() == [0, 0, 0]
    a2 = got.loc[("a", C2)]
    assert a2["churned_30d"] == 0 and a2["churned_60d"] == 1
    assert pd.isna(a2["churned_90d"])  # C2 + 90 passes the data's end: unknown, never 0
    assert pd.isna(got.loc[("c", C2)]["churned_90d"])


def test_person_periods_drop_churned_and_censored_intervals() -> None:
    frame = pd.DataFrame({
        CUSTOMER_ID: ["x", "y", "z"], CUTOFF: [C1] * 3, "f": [1.0, 2.0, 3.0],
        "churned_30d": pd.array([1, 0, 0], dtype="Int8"),
        "churned_60d": pd.array([1, 1, 0], dtype="Int8"),
        "churned_90d": pd.array([1, 1, pd.NA], dtype="Int8")})
    rows = person_periods(frame, HORIZONS)
    got = {(r[CUSTOMER_ID], int(r[INTERVAL])): int(r[LABEL]) for _, r in rows.iterrows()}
    # x churned in interval 1 and leaves; y churned in interval 2; z's third window is
    # censored, so it has no row there (not a 0).
    assert got == {("x", 1): 1, ("y", 1): 0, ("y", 2): 1, ("z", 1): 0, ("z", 2): 0}


def test_cumulative_probabilities_never_fall_with_the_horizon() -> None:
    hazards = np.random.default_rng(0).random((200, 3))
    p = cumulative(hazards)
    assert (np.diff(p, axis=1) >= 0).all()
    assert p[:, 0] == pytest.approx(hazards[:, 0])
    assert p[:, 2] == pytest.approx(1 - np.prod(1 - hazards, axis=1))


def test_horizon_options_are_checked() -> None:
    assert parse_horizons("30,60,90") == HORIZONS
    assert interval_bounds(HORIZONS) == [(0, 30), (30, 60), (60, 90)]
    for bad in ("60,30", "30,30", "0,30", "thirty"):
        with pytest.raises(ConfigError, match="30,60,90"):
            parse_horizons(bad)


def test_non_contractual_churn_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="contractual"):
        horizon_labels(_events([]), _keys(), HORIZONS,
                       LabelConfig(kind="non_contractual", data_end=END))
