"""Type inference on messy customer tables: what a user with a CRM extract would hit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, DataContractError
from training.infer_types import apply_types, customer_ids, infer_types, label_vector


def messy() -> pd.DataFrame:
    """As read from CSV with dtype=str: blanks, ' ', Yes/no in mixed case, case variants."""
    return pd.DataFrame({
        "id": ["a1", "a2", "a3", "a4", "a5", "a6"],
        "charges": ["10.5", " ", "20", "", "1e2", "7"],
        "senior": ["Yes", "no", "YES", "No", "yes", ""],
        "plan": ["Basic", "basic", "Premium", "BASIC", "Premium", "Plus"],
        "joined": ["2024-01-01", "2024-06-30", "", "2023-12-31", "2024-01-31", "2024-02-01"],
        "constant": ["x"] * 6,
        "Churn": ["Yes", "No", "no", "YES", "No", "No"],
    })


def kinds(plan) -> dict[str, str]:
    return {c.name: c.kind for c in plan.columns}


def test_blank_cells_in_a_numeric_column_become_missing_and_are_counted():
    plan = infer_types(messy(), "Churn", "id")
    col = next(c for c in plan.columns if c.name == "charges")
    assert col.kind == "numeric"
    assert col.n_missing == 2
    assert "2 blank/NA cell(s) read as missing" in col.notes[0]
    X = apply_types(messy(), plan)
    assert X["charges"].tolist()[0] == 10.5
    assert np.isnan(X["charges"].iloc[1]) and np.isnan(X["charges"].iloc[3])
    assert X["charges"].iloc[4] == 100.0


def test_yes_no_in_any_case_is_boolean_and_the_label_is_read_the_same_way():
    raw = messy()
    plan = infer_types(raw, "Churn", "id")
    assert kinds(plan)["senior"] == "boolean"
    X = apply_types(raw, plan)
    assert X["senior"].tolist()[:5] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert np.isnan(X["senior"].iloc[5])
    assert plan.positive == "yes"
    assert label_vector(raw, plan).tolist() == [1, 0, 0, 1, 0, 0]


def test_case_variants_of_a_category_are_folded_to_one_level_and_reported():
    plan = infer_types(messy(), "Churn", "id")
    col = next(c for c in plan.columns if c.name == "plan")
    assert col.kind == "categorical"
    assert dict(col.merges) == {"BASIC": "basic", "Basic": "basic"}
    assert "merged spellings of one level" in plan.summary()
    assert apply_types(messy(), plan)["plan"].tolist() == [
        "basic", "basic", "premium", "basic", "premium", "plus"]


def test_dates_become_ages_in_days_at_the_latest_date_and_constants_are_dropped():
    plan = infer_types(messy(), "Churn", "id")
    assert kinds(plan)["joined"] == "date"
    assert kinds(plan)["constant"] == "dropped"
    X = apply_types(messy(), plan)
    assert "constant" not in X.columns
    assert X["joined"].iloc[1] == 0.0  # 2024-06-30 is the latest date
    assert X["joined"].iloc[0] == 181.0
    assert np.isnan(X["joined"].iloc[2])


def test_a_mostly_numeric_column_with_text_is_refused_with_the_fix_named():
    raw = pd.DataFrame({"v": [str(i) for i in range(19)] + ["twelve"],
                        "Churn": ["1", "0"] * 10})
    with pytest.raises(DataContractError, match=r"--numeric v.*--categorical v"):
        infer_types(raw, "Churn")
    plan = infer_types(raw, "Churn", numeric=["v"])
    col = plan.columns[0]
    assert col.kind == "numeric" and col.n_missing == 1
    assert "'twelve'" in col.notes[0]
    assert np.isnan(apply_types(raw, plan)["v"].iloc[-1])


def test_overrides_change_the_type_and_unknown_columns_are_refused():
    raw = messy()
    plan = infer_types(raw, "Churn", "id", categorical=["charges"], drop=["joined"])
    assert kinds(plan)["charges"] == "categorical"
    assert kinds(plan)["joined"] == "dropped"
    with pytest.raises(ConfigError, match="nope"):
        infer_types(raw, "Churn", "id", numeric=["nope"])


def test_label_problems_are_errors_not_guesses():
    raw = messy()
    raw.loc[2, "Churn"] = " "
    with pytest.raises(DataContractError, match="blank in 1 row"):
        infer_types(raw, "Churn", "id")
    raw = messy().assign(Churn=["left", "stayed"] * 3)
    with pytest.raises(ConfigError, match="--positive"):
        infer_types(raw, "Churn", "id")
    plan = infer_types(raw, "Churn", "id", positive="Left")
    assert label_vector(raw, plan).tolist() == [1, 0, 1, 0, 1, 0]
    with pytest.raises(ConfigError, match="not a value"):
        infer_types(raw, "Churn", "id", positive="gone")


def test_duplicate_ids_are_refused_and_missing_ids_become_row_numbers():
    raw = messy()
    raw.loc[1, "id"] = "a1"
    with pytest.raises(DataContractError, match="1 duplicate"):
        infer_types(raw, "Churn", "id")
    plan = infer_types(messy(), "Churn")
    assert customer_ids(messy(), plan).tolist()[:2] == ["row-1", "row-2"]
    assert kinds(plan)["id"] == "dropped"  # every value distinct: an identifier, not a feature
