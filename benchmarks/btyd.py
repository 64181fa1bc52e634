"""The BG/NBD baseline for transaction logs: RFM summaries here, the model in its own venv.

``rfm_summary`` is the lifetimes convention computed from our events contract (order
events only, by calendar day): frequency = purchase days - 1, recency = days from the first to
the last purchase day, T = days from the first purchase day to the cutoff. ``bgnbd_scores``
writes it as Parquet, creates ``benchmarks/.venv-btyd`` on first use from the pinned
``requirements-btyd.txt`` and runs ``btyd_runner.py`` there (see its docstring).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-btyd"
REQUIREMENTS = HERE / "requirements-btyd.txt"
RUNNER = HERE / "btyd_runner.py"


def rfm_summary(events: pd.DataFrame, cutoffs: Sequence[pd.Timestamp],
                purchase_type: str = "order") -> pd.DataFrame:
    """(customer_id, cutoff, frequency, recency, T) for customers who bought before each cutoff."""
    orders = events.loc[events["event_type"] == purchase_type, ["customer_id", "event_time"]]
    days = orders.assign(day=orders["event_time"].dt.floor("D")).drop_duplicates(
        ["customer_id", "day"])
    rows = []
    for cutoff in cutoffs:
        before = days[days["day"] < cutoff]
        g = before.groupby("customer_id")["day"].agg(["min", "max", "count"])
        rows.append(pd.DataFrame({
            "customer_id": g.index.astype(str),
            "cutoff": cutoff,
            "frequency": (g["count"] - 1).to_numpy(float),
            "recency": ((g["max"] - g["min"]).dt.days).to_numpy(float),
            "T": ((cutoff - g["min"]).dt.days).to_numpy(float),
        }))
    return pd.concat(rows, ignore_index=True)


def ensure_venv() -> Path:
    """Create benchmarks/.venv-btyd from the pinned requirements once; return its python."""
    python = VENV / "bin" / "python"
    if python.exists() and (VENV / ".installed").exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    with (VENV / "pip-install.log").open("w") as sink:
        done = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                               "-r", str(REQUIREMENTS)], stdout=sink, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"could not create {VENV} (pip exit {done.returncode}); see "
                           f"{VENV / 'pip-install.log'}")
    (VENV / ".installed").write_text("ok\n")
    return python


def bgnbd_scores(events: pd.DataFrame, cutoffs: Sequence[pd.Timestamp],
                 horizon_days: int, penalizer: float = 0.0) -> tuple[pd.DataFrame, list[dict]]:
    """BG/NBD scores per (customer_id, cutoff) and the fitted parameters per cutoff.

    ``penalizer`` is lifetimes' L2 ``penalizer_coef`` on the log-parameters (0 = plain
    maximum likelihood); the benchmark picks it on the validation cutoff, as ours picks its
    rounds there."""
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        summary_path, out_path = Path(tmp) / "rfm.parquet", Path(tmp) / "scores.parquet"
        summary = rfm_summary(events, cutoffs)
        summary["cutoff"] = summary["cutoff"].dt.tz_convert(None)  # pandas 1.5 reads naive
        summary.to_parquet(summary_path, index=False)
        done = subprocess.run([str(python), str(RUNNER), "--summary", str(summary_path),
                               "--horizon-days", str(horizon_days), "--penalizer", str(penalizer),
                               "--out", str(out_path)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"btyd_runner failed: {done.stderr[-2000:]}")
        scores = pd.read_parquet(out_path)
    scores["cutoff"] = pd.to_datetime(scores["cutoff"]).dt.tz_localize("UTC")
    fits = [{**json.loads(line), "penalizer": penalizer}
            for line in done.stdout.splitlines() if line.startswith("{")]
    return scores, fits
