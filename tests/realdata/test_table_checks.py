"""Snapshot tables: label values, identifier columns, duplicates and one folder per run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, DataContractError
from training.infer_types import infer_types, label_vector
from training.run_dirs import latest_run_dir, link_latest, new_run_dir


def bank(n: int = 60) -> pd.DataFrame:
    """Shaped like the bank churn table: row numbers, customer numbers, surnames."""
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "RowNumber": [str(i + 1) for i in range(n)],
        "CustomerId": [str(v) for v in rng.choice(np.arange(15_000_000, 16_000_000), n,
                                                 replace=False)],
        "Surname": [f"Name{i}" for i in range(n)],
        "Age": [str(v) for v in rng.integers(18, 60, n)],
        "Balance": [f"{v:.2f}" for v in rng.uniform(0, 1e5, n)],
        "Exited": ["0", "1", "2"] * (n // 3),
    })


def test_extra_label_values_with_positive_are_an_error_listing_them() -> None:
    raw = bank()
    with pytest.raises(ConfigError) as err:
        infer_types(raw, "Exited", positive="1")
    text = str(err.value)
    assert "'0' (20 rows), '2' (20 rows)" in text
    assert "--negative 0 --negative 2" in text
    with pytest.raises(ConfigError, match=r"'2' \(20 rows\)"):
        infer_types(raw, "Exited", positive="1", negatives=["0"])
    plan = infer_types(raw, "Exited", positive="1", negatives=["0", "2"])
    assert plan.negatives == ("0", "2")
    assert label_vector(raw, plan).tolist()[:6] == [0, 1, 0, 0, 1, 0]
    with pytest.raises(ConfigError, match="not a value of label column"):
        infer_types(raw, "Exited", positive="1", negatives=["0", "2", "3"])
    # two values: the other one means 'stayed', as before
    two = raw.assign(Exited=["0", "1"] * 30)
    assert label_vector(two, infer_types(two, "Exited", positive="1")).sum() == 30


def test_identifier_columns_are_left_out_with_the_fix_named() -> None:
    plan = infer_types(bank().assign(Exited=["0", "1"] * 30), "Exited")
    by_name = {c.name: c for c in plan.columns}
    for name in ("RowNumber", "CustomerId", "Surname"):
        assert by_name[name].kind == "dropped", name
        assert f"--id {name}" in by_name[name].reason
    assert "row or customer number" in by_name["RowNumber"].reason
    assert by_name["Age"].kind == "numeric" and by_name["Balance"].kind == "numeric"
    assert plan.id_column is None  # never picked on its own: ids stay row numbers
    kept = infer_types(bank().assign(Exited=["0", "1"] * 30), "Exited", numeric=["RowNumber"])
    assert {c.name: c.kind for c in kept.columns}["RowNumber"] == "numeric"


def test_duplicated_ids_are_an_error_naming_rows_not_ids() -> None:
    raw = bank().assign(Exited=["0", "1"] * 30)
    raw.loc[[4, 9], "CustomerId"] = raw.loc[0, "CustomerId"]
    with pytest.raises(DataContractError) as err:
        infer_types(raw, "Exited", id_column="CustomerId")
    text = str(err.value)
    assert "2 duplicate(s) (data rows [1, 5, 10]" in text
    assert "keep each customer's latest row" in text and "omit --id" in text
    assert raw.loc[0, "CustomerId"] not in text


def test_duplicated_rows_are_reported_in_the_summary() -> None:
    raw = bank().assign(Exited=["0", "1"] * 30)
    raw = pd.concat([raw, raw.iloc[[3, 7]]], ignore_index=True)
    plan = infer_types(raw, "Exited")
    assert "2 row(s) repeat an earlier row exactly (data rows [61, 62]" in plan.summary()


def test_each_run_gets_its_own_folder_and_latest_points_at_the_newest(tmp_path: Path) -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    first = new_run_dir(tmp_path, now)
    second = new_run_dir(tmp_path, now)
    assert first != second and first.name == "20250301-120000" and second.name.endswith("-2")
    (first / "metrics.json").write_text("1")
    link_latest(first)
    link_latest(second)
    assert latest_run_dir(tmp_path) == second.resolve()
    assert (first / "metrics.json").read_text() == "1"  # the first run's files stay


def test_latest_falls_back_to_a_pointer_file_where_symlinks_fail(tmp_path: Path,
                                                                 monkeypatch) -> None:
    run = new_run_dir(tmp_path)

    def refuse(*args, **kwargs):
        raise OSError("symlinks not permitted")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    assert link_latest(run).name == "latest.txt"
    assert latest_run_dir(tmp_path) == run


@pytest.mark.slow
def test_two_snapshot_runs_keep_both_reports(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from training.snapshot import SnapshotConfig
    from training.snapshot_job import run_snapshot_training

    rng = np.random.default_rng(0)
    n = 600
    calls = rng.poisson(2, n)
    churn = rng.random(n) < 1 / (1 + np.exp(-(calls - 2)))
    path = tmp_path / "crm.csv"
    pd.DataFrame({"RowNumber": range(1, n + 1), "calls": calls,
                  "plan": rng.choice(["a", "b"], n),
                  "Churn": np.where(churn, "Yes", "No")}).to_csv(path, index=False)
    config = SnapshotConfig(label="Churn", cross_validate=False, tree_sizes=("small",),
                            write_plots=False)
    runs = [run_snapshot_training(path, config, tmp_path / "out", register=False)
            for _ in range(2)]
    assert runs[0].out_dir != runs[1].out_dir
    assert all((r.out_dir / "type_plan.json").exists() for r in runs)
    assert latest_run_dir(tmp_path / "out") == runs[1].out_dir.resolve()
    assert "RowNumber" not in runs[1].result.model.feature_names_
