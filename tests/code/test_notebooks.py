"""The review notebook runs top to bottom against a freshly trained champion."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_toy_examples

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "model_review.ipynb"


@pytest.mark.slow
def test_model_review_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from training.job import run_training
    from training.train import TrainConfig

    features = tmp_path / "features"
    features.mkdir()
    make_toy_examples(n_customers=600, nonlinear=True).to_parquet(features / "examples.parquet")
    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)  # set_experiment exports it
    config = TrainConfig(n_estimators=60, learning_rate=0.1, write_plots=False)
    assert run_training(features, config=config).decision.promoted

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert "models:/cxchurn@champion" in text
    assert "roc_auc" in text and "mean_abs_shap" in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # ROC, PR, gain/lift, calibration, SHAP summary
    assert (tmp_path / "reports" / "review" / "plots" / "roc.png").exists()
