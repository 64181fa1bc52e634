"""``cxchurn monitor`` and ``cxchurn retrain``: the loop monitor -> alert -> retrain -> gate.

``cxchurn monitor`` loads the champion from the registry and the feature build, takes as the
reference the rows of the cutoffs the champion was trained on (the train fold its run
recorded in ``data/split.json``), and reports every newer cutoff of the build (its validation
and test cutoffs, and any score-only cutoffs without labels yet) with ``training.monitor``.
The performance estimate recalibrates the champion's probability on its validation cutoffs
(recorded in the same file) when the build holds their labels; the validation cutoff's own
estimate is then fitted to its labels, so judge CBPE on the test and newer cutoffs.
It writes ``monitor.csv`` (one row per cutoff), ``drift.csv`` (every cutoff x feature),
``monitor.json`` and ``monitor.png``, logs them as a run of the ``cxchurn-monitor``
experiment, and prints the alerts. Alerts are findings, not failures: the exit code is 0
whenever the report was made (2 for a user error such as no champion), so a scheduler can run
it daily and route the printed ``ALERT`` lines.

``cxchurn retrain`` is ``training.job.run_training`` on the (newer) feature build: the new
model is registered and becomes champion only through the promotion gate (it must beat its
baselines and the current champion on the same held-out rows). Serving loads the champion by
alias, so a promoted model is picked up when the service (re)loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from cxchurn import paths
from cxchurn.errors import NotFoundError
from training.commands import FeaturesDir, OutDir

MONITOR_EXPERIMENT = "cxchurn-monitor"
PLOT_FILE = "monitor.png"
MONITOR_FILE = "monitor.json"


def monitor_dir(home: Path | None = None) -> Path:
    """Where ``cxchurn monitor`` writes by default and the page's model panel reads."""
    return paths.reports_dir(home) / "monitor"


class ChampionRecord(NamedTuple):
    """A registered model with the folds its run recorded and its held-out test AUC."""

    model: Any
    train_cutoffs: list[str]
    test_auc: float | None
    valid_cutoffs: list[str]


def champion_record(model_uri: str) -> ChampionRecord:
    """The model, its train- and validation-fold cutoffs and recorded test AUC."""
    import mlflow

    from training.pyfunc import load_churn_model

    try:
        model = load_churn_model(model_uri)
        run_id = mlflow.models.get_model_info(model_uri).run_id
    except Exception as err:
        raise NotFoundError(
            f"could not load model {model_uri!r} from {mlflow.get_tracking_uri()}: "
            f"{str(err)[:300]}; train one first (`cxchurn train`) or pass --model-name"
        ) from err
    try:
        split = mlflow.artifacts.load_dict(f"runs:/{run_id}/data/split.json")
    except Exception as err:
        raise NotFoundError(
            f"model {model_uri!r} (run {run_id}) has no data/split.json, so its training rows "
            "are unknown; retrain it with `cxchurn train` (which records the split)"
        ) from err
    auc = mlflow.get_run(run_id).data.metrics.get("test_roc_auc")
    return ChampionRecord(model, list(split.get("train", {}).get("cutoffs", [])), auc,
                          list(split.get("valid", {}).get("cutoffs", [])))


def build_frames(features_dir: Path, train_cutoffs: list[str]) -> tuple[Any, dict, dict]:
    """(reference rows, rows by newer cutoff, labels by cutoff where they have matured)."""
    import pandas as pd

    from features.pipeline import FEATURES_FILE, LABELS_FILE
    from features.schema import CUSTOMER_ID, CUTOFF, LABEL

    path = features_dir / FEATURES_FILE
    if not path.exists():
        raise NotFoundError(f"expected a feature build in {features_dir} ({FEATURES_FILE}); run "
                            "`cxchurn features build` first or pass --features")
    rows = pd.read_parquet(path)
    labels = pd.read_parquet(features_dir / LABELS_FILE)
    day = rows[CUTOFF].dt.strftime("%Y-%m-%d")
    have = set(day)
    lacking = [c for c in train_cutoffs if c not in have]
    if not train_cutoffs or lacking:
        raise NotFoundError(
            f"the champion was trained on cutoffs {train_cutoffs}, but {features_dir} lacks "
            f"{lacking or 'them'}; monitor with a build that covers the training cutoffs and "
            "the newer ones (e.g. `cxchurn features build` over the whole history)")
    reference = rows[day.isin(train_cutoffs)].reset_index(drop=True)
    last = max(train_cutoffs)
    current = {c: rows[day == c].reset_index(drop=True) for c in sorted(have) if c > last}
    keys = [CUSTOMER_ID, CUTOFF]
    matured = {}
    for cutoff, frame in current.items():
        joined = frame[keys].merge(labels[[*keys, LABEL]], on=keys, how="left")
        if joined[LABEL].notna().all() and len(joined):
            matured[cutoff] = joined[LABEL].to_numpy()
    return reference, current, matured


def calibration_frames(current: dict, labels: dict, valid_cutoffs: list[str]
                       ) -> tuple[Any, Any]:
    """(rows, labels) of the champion's validation cutoffs, for CBPE's recalibration; (None,
    None) when the build lacks them or their labels, or they hold fewer than two churners or
    stayers (the estimate then uses the champion's own probabilities)."""
    import numpy as np
    import pandas as pd

    have = [c for c in valid_cutoffs if c in current and c in labels]
    if not have or len(have) < len(valid_cutoffs):
        return None, None
    y = np.concatenate([np.asarray(labels[c], dtype=float) for c in have])
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        return None, None
    return pd.concat([current[c] for c in have], ignore_index=True), y


def plot_report(report: Any, path: Path) -> Path:
    """Estimated vs realised AUC per cutoff, and the newest cutoff's most drifted features."""
    from matplotlib.figure import Figure

    table = report.table()
    fig = Figure(figsize=(11, 4.5))
    left, right = fig.subplots(1, 2)
    x = range(len(table))
    left.plot(x, table["est_roc_auc"], marker="o", label="estimated (CBPE)")
    left.plot(x, table["realised_roc_auc"], marker="s", label="realised")
    left.axhline(report.reference_auc - report.config.auc_drop, color="grey", ls="--",
                 label="alert below")
    left.set_xticks(list(x), list(table["cutoff"]), rotation=30)
    left.set_title("ROC-AUC per cutoff")
    left.legend()
    if report.cutoffs:
        newest = report.cutoffs[-1]
        top = newest.drift.head(10).iloc[::-1]
        colors = ["tab:red" if d else "tab:blue" for d in top["drifted"]]
        right.barh(top["feature"], top["psi"], color=colors)
        right.axvline(report.config.drift.psi_threshold, color="grey", ls="--")
        right.set_title(f"PSI at {newest.cutoff} (red: drifted)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_and_log(report: Any, out: Path, model_uri: str, reference_cutoffs: list[str]) -> str:
    """Write the report's files into ``out`` and log them as a monitor run; return its id."""
    import mlflow
    import numpy as np

    from training.report import jsonable
    from training.tracking import setup_tracking

    out.mkdir(parents=True, exist_ok=True)
    table = report.table()
    table.to_csv(out / "monitor.csv", index=False)
    report.drift_frame().to_csv(out / "drift.csv", index=False)
    doc = {"model_uri": model_uri, "reference_cutoffs": reference_cutoffs, **report.to_dict()}
    (out / MONITOR_FILE).write_text(json.dumps(jsonable(doc), indent=2) + "\n")
    plot_report(report, out / PLOT_FILE)
    experiment_id = setup_tracking(MONITOR_EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"run_type": "monitor", "monitored_model": model_uri,
                         "n_alerts": str(len(report.alerts)),
                         **({"alerts": " | ".join(report.alerts)[:4000]} if report.alerts
                            else {})})
        mlflow.log_params({"monitor.model_uri": model_uri,
                           "monitor.reference_cutoffs": ",".join(reference_cutoffs)[:500],
                           **{f"monitor.{k}": v for k, v in doc["thresholds"].items()}})
        numeric = ["n_drifted", "max_psi", "score_psi", "est_roc_auc", "est_lift_top_decile",
                   "est_churn_rate", "realised_roc_auc", "realised_lift_top_decile",
                   "realised_ece", "realised_churn_rate", "auc_error", "n_alerts"]
        for step, row in table.iterrows():  # one step per cutoff, oldest first
            mlflow.log_metrics({k: float(row[k]) for k in numeric
                                if np.isfinite(float(row[k]))}, step=int(step))
        for name in ("monitor.csv", "drift.csv", MONITOR_FILE, PLOT_FILE):
            mlflow.log_artifact(str(out / name), artifact_path="monitor")
    return str(run.info.run_id)


def monitor_command(
    features: FeaturesDir = None,
    model_name: Annotated[str, typer.Option(help="Registered model whose champion to watch.")
                          ] = "cxchurn",
    out: OutDir = None,
    psi_threshold: Annotated[float, typer.Option(
        help="A feature (or the score) has drifted at this PSI or more.")] = 0.2,
    p_value: Annotated[float, typer.Option(
        help="... or when KS / chi-square gives a p-value below this ...")] = 0.01,
    min_effect: Annotated[float, typer.Option(
        help="... with an effect (KS D, Cramér's V) of at least this.")] = 0.15,
    auc_drop: Annotated[float, typer.Option(
        help="Alert when estimated or realised AUC falls this far below the champion's test "
        "AUC.")] = 0.05,
    known_change: Annotated[list[str] | None, typer.Option(
        help="A change the company made on purpose, FAMILY:YYYY-MM-DD[:DAYS] (repeatable), "
             "e.g. price:2025-03-01 for an announced price rise: that family's drift within "
             "DAYS (default 180) after it is reported as expected, not alerted.")] = None,
) -> None:
    """Drift, estimated and realised performance of the champion per cutoff, with alerts.

    The reference is the champion's training rows (its recorded train-fold cutoffs, read from
    the feature build); every newer cutoff of the build is reported. Writes monitor.csv,
    drift.csv, monitor.json and monitor.png, logs a run in the `cxchurn-monitor` experiment
    and prints the alerts. Alerts are not errors: the exit code is 0 when the report was made.
    """
    from training import registry
    from training.drift import DriftConfig
    from training.known_changes import parse_known_change
    from training.monitor import MonitorConfig, monitor
    from training.tracking import setup_tracking

    config = MonitorConfig(drift=DriftConfig(psi_threshold=psi_threshold, p_value=p_value,
                                             min_effect=min_effect),
                           score_psi=psi_threshold, auc_drop=auc_drop,
                           known_changes=tuple(parse_known_change(t)
                                               for t in known_change or ()))
    setup_tracking(MONITOR_EXPERIMENT)
    uri = registry.champion_uri(model_name)
    model, train_cutoffs, test_auc, valid_cutoffs = champion_record(uri)
    reference, current, labels = build_frames(features or paths.features_dir(), train_cutoffs)
    cal_rows, cal_labels = calibration_frames(current, labels, valid_cutoffs)
    report = monitor(model, reference, current, labels, reference_auc=test_auc, config=config,
                     calibration_rows=cal_rows, calibration_labels=cal_labels)
    folder = out or monitor_dir()
    run_id = write_and_log(report, folder, uri, train_cutoffs)
    table = report.table()
    typer.echo(f"model: {uri}; reference: {len(reference):,} rows at {len(train_cutoffs)} "
               f"training cutoffs; reference AUC {report.reference_auc:.3f} "
               f"({report.reference_auc_source})")
    recal = report.recalibration
    typer.echo(f"CBPE probabilities: recalibrated on {recal.n:,} {recal.source} (Platt slope "
               f"{recal.platt.slope:.3f})" if recal else
               "CBPE probabilities: the champion's own (its validation cutoffs "
               f"{valid_cutoffs or '(none recorded)'} are not labelled in this build)")
    cols = ["cutoff", "n", "n_drifted", "score_psi", "est_roc_auc", "realised_roc_auc",
            "top_drifted"]
    typer.echo(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
               if len(table) else "no cutoff newer than the training data in this build")
    for alert in report.alerts:
        typer.secho(f"ALERT {alert}", fg=typer.colors.YELLOW)
    for cutoff in report.cutoffs:
        if cutoff.expected_drift:
            typer.echo(f"expected {cutoff.cutoff}: " + ", ".join(cutoff.expected_drift))
    typer.echo(f"files: {folder}; MLflow run {run_id} (experiment {MONITOR_EXPERIMENT})")
    if report.alerts:
        typer.echo("next: rebuild features on the newest data and `cxchurn retrain`")


def retrain_command(
    features: FeaturesDir = None,
    world: Annotated[str | None, typer.Option(
        help="Simulated world folder (adds the truth row to the metrics); omit for real data.")
    ] = None,
    model_name: Annotated[str, typer.Option(help="Registered model name.")] = "cxchurn",
    out: OutDir = None,
) -> None:
    """Train a challenger on the newest feature build and run the promotion gate.

    The same job as `cxchurn train` with its defaults: the new model becomes champion only if
    it beats its baselines and the current champion on the same held-out rows. Serving picks
    up a new champion when it (re)loads the model.
    """
    from training.job import run_training

    summary = run_training(features or paths.features_dir(), Path(world) if world else None,
                           out_dir=out or paths.reports_dir() / "retrain", model_name=model_name)
    for line in summary.lines():
        typer.echo(line)


def register_top_level(root: typer.Typer) -> None:
    """Attach ``cxchurn monitor`` and ``cxchurn retrain``."""
    root.command("monitor")(monitor_command)
    root.command("retrain")(retrain_command)
