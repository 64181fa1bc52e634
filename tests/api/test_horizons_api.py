"""Churn over several horizons and the act-by date, over HTTP from the real service, and the
null answer of a champion trained before horizon models existed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from serving.timing import ACT_LEAD_DAYS, timing
from tests.api.conftest import copy_home
from tests.api.helpers import records, store_rows, training_model
from training.horizons import attached

pytestmark = pytest.mark.slow
HIGH_FROM = 0.3  # the default risk bands' high edge


@pytest.fixture(scope="module")
def model(api_home):
    return training_model(api_home)


@pytest.fixture(scope="module")
def rows(api_home, model):
    table = store_rows(api_home)
    p90 = attached(model).predict(table)[:, -1]
    # some customers who pass the high band within 90 days and some who do not
    order = np.argsort(-p90)
    return table.iloc[np.r_[order[:15], order[-15:]]].reset_index(drop=True)


def _store_date(api_home: Path) -> dt.date:
    from serving.api.online_store import OnlineStore, store_path

    return dt.datetime.fromisoformat(str(OnlineStore.load(store_path(api_home)).meta[
        "cutoff"])).date()


def test_scores_by_id_carry_the_registered_horizon_model_and_act_by(service, api_home,
                                                                    model, rows):
    horizon_model = attached(model)
    assert horizon_model is not None and horizon_model.horizons == (30, 60, 90)
    ids = rows["customer_id"].tolist()
    out = service.post("/score", {"customer_ids": ids}).json()["results"]
    expected = horizon_model.predict(rows)
    want = timing(expected, horizon_model.horizons, HIGH_FROM, _store_date(api_home), len(ids))
    for r, e, w in zip(out, expected, want, strict=True):
        got = [r["horizons"][k] for k in ("30", "60", "90")]
        assert got == pytest.approx(e, abs=1e-12)
        assert got == sorted(got)  # never lower for a longer horizon
        assert (r["leave_within_days"], r["act_by"]) == (w["leave_within_days"], w["act_by"])
    risky = [r for r in out if r["act_by"] is not None]
    calm = [r for r in out if r["act_by"] is None]
    assert risky and calm
    store_day = _store_date(api_home)
    for r in risky:
        by = dt.date.fromisoformat(r["act_by"])
        assert store_day <= by <= store_day + dt.timedelta(days=r["leave_within_days"]
                                                           - ACT_LEAD_DAYS)
        assert r["horizons"][str(r["leave_within_days"])] >= HIGH_FROM
    for r in calm:
        assert r["leave_within_days"] is None and r["horizons"]["90"] < HIGH_FROM


def test_explain_answers_the_same_timing_as_score(service, rows):
    ids = rows["customer_id"].tolist()[:10]
    scored = service.post("/score", {"customer_ids": ids}).json()["results"]
    explained = service.post("/explain", {"customer_ids": ids, "top_k": 2}).json()["results"]
    for s, e in zip(scored, explained, strict=True):
        assert (e["horizons"], e["leave_within_days"], e["act_by"]) == (
            s["horizons"], s["leave_within_days"], s["act_by"])


def test_posted_rows_get_horizons_and_an_act_by_date_from_today(service, model, rows):
    features = list(model.feature_names_)
    out = service.post("/score", {"rows": records(rows, features)}).json()["results"]
    expected = attached(model).predict(rows)
    today = dt.datetime.now(dt.UTC).date()
    for r, e in zip(out, expected, strict=True):
        assert [r["horizons"][k] for k in ("30", "60", "90")] == pytest.approx(e, abs=1e-12)
        if r["act_by"] is not None:
            assert dt.date.fromisoformat(r["act_by"]) >= today


def test_a_champion_without_a_horizon_model_still_serves_with_nulls(trained_home, tmp_path):
    from serving.api.runtime import ServingRuntime
    from serving.api.schemas import ScoreInput, ScoreOutput
    from serving.api.service import score_body
    from tests.api.trained_home import home_env

    home = copy_home(trained_home, tmp_path / "home")
    with home_env(home):
        runtime = ServingRuntime(home=home)
        assert runtime.start()["ready"]
        # a model pickled before horizon models existed has no such attribute
        del runtime.model.horizons_
        ids = store_rows(home)["customer_id"].head(5).tolist()
        out = score_body(runtime, ScoreInput(customer_ids=ids))
    assert len(out["results"]) == 5
    for r in out["results"]:
        assert (r["horizons"], r["leave_within_days"], r["act_by"]) == (None, None, None)
        assert 0 < r["p_churn"] < 1
    ScoreOutput.model_validate(out)  # the documented schema allows the nulls
