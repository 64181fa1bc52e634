"""The real scoring service over HTTP: scores, explanations, bad input, auth, reload.

One server (a subprocess on a free port, API key required) serves the session; expected
numbers come from the model exactly as training registered it, scored in this process.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math

import numpy as np
import pytest

from cxchurn.settings import DEFAULT_MAX_BATCH as MAX_BATCH
from tests.api.conftest import API_KEY
from tests.api.helpers import records, store_rows, table, training_model
from training.explain import shap_values
from training.pyfunc import model_frame

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(api_home):
    return training_model(api_home)


@pytest.fixture(scope="module")
def rows(api_home):
    return store_rows(api_home).sample(40, random_state=3).reset_index(drop=True)


def test_health_needs_no_key_and_metadata_describes_the_champion(service):
    assert service.get("/health", key=None).json() == {"status": "ok"}
    assert service.get("/ready").json() == {"ready": True, "reason": None}
    meta = service.get("/metadata").json()
    model = meta["model"]
    assert (model["model_name"], model["alias"], model["source"]) == (
        "cxchurn", "champion", "registry")
    assert model["model_version"].isdigit()  # the reload test may promote a newer one
    assert model["trained_at"] and model["spec_version"] not in ("", "unknown")
    assert "test_roc_auc" in model["metrics"]
    assert meta["online_store"]["ready"] and meta["online_store"]["n_customers"] > 100


def test_scores_by_id_equal_the_training_model_and_unknown_ids_do_not_fail_the_batch(
        service, model, rows):
    ids = rows["customer_id"].tolist()
    body = service.post("/score", {"customer_ids": [*ids[:20], "NO-SUCH-ID", *ids[20:]]})
    assert body.status_code == 200, body.text
    out = body.json()
    expected = model.predict_churn(model_frame(model, rows))
    got = {r["customer_id"]: r["p_churn"] for r in out["results"]}
    assert [got[c] for c in ids] == pytest.approx(expected, abs=1e-12)
    assert [e["customer_id"] for e in out["errors"]] == ["NO-SUCH-ID"]
    assert out["errors"][0]["row"] == 20 and "not in the online store" in out["errors"][0]["error"]
    assert out["model"]["version"] and out["model"]["source"] == "registry"
    bands = {r["risk_band"] for r in out["results"]}
    assert bands <= {"low", "medium", "high"}


@pytest.mark.parametrize("form", ["rows", "table"])
def test_posted_rows_score_like_the_training_model(service, model, rows, form):
    features = list(model.feature_names_)
    payload = ({"rows": records(rows, features)} if form == "rows"
               else {"table": table(rows, features)})
    response = service.post("/score", payload)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = model.predict_churn(model_frame(model, rows))
    assert [r["p_churn"] for r in results] == pytest.approx(expected, abs=1e-12)
    assert [r["customer_id"] for r in results] == rows["customer_id"].tolist()


def test_explanations_equal_treeshap_from_training(service, model, rows):
    ids = rows["customer_id"].tolist()[:10]
    response = service.post("/explain", {"customer_ids": ids, "top_k": 4})
    assert response.status_code == 200, response.text
    out = response.json()
    X = model_frame(model, rows.iloc[:10])
    values, base = shap_values(model, X)
    index = {f: j for j, f in enumerate(model.feature_names_)}
    for i, result in enumerate(out["results"]):
        assert result["customer_id"] == ids[i]
        assert result["base_value"] == pytest.approx(base, abs=1e-6)
        drivers = result["drivers"]
        assert len(drivers) == 4
        for d in drivers:
            assert d["shap"] == pytest.approx(values[i, index[d["feature"]]], abs=1e-6)
            assert d["direction"] == ("raises" if d["shap"] > 0 else "lowers")
            assert d["reason"]
        top = sorted(np.abs(values[i]), reverse=True)[:4]
        assert [abs(d["shap"]) for d in drivers] == pytest.approx(top, abs=1e-6)
    raw = model.raw_score(X)
    assert values.sum(axis=1) + base == pytest.approx(raw, abs=1e-6)


def test_reasons_come_in_english_and_turkish(service, rows):
    cid = rows["customer_id"].iloc[0]
    en = service.post("/explain", {"customer_ids": [cid], "top_k": 2, "lang": "en"}).json()
    tr = service.post("/explain", {"customer_ids": [cid], "top_k": 2, "lang": "tr"}).json()
    en_reason = en["results"][0]["drivers"][0]["reason"]
    tr_reason = tr["results"][0]["drivers"][0]["reason"]
    assert "churn risk" in en_reason
    assert "ayrılma riskini" in tr_reason


def test_an_unseen_category_is_scored_as_missing_and_the_answer_says_so(service, model, rows):
    feature = next(iter(model.categories_))
    row = _row(model, rows)
    unseen = dict(row, **{feature: "a level nobody trained on"})
    missing = dict(row, **{feature: None})
    for path in ("/score", "/explain"):
        out = service.post(path, {"rows": [unseen, missing, row]}).json()
        assert out["results"][0]["p_churn"] == pytest.approx(out["results"][1]["p_churn"])
        [warning] = out["warnings"]
        assert (warning["row"], warning["feature"]) == (0, feature)
        assert "not a level the model was trained on" in warning["warning"]
    assert service.post("/score", {"rows": [row]}).json()["warnings"] == []


def _row(model, rows):
    return records(rows.iloc[:1], list(model.feature_names_), with_id=False)[0]


def _numeric_feature(model):
    return next(f for f in model.feature_names_ if f not in model.categories_)


BAD = {
    "malformed JSON": (b'{"customer_ids": ["a"', 400, "Invalid JSON"),
    "empty batch": ({"customer_ids": []}, 400, "at least 1"),
    "oversized batch": ({"customer_ids": ["x"] * (MAX_BATCH + 1)}, 400, "at most"),
    "two inputs": ({"customer_ids": ["a"], "rows": [{}]}, 400, "exactly one of"),
    "no input": ({}, 400, "exactly one of"),
    "unknown field": ({"customer_ids": ["a"], "customers": 1}, 400, "Extra inputs"),
    "id not text": ({"customer_ids": [17]}, 400, "valid string"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_request_shape_errors_are_4xx_with_a_message(service, case):
    payload, status, message = BAD[case]
    if isinstance(payload, bytes):
        response = httpx_post_raw(service, "/score", payload)
    else:
        response = service.post("/score", payload)
    assert response.status_code == status, response.text
    assert message in response.text


def httpx_post_raw(service, path, body, content_type="application/json"):
    import httpx

    headers = {**service.headers(), "Content-Type": content_type}
    return httpx.post(service.url + path, content=body, headers=headers, timeout=60)


ROW_CASES = ["text for a number", "true for a number", "NaN", "infinity", "number for a "
             "category", "missing feature", "extra feature", "ragged table"]


@pytest.mark.parametrize("case", ROW_CASES)
def test_bad_feature_rows_get_422_saying_what_to_fix(service, model, rows, case):
    row = _row(model, rows)
    num = _numeric_feature(model)
    cat = next(iter(model.categories_))
    payload = None
    if case == "text for a number":
        row[num], message = "many", f"feature '{num}' must be a number or null"
    elif case == "true for a number":
        row[num], message = True, f"feature '{num}' must be a number or null"
    elif case == "NaN":
        row[num], message = math.nan, "send null when there is no data"
    elif case == "infinity":
        row[num], message = math.inf, "NaN and infinite values are not accepted"
    elif case == "number for a category":
        row[cat], message = 3.0, f"feature '{cat}' is categorical and must be text or null"
    elif case == "missing feature":
        del row[num]
        message = f"missing: ['{num}']"
    elif case == "extra feature":
        row["shoe_size"], message = 42.0, "unknown: ['shoe_size']"
    else:
        data = table(rows.iloc[:2], list(model.feature_names_))
        data["data"][1] = data["data"][1][:-1]
        payload, message = {"table": data}, "row 1 has"
    body = json.dumps(payload or {"rows": [row]}).encode()  # allows NaN/Infinity literals
    response = httpx_post_raw(service, "/score", body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    assert httpx_post_raw(service, "/explain", body).status_code == 422


def test_only_unknown_ids_still_answer_200_with_per_id_errors(service):
    out = service.post("/score", {"customer_ids": ["nobody-1", "nobody-2"]}).json()
    assert out["results"] == [] and [e["row"] for e in out["errors"]] == [0, 1]


def test_explain_parameters_are_validated(service):
    assert service.post("/explain", {"customer_ids": ["a"], "top_k": 0}).status_code == 400
    bad_lang = service.post("/explain", {"customer_ids": ["a"], "lang": "de"})
    assert bad_lang.status_code == 400 and "lang" in bad_lang.text


def test_non_json_body_gets_415(service):
    response = httpx_post_raw(service, "/score", b"customer_ids=a", "text/plain")
    assert response.status_code == 415 and "application/json" in response.json()["error"]


@pytest.mark.parametrize("path", ["/score", "/explain", "/reload", "/metadata", "/ready"])
def test_every_endpoint_but_health_needs_the_api_key(service, path):
    method = service.get if path in ("/metadata", "/ready") else service.post
    kwargs = {} if method == service.get else {"json": {"customer_ids": ["a"]}}
    for key in (None, "wrong-key"):
        response = method(path, key=key, **kwargs)
        assert response.status_code == 401, (path, key, response.text)
        assert "API key" in response.json()["error"]
    assert method(path, key=API_KEY, **kwargs).status_code in (200, 503)


def test_no_customer_data_in_the_log(service, rows):
    cid = rows["customer_id"].iloc[5]
    service.post("/score", {"customer_ids": [cid, "SECRET-UNKNOWN-ID"]})
    service.post("/score", {"customer_ids": [cid], "extra": "SECRET-FIELD-VALUE"})
    log = service.log_text()
    assert cid not in log and "SECRET-UNKNOWN-ID" not in log
    assert "SECRET-FIELD-VALUE" not in log


def test_reload_switches_to_a_newly_promoted_champion_without_dropping_requests(
        service, api_home, model, rows):
    from tests.api.trained_home import home_env
    from training import registry
    from training.pyfunc import log_churn_model

    ids = rows["customer_id"].tolist()[:5]
    before = service.post("/score", {"customer_ids": ids}).json()["model"]["version"]
    import mlflow

    from training.tracking import setup_tracking

    with home_env(api_home):
        with mlflow.start_run(experiment_id=setup_tracking(root=api_home)):
            info = log_churn_model(model, rows, registered_model_name="cxchurn")
        new_version = str(info.registered_model_version)
        registry.client().set_registered_model_alias("cxchurn", registry.CHAMPION, new_version)

    def score_once(_):
        return service.post("/score", {"customer_ids": ids}).status_code

    with cf.ThreadPoolExecutor(4) as pool:
        during = pool.map(score_once, range(40))
        reloaded = service.post("/reload")
        statuses = list(during)
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["model"]["model_version"] == new_version != before
    assert statuses == [200] * 40
    after = service.post("/score", {"customer_ids": ids}).json()
    assert after["model"]["version"] == new_version
