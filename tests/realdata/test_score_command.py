"""`cxchurn score`: a new customer table scored with the registered model, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from tests.api.trained_home import home_env
from training.infer_types import apply_types, infer_types, label_vector
from training.model import ChurnModel
from training.pyfunc import log_churn_model
from training.tracking import setup_tracking


def crm(n: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    segment = rng.choice(["Bireysel", "KURUMSAL"], n)
    calls = rng.poisson(2, n)
    churn = rng.random(n) < np.where(segment == "KURUMSAL", 0.1, 0.3) + 0.1 * (calls > 2)
    return pd.DataFrame({"cust": [f"K{i:04d}" for i in range(n)],
                         "segment": segment, "calls": calls.astype(str),
                         "paperless": rng.choice(["Yes", "no"], n),
                         "Churn": np.where(churn, "Yes", "No")})


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[str]:
    """A small snapshot model registered as champion of 'cxchurn-crm' in a fresh home."""
    raw = crm().astype(str)
    plan = infer_types(raw, "Churn", "cust")
    X = apply_types(raw, plan)
    X.attrs["category_fold"] = plan.fold
    model = ChurnModel(n_estimators=40, min_child_samples=10, calibration=None).fit(
        X, label_vector(raw, plan))
    model.type_plan_ = plan.to_dict()
    home = tmp_path / "home"
    home.mkdir()
    # A fresh store and experiment, and MLflow's globals put back after (other tests in this
    # worker may have left an active experiment of another store behind).
    with home_env(home):
        with mlflow.start_run(experiment_id=setup_tracking("score-test", root=home)):
            info = log_churn_model(model, X, registered_model_name="cxchurn-crm")
        MlflowClient().set_registered_model_alias("cxchurn-crm", "champion",
                                                  str(info.registered_model_version))
        yield "cxchurn-crm"


def invoke(*args: str):
    from cxchurn.cli import app

    return CliRunner().invoke(app, ["score", *args])


def test_a_new_table_is_scored_with_bands_and_reasons(registered: str, tmp_path: Path) -> None:
    new = crm(n=30, seed=9).drop(columns="Churn")
    new.loc[0, "segment"] = "BİREYSEL"  # spelled otherwise than in training: same level
    new.loc[1, "segment"] = "bireysel"
    new.loc[[0, 1], ["calls", "paperless"]] = [["3", "no"], ["3", "no"]]
    src, out = tmp_path / "new.csv", tmp_path / "scores" / "scores.xlsx"
    new.to_csv(src, index=False)
    result = invoke("--model", registered, "--table", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    scores = pd.read_excel(out)
    assert scores["customer_id"].tolist() == new["cust"].tolist()
    assert scores["p_churn"].between(0, 1).all()
    assert set(scores["risk_band"]) <= {"low", "medium", "high"}
    assert scores.loc[0, "p_churn"] == scores.loc[1, "p_churn"]
    assert {"driver_1", "driver_1_value", "driver_1_reason", "driver_3_reason"} <= set(scores)
    assert scores["driver_1"].isin(["segment", "calls", "paperless"]).all()
    assert scores["driver_1_reason"].str.contains("churn risk").all()
    assert "risk bands:" in result.output


def test_a_missing_column_names_the_file_the_column_and_the_fix(registered: str,
                                                                tmp_path: Path) -> None:
    src = tmp_path / "new.csv"
    crm(n=10).drop(columns=["Churn", "calls"]).to_csv(src, index=False)
    result = invoke("--model", registered, "--table", str(src), "--out",
                    str(tmp_path / "s.csv"))
    assert result.exit_code == 2
    assert "'new.csv' lacks column(s) ['calls']" in result.output
    assert "rename the columns" in result.output
    assert not (tmp_path / "s.csv").exists()


def test_wrong_inputs_are_refused_before_any_work(registered: str, tmp_path: Path) -> None:
    both = invoke("--model", registered, "--table", "t.csv", "--customers", "c.csv",
                  "--out", str(tmp_path / "s.csv"))
    assert both.exit_code == 2 and "not both" in both.output
    suffix = invoke("--model", registered, "--table", "t.csv", "--out", str(tmp_path / "s.txt"))
    assert suffix.exit_code == 2 and "unsupported suffix" in suffix.output
    unknown = invoke("--model", "nope", "--table", "t.csv", "--out", str(tmp_path / "s.csv"))
    assert unknown.exit_code == 2 and "--model 'nope'" in unknown.output
