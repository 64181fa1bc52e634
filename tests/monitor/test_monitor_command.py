"""``cxchurn monitor`` end to end, as a scheduler runs it: simulate, build, train, monitor.

What a data scientist relies on: after ``cxchurn train`` the command finds the champion's
training cutoffs, reports every newer cutoff of the build with drift, the estimated AUC and
(where labels have matured) the realised AUC, writes the files the page's model panel reads
and logs a run; and with no champion, or a build that lacks the training cutoffs, it stops
with a user error (exit code 2 from the console script) that says what to do.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn.cli import app
from cxchurn.errors import NotFoundError
from tests.api.trained_home import home_env
from training.monitor_commands import champion_record

pytestmark = pytest.mark.slow  # trains a model through the CLI once for the module


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("monitor_home")
    runner = CliRunner()
    with home_env(home):
        steps = [
            ["simulate", "--out", str(home / "world"), "--customers", "1500", "--seed", "5",
             "--no-progress"],
            ["features", "build", "--world", str(home / "world"), "--out",
             str(home / "features")],
            ["train", "--features", str(home / "features"), "--n-estimators", "60",
             "--no-plots", "--seed", "5"],
        ]
        for args in steps:
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args[0], result.output)
    return home


def test_monitor_reports_every_newer_cutoff_writes_its_files_and_logs_a_run(
        trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "monitor"
    with home_env(trained):
        result = CliRunner().invoke(app, ["monitor", "--features", str(trained / "features"),
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        runs = mlflow.search_runs(experiment_names=["cxchurn-monitor"])
        trained_on = champion_record("models:/cxchurn@champion").train_cutoffs
    assert len(runs) == 1 and runs["tags.run_type"].iloc[0] == "monitor"
    assert "reference AUC" in result.output and "files:" in result.output
    table = pd.read_csv(out / "monitor.csv")
    built = pd.read_parquet(trained / "features" / "features.parquet")
    cutoffs = sorted(built["cutoff"].dt.strftime("%Y-%m-%d").unique())
    newer = table["cutoff"].astype(str).tolist()
    assert newer == [c for c in cutoffs if c > max(trained_on)] and len(newer) >= 2
    assert table["est_roc_auc"].between(0.5, 1.0).all()
    labelled = table.dropna(subset=["realised_roc_auc"])
    assert len(labelled) >= 1 and labelled["realised_roc_auc"].between(0.5, 1.0).all()
    for name in ("drift.csv", "monitor.json", "monitor.png"):
        assert (out / name).stat().st_size > 0


def test_without_a_champion_monitor_stops_and_says_to_train(tmp_path: Path) -> None:
    with home_env(tmp_path):
        result = CliRunner().invoke(app, ["monitor", "--features", str(tmp_path)])
    assert isinstance(result.exception, NotFoundError)  # the console script: exit code 2
    assert "train one first (`cxchurn train`)" in str(result.exception)


def test_a_build_without_the_training_cutoffs_is_refused_by_name(trained: Path,
                                                                 tmp_path: Path) -> None:
    built = pd.read_parquet(trained / "features" / "features.parquet")
    newest = built["cutoff"].max()
    (tmp_path / "features").mkdir()
    built[built["cutoff"] == newest].to_parquet(tmp_path / "features" / "features.parquet")
    pd.read_parquet(trained / "features" / "labels.parquet").to_parquet(
        tmp_path / "features" / "labels.parquet")
    with home_env(trained):
        result = CliRunner().invoke(app, ["monitor", "--features", str(tmp_path / "features"),
                                          "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, NotFoundError)
    message = str(result.exception)
    assert "lacks" in message and "`cxchurn features build`" in message
