"""``cxchurn kpis`` on the default simulated world: it runs and writes the CSVs and charts;
and the non-contractual churn rate is the churn label's own definition."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_kpis_command_writes_the_table_and_the_charts(default_world_dir: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "kpis"
    result = CliRunner().invoke(app, ["kpis", "--world", str(default_world_dir), "--by",
                                      "segment", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "CX KPIs by month" in result.output
    for name in ("kpis.csv", "kpis_by_segment.csv", "nps_trend.png", "csat_trend.png",
                 "nps_composition.png", "nps_heatmap_segment.png"):
        assert (out / name).stat().st_size > 0, name
    monthly = pd.read_csv(out / "kpis.csv")
    assert monthly["month"].is_unique and monthly["n_nps"].sum() > 0
    assert monthly["nps"].between(-100, 100).all()
    assert (monthly["nps_ci_low"] <= monthly["nps"]).all()
    assert (monthly["nps"] <= monthly["nps_ci_high"]).all()
    by_segment = pd.read_csv(out / "kpis_by_segment.csv")
    totals = by_segment.groupby("month")[["n_nps", "n_at_risk"]].sum()
    assert (totals.to_numpy() == monthly.set_index("month")[["n_nps", "n_at_risk"]]
            .to_numpy()).all()  # segments partition every month


def test_non_contractual_churn_is_the_label_definition(default_world: object) -> None:
    from features.kpis import KpiConfig, kpi_table
    from features.labels import LabelConfig, eligible_cutoffs, make_labels

    world = default_world
    customers, events = world.customers, world.events  # type: ignore[attr-defined]
    table = kpi_table(customers, events, config=KpiConfig(churn="non_contractual"))
    months = [pd.Timestamp(m, tz="UTC") for m in ("2024-03-01", "2025-01-01")]
    config = LabelConfig(kind="non_contractual", horizon_days=30)
    labels = make_labels(events, eligible_cutoffs(customers, events, months, config), config)
    expected = labels.groupby("cutoff")["churned"].agg(["size", "sum"])
    got = table.set_index("month").loc[months, ["n_at_risk", "n_churned"]]
    assert got.to_numpy().tolist() == expected.to_numpy().tolist()
    assert pd.isna(table["churn_rate"].iloc[-1])  # its horizon passes the end of the data


@pytest.mark.slow
def test_kpi_benchmark_prints_its_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "kpis.py"), "--customers", "300",
         "--events", "20000", "--workdir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"by month\s+[\d.]+ s", done.stdout), done.stdout
    assert re.search(r"peak memory \(RSS\)\s+\d+ MB", done.stdout), done.stdout
    assert "cxchurn kpis --by segment (whole command" in done.stdout
