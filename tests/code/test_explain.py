"""The one explainer: its float-matrix route, its driver selection and its value rendering.

The scoring API, the at-risk list and Spark all select drivers with ``top_drivers`` and show
values with ``plain``; these tests pin the rules and check the three outputs agree, on a small
model with a numeric, a boolean and a categorical feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serving.api.runtime import explain_matrix
from serving.retention.at_risk import build_book
from serving.retention.catalogue import load_catalogue
from training.bands import DEFAULT_BANDS, risk_band
from training.explain import FastModel, explain_rows, plain, shap_values, top_drivers
from training.model import ChurnModel
from training.spark_score import explain_partitions

FEATURES = ["plan", "annual", "late_deliveries_90d"]


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "premium"], n)
    annual = rng.random(n) < 0.4
    late = rng.poisson(1.5, n).astype(float)
    late[rng.random(n) < 0.1] = np.nan
    logit = -1.0 + 0.8 * np.nan_to_num(late) - 1.5 * annual + 1.0 * (plan == "basic")
    return pd.DataFrame({
        "customer_id": [f"C{seed}-{i}" for i in range(n)],
        "plan": plan, "annual": annual, "late_deliveries_90d": late,
        "tenure_days": 365.0, "order_value_180d": 120.0, "monthly_price": 20.0,
        "churned": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
    })


@pytest.fixture(scope="module")
def fitted() -> tuple[ChurnModel, pd.DataFrame]:
    train, valid = _rows(1500, 1), _rows(600, 2)
    model = ChurnModel(n_estimators=60, learning_rate=0.1, min_child_samples=20,
                       colsample_bytree=1.0).fit(train[FEATURES], train["churned"],
                                                 valid[FEATURES], valid["churned"])
    rows = _rows(60, 3)
    rows.loc[0, "plan"] = "a level nobody trained on"
    rows.loc[1, "plan"] = None
    return model, rows


def test_the_matrix_route_gives_lightgbms_own_pandas_numbers(fitted) -> None:
    model, rows = fitted
    X = rows[FEATURES]
    contrib = model.booster_.predict(model.prepare(X), pred_contrib=True,
                                     num_iteration=model.best_iteration_)
    values, base = shap_values(model, X)
    np.testing.assert_array_equal(values, contrib[:, :-1])
    assert base == contrib[0, -1]
    fast = FastModel(model)
    store_like = {f: X[f].to_numpy(dtype=object) for f in FEATURES}  # the API's columns
    for columns in (X, store_like):
        matrix = fast.matrix(columns)
        np.testing.assert_array_equal(fast.shap_values(matrix)[0], values)
        np.testing.assert_allclose(fast.predict_churn(matrix), model.predict_churn(X),
                                   rtol=0, atol=1e-12)
    assert fast.unseen_levels(X) == {"plan": 1}


def test_top_drivers_orders_ties_by_feature_order_and_drops_zeros() -> None:
    values = np.array([[0.0, -0.5, 0.5, 0.2, 0.0],
                       [0.0, 0.0, 0.0, 0.0, 0.0],
                       [0.3, -0.3, 0.3, -0.9, 0.1]])
    names = ["a", "b", "c", "d", "e"]
    columns = {n: [1.0, 2.0, 3.0] for n in names}
    picked = [[d.feature for d in row] for row in top_drivers(values, names, columns, 4)]
    assert picked == [["b", "c", "d"], [], ["d", "a", "b", "c"]]
    risers = top_drivers(values, names, columns, 2, raising_only=True)
    assert [[d.feature for d in row] for row in risers] == [["c", "d"], [], ["a", "c"]]
    first = top_drivers(values, names, columns, 1)[0][0]
    assert (first.value, first.shap, first.direction) == (1.0, -0.5, "lowers")


def test_plain_renders_numbers_text_booleans_and_no_data() -> None:
    assert [plain(v) for v in (3, np.int64(3), 2.5, np.float32(0.5))] == [3.0, 3.0, 2.5, 0.5]
    assert [plain(v) for v in (True, np.bool_(False), "basic")] == ["True", "False", "basic"]
    assert [plain(v) for v in (None, float("nan"), pd.NA, pd.NaT)] == [None] * 4


def test_api_at_risk_list_and_spark_show_the_same_driver_values(fitted) -> None:
    model, rows = fitted
    k = len(FEATURES)
    # the API: the online store's columns as object arrays, as ServingRuntime holds them
    fast = FastModel(model)
    store = {f: rows[f].to_numpy(dtype=object) for f in FEATURES}
    _, _, api = explain_matrix(fast, fast.matrix(rows), store, k, "en")
    # the at-risk list: the store frame and the training-side SHAP values
    values, _ = shap_values(model, rows[FEATURES])
    p = model.predict_churn(rows[FEATURES])
    book = build_book(rows, p, risk_band(p), values, FEATURES, load_catalogue(),
                      shown_reasons=k)
    # Spark: the mapInPandas function on one pandas batch
    batch = rows.assign(p_churn=p)
    [spark] = list(explain_partitions(model, ["customer_id"], k, DEFAULT_BANDS)(iter([batch])))

    seen = set()
    for i, cid in enumerate(rows["customer_id"]):
        api_values = {d["feature"]: d["value"] for d in api[i]}
        spark_values = {d["feature"]: d["value"] if d["value_text"] is None else d["value_text"]
                        for d in spark["drivers"].iloc[i]}
        assert api_values == spark_values
        for d in book.drivers[cid]:
            assert d["value"] == api_values[d["feature"]]
            seen.add((d["feature"], type(d["value"])))
    assert {("annual", str), ("plan", str), ("late_deliveries_90d", float)} <= seen
    assert {api[0][j]["value"] for j in range(k)} >= {"a level nobody trained on"}
    assert {api[i][j]["value"] for i in range(len(rows)) for j in range(k)
            if api[i][j]["feature"] == "annual"} == {"True", "False"}
    assert explain_rows(model, rows[FEATURES], k)[5] == top_drivers(
        values, FEATURES, rows, k)[5]
