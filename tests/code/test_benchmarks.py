"""The benchmarks stay runnable: each one, at a tiny size, finishes and prints its figures.

Benchmarks are where speed and memory are measured; a benchmark that rots silently measures
nothing. These runs check what they print (figures present and sane), never how fast.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(script: str, args: list[str], home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["CXCHURN_HOME"] = str(home)  # tracking goes to the run's own folder
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_feature_benchmark_prints_throughput_for_both_spec_sets(tmp_path: Path) -> None:
    out = run_benchmark(
        "features.py",
        ["--customers", "200", "--skip-featuretools", "--workdir", str(tmp_path / "bench")],
        tmp_path / "home",
    )
    rates = re.findall(r"([\d,]+) ev/s", out)
    assert len(rates) == 2, out
    assert all(int(r.replace(",", "")) > 0 for r in rates)
    assert (tmp_path / "bench" / "features-benchmark.json").exists()


@pytest.mark.slow
def test_training_benchmark_reports_auc_and_agreeing_shap_methods(tmp_path: Path) -> None:
    out = run_benchmark(
        "train.py",
        ["--customers", "500", "--shap-rows", "50", "--work", str(tmp_path / "bench")],
        tmp_path / "home",
    )
    auc = float(re.search(r"test ROC-AUC\s+([\d.]+)", out).group(1))
    assert 0.5 < auc <= 1.0, out
    diff = float(re.search(r"SHAP max \|difference\|\s+([\d.e+-]+)", out).group(1))
    assert diff < 1e-9, "LightGBM pred_contrib and shap.TreeExplainer disagree"
    assert re.search(r"training peak memory \(RSS\)\s+\d+ MB", out), out
    # the headline differences come with their intervals: the oracle gap, and LightGBM
    # against the logistic and BG/NBD baselines (fitted on the build's recorded events)
    for key in ("roc_auc_gap_vs_truth", "roc_auc_diff_vs_logistic", "roc_auc_diff_vs_bgnbd"):
        assert re.search(key + r" \(95% CI, customers resampled\)\s+[+-][\d.]+ \(95% CI ",
                         out), (key, out)


@pytest.mark.slow
def test_realtime_benchmark_prints_latencies_and_events_per_second(tmp_path: Path) -> None:
    out = run_benchmark(
        "realtime.py",
        ["--customers", "300", "--single", "6", "--events", "200", "--heavy", "2",
         "--workers", "1", "--out", str(tmp_path / "realtime.json")],
        tmp_path / "home",
    )
    assert re.search(r"~10 past events: p50 [\d,.]+ \[", out), out
    assert re.search(r"~1000 past events: p50 [\d,.]+ \[", out), out
    rates = re.findall(r"client\(s\): ([\d,]+) events/s", out)
    assert len(rates) == 2 and all(int(r.replace(",", "")) > 0 for r in rates), out
    assert (tmp_path / "realtime.json").exists()
