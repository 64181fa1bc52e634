"""``cxchurn drivers`` on a trained home: the files the service reads, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn.cli import app
from features.families import FAMILIES
from training.survey_drivers import EXPERIENCE

pytestmark = pytest.mark.slow  # trains a small model once per session


@pytest.fixture(scope="module")
def home(default_world: Any, default_examples: Any, tmp_path_factory: pytest.TempPathFactory
         ) -> Path:
    from tests.retention.home import shared_retention_home

    return shared_retention_home(tmp_path_factory, default_world, default_examples)


def test_drivers_command_writes_churn_and_survey_drivers(home: Path, tmp_path: Path) -> None:
    from tests.api.trained_home import home_env

    out = tmp_path / "drivers"
    with home_env(home):
        result = CliRunner().invoke(app, [
            "drivers", "--world", str(home / "world"), "--features", str(home / "features"),
            "--resamples", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "NPS drivers" in result.output and "share of SHAP mass" in result.output
    doc = json.loads((out / "drivers.json").read_text())
    assert doc["model_uri"] == "models:/cxchurn@champion"
    churn = pd.DataFrame(doc["churn"])
    assert set(churn["family"]) <= set(FAMILIES)
    assert churn.groupby("cutoff")["share"].sum().round(9).eq(1.0).all()
    assert churn["cutoff"].nunique() == pd.read_parquet(home / "features" / "examples.parquet")[
        "cutoff"].nunique()
    surveys = {s["survey"]: s for s in doc["surveys"]}
    assert set(surveys) == {"nps", "csat"}
    for survey in surveys.values():
        families = pd.DataFrame(survey["families"])
        assert families["rank"].tolist() == list(range(1, len(families) + 1))
        assert set(families["family"]) == set(EXPERIENCE)
        assert families["share"].sum() == pytest.approx(1.0)
        assert (families["share_ci_low"] <= families["share_ci_high"]).all()
        assert survey["n_answers"] > 1000
    for name in ("churn_drivers.csv", "survey_drivers.csv", "survey_driver_features.csv",
                 "drivers.png"):
        assert (out / name).stat().st_size > 0


def test_drivers_command_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["drivers", "--world", str(tmp_path), "--no-churn"])
    assert result.exit_code != 0
    assert "has no world.json" in str(result.exception) + result.output
    result = CliRunner().invoke(app, ["drivers", "--no-churn"])
    assert "give --world DIR" in str(result.exception) + result.output
