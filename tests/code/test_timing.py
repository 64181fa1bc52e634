"""The act-by date: where cumulative risk reaches the high band, minus the lead time."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from serving.timing import ACT_LEAD_DAYS, as_of_date, crossing_day, timing

HORIZONS = (30, 60, 90)
AS_OF = dt.date(2025, 7, 1)


def test_crossing_inside_the_first_interval_assumes_a_constant_daily_hazard() -> None:
    horizon, day = crossing_day([0.5, 0.7, 0.8], HORIZONS, 0.3)  # type: ignore[misc]
    assert horizon == 30
    # S(t) = 0.5 ** (t / 30) reaches 0.7 at t = 30 * ln 0.7 / ln 0.5
    assert day == pytest.approx(30 * math.log(0.7) / math.log(0.5))


def test_crossing_in_a_later_interval_starts_from_its_survival() -> None:
    horizon, day = crossing_day([0.1, 0.2, 0.5], HORIZONS, 0.3)  # type: ignore[misc]
    assert horizon == 90
    assert day == pytest.approx(60 + 30 * math.log(0.7 / 0.8) / math.log(0.5 / 0.8))


def test_never_reaching_the_threshold_gives_no_date() -> None:
    assert crossing_day([0.05, 0.1, 0.2], HORIZONS, 0.3) is None
    row = timing(np.array([[0.05, 0.1, 0.2]]), HORIZONS, 0.3, AS_OF, 1)[0]
    assert row == {"horizons": {"30": 0.05, "60": 0.1, "90": 0.2},
                   "leave_within_days": None, "act_by": None}


def test_act_by_is_the_crossing_day_minus_the_lead_time_never_before_as_of() -> None:
    rows = timing(np.array([[0.1, 0.2, 0.5], [0.9, 0.95, 0.97]]), HORIZONS, 0.3, AS_OF, 2)
    crossed = 60 + 30 * math.log(0.7 / 0.8) / math.log(0.5 / 0.8)
    assert rows[0]["leave_within_days"] == 90
    assert rows[0]["act_by"] == (AS_OF + dt.timedelta(
        days=math.floor(crossed) - ACT_LEAD_DAYS)).isoformat()
    assert rows[1] == {"horizons": {"30": 0.9, "60": 0.95, "90": 0.97},
                       "leave_within_days": 30, "act_by": AS_OF.isoformat()}


def test_a_model_without_horizons_answers_nulls() -> None:
    assert timing(None, (), 0.3, AS_OF, 2) == [
        {"horizons": None, "leave_within_days": None, "act_by": None}] * 2


def test_as_of_is_the_store_cutoff_date() -> None:
    assert as_of_date("2025-07-01T00:00:00+00:00") == AS_OF
    assert as_of_date(None) == dt.datetime.now(dt.UTC).date()
