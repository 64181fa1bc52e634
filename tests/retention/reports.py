"""Real ``cxchurn drivers`` and ``cxchurn monitor`` reports written into a trained home.

Both are computed by the project's own code on the home's champion, feature build and world,
and written by the commands' own writers to where the commands write by default, so the page
and the API are tested on the files a user's commands would leave.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DRIFTED = "late_deliveries_30d"  # the feature a simulated delivery crisis moves


def _by_cutoff(home: Path) -> dict[str, pd.DataFrame]:
    examples = pd.read_parquet(home / "features" / "examples.parquet")
    day = examples["cutoff"].dt.strftime("%Y-%m-%d")
    return {c: examples[day == c].reset_index(drop=True) for c in sorted(day.unique())}


def write_drivers_report(home: Path, model: Any, resamples: int = 20) -> dict[str, Any]:
    """The drivers of the two newest cutoffs and of every survey answer; the JSON written."""
    from training.churn_drivers import shap_mass_by_cutoff
    from training.driver_commands import DRIVERS_FILE, drivers_dir, write_drivers
    from training.survey_drivers import survey_drivers

    rows = dict(list(_by_cutoff(home).items())[-2:])
    churn = shap_mass_by_cutoff(model, rows, n_resamples=resamples)
    world = home / "world"
    surveys = survey_drivers(world / "customers.parquet", world / "events.parquet",
                             n_resamples=resamples)
    write_drivers(drivers_dir(home), churn, surveys,
                  {"period": {"start": None, "end": None}, "model_uri": "models:/x@champion"})
    return json.loads((drivers_dir(home) / DRIVERS_FILE).read_text())


def write_monitor_report(home: Path, model: Any) -> dict[str, Any]:
    """Monitor the home's champion: reference = the first cutoffs, current = the last two;
    the newest cutoff has no labels yet and a delivery crisis (three more late deliveries in
    30 days for everyone) so that it drifts. Returns the ``monitor.json`` written."""
    from tests.api.trained_home import home_env
    from training.monitor import monitor
    from training.monitor_commands import MONITOR_FILE, monitor_dir, write_and_log

    frames = _by_cutoff(home)
    cutoffs = list(frames)
    reference = pd.concat([frames[c] for c in cutoffs[:-2]], ignore_index=True)
    labelled, newest = cutoffs[-2], cutoffs[-1]
    crisis = frames[newest].copy()
    crisis[DRIFTED] = crisis[DRIFTED].fillna(0) + 3.0
    current = {labelled: frames[labelled], newest: crisis}
    labels = {labelled: frames[labelled]["churned"].to_numpy(dtype=float)}
    report = monitor(model, reference, current, labels, reference_auc=0.8)
    with home_env(home):
        write_and_log(report, monitor_dir(home), "models:/cxchurn@champion", cutoffs[:-2])
    doc = json.loads((monitor_dir(home) / MONITOR_FILE).read_text())
    assert np.isfinite(doc["cutoffs"][0]["realised_roc_auc"])
    return doc
