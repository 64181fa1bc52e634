"""One category level however it was typed, in training, at load and at the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import DataContractError
from features.load import load_customers
from serving.api.payload import columns_from_records, columns_from_table
from training.explain import FastModel
from training.infer_types import TypePlan, apply_types, infer_types, label_vector
from training.model import ChurnModel


def crm(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Churn depends on the segment; the segment is typed three ways."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["BİREYSEL", "bireysel", " Bireysel ", "KURUMSAL", "kurumsal"], n)
    corporate = np.char.find(np.char.lower(segment.astype(str)), "kurumsal") >= 0
    churn = rng.random(n) < np.where(corporate, 0.1, 0.5)
    return pd.DataFrame({"segment": segment, "calls": rng.poisson(2, n).astype(str),
                         "Churn": np.where(churn, "Yes", "No")})


def fitted(raw: pd.DataFrame) -> tuple[ChurnModel, TypePlan]:
    plan = infer_types(raw, "Churn")
    X = apply_types(raw, plan)
    X.attrs["category_fold"] = plan.fold
    y = label_vector(raw, plan)
    model = ChurnModel(n_estimators=30, min_child_samples=10, calibration=None).fit(X, y)
    return model, plan


def test_spellings_of_one_level_are_one_level_in_training_and_reported_once() -> None:
    raw = crm()
    plan = infer_types(raw, "Churn")
    col = next(c for c in plan.columns if c.name == "segment")
    assert dict(col.merges) == {"BİREYSEL": "bireysel", "Bireysel": "bireysel",
                                "KURUMSAL": "kurumsal"}
    assert col.reason.startswith("2 levels")
    assert plan.summary().count("merged spellings of one level") == 1
    assert set(apply_types(raw, plan)["segment"]) == {"bireysel", "kurumsal"}


def test_the_model_stores_the_rule_and_the_api_folds_posted_values_the_same_way() -> None:
    model, _ = fitted(crm())
    schema = model.feature_schema()
    assert schema["segment"] == {"type": "category", "categories": ["bireysel", "kurumsal"],
                                 "fold": "default"}
    fast = FastModel(model)
    rows = [{"segment": s, "calls": 2} for s in ("BİREYSEL", "bireysel", "  Bireysel")]
    columns, _ = columns_from_records(schema, rows)
    assert columns["segment"].tolist() == ["bireysel"] * 3
    p = fast.predict_churn(fast.matrix(columns))
    assert p[0] == p[1] == p[2]
    corporate, _ = columns_from_table(schema, ["segment", "calls"], [["KURUMSAL", 2]])
    assert fast.predict_churn(fast.matrix(corporate))[0] < p[0]


def test_stored_rows_are_folded_like_posted_ones() -> None:
    """An online store written from a table as given (``online materialize --table``)."""
    model, _ = fitted(crm())
    fast = FastModel(model)
    stored = pd.DataFrame({"segment": ["BİREYSEL", "bireysel", "KURUMSAL"], "calls": 2.0})
    p = fast.predict_churn(fast.matrix(stored))
    assert p[0] == p[1] and p[2] < p[0]
    assert fast.unseen_levels(stored) == {}


def test_a_model_whose_levels_were_never_folded_records_no_rule() -> None:
    X = pd.DataFrame({"segment": ["Premium", "Basic"] * 50, "calls": np.arange(100.0)})
    X.attrs["category_fold"] = "default"
    model = ChurnModel(n_estimators=5, min_child_samples=5, calibration=None).fit(
        X, np.arange(100) % 3 == 0)
    assert "fold" not in model.feature_schema()["segment"]


def test_event_mode_customers_attributes_are_folded_at_load(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    pd.DataFrame({"customer_id": ["c1", "c2", "c3"],
                  "signup_date": ["2024-01-01"] * 3,
                  "segment": ["BİREYSEL", "bireysel", "KURUMSAL"],
                  "price": [10.0, 12.5, 30.0]}).to_csv(path, index=False)
    loaded = load_customers(path)
    assert loaded.frame["segment"].tolist() == ["bireysel", "bireysel", "kurumsal"]
    assert loaded.frame["price"].tolist() == [10.0, 12.5, 30.0]
    assert loaded.merges == {"segment": {"bireysel": ["BİREYSEL", "bireysel"]}}
    assert "category spellings merged in ['segment']" in loaded.summary()


SCHEMA = {"balance": {"type": "float"}, "plan": {"type": "category", "categories": ["a"]}}


@pytest.mark.parametrize(("sent", "read"), [("619", 619.0), (" 12.5 ", 12.5), ("-3", -3.0),
                                            ("1e3", 1000.0), ("12,5", 12.5), ("0,25", 0.25),
                                            ("", None), (619, 619.0)])
def test_numeric_strings_are_read_as_numbers(sent: object, read: float | None) -> None:
    columns, _ = columns_from_records(SCHEMA, [{"balance": sent, "plan": "a"}])
    value = columns["balance"][0]
    assert (np.isnan(value) if read is None else value == read)


@pytest.mark.parametrize("sent", ["abc", "1,234", "12.5.1", "1 000"])
def test_text_that_is_not_a_number_is_refused_naming_the_feature_and_row(sent: str) -> None:
    rows = [{"balance": 1, "plan": "a"}, {"balance": sent, "plan": "a"}]
    with pytest.raises(DataContractError, match=r"feature 'balance' .* in row 1"):
        columns_from_records(SCHEMA, rows)
