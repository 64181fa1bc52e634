"""The test-fold evidence of one model, gathered in one place for every way a model is made.

Event-log training, its refit, snapshot tables and the evaluation of a registered model all end
alike: score the held-out rows, score the baselines on them, compute each one's metrics, check
that the model beats the baselines, break the metrics down by segment, explain the scores with
SHAP, draw the plots and keep a frame of the test predictions. The headline figures and the
model's differences to each baseline (and to the simulator's truth) carry 95% paired-bootstrap
intervals (``training.bootstrap``), and the leakage guard's post-fit dominance check runs on
the same rows. ``evaluate_on_test`` does that
once and returns a typed ``RunReport``; run files, MLflow tracking, champion promotion, the CLI
summaries and the review notebook all read that report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import NotFoundError
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training.baselines import fit_logistic, recency_rule_scores, rfm_columns
from training.bootstrap import DEFAULT_RESAMPLES, Interval, paired_bootstrap
from training.evaluate import (
    MAIN_MODEL,
    compare_to_baselines,
    compute_metrics,
    metrics_by_segment,
)
from training.explain import explain_rows, global_importance, shap_values
from training.leakage import LeakageReport, check_dominance
from training.model import ChurnModel
from training.plots import write_plots
from training.pyfunc import model_frame

UNCALIBRATED = f"{MAIN_MODEL}_uncalibrated"
# A baseline's column in the test predictions frame (and so in test_predictions.parquet).
BASELINE_COLUMNS = {"logistic": "p_logistic", "recency_rule": "recency_days"}


def jsonable(obj: object) -> object:
    """Nested dicts and lists of numbers made JSON-safe (NaN/inf -> None, numpy -> Python)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def jsonable_dict(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``jsonable`` of a mapping, typed as the dict it is (for MLflow's ``log_dict``)."""
    return {str(k): jsonable(v) for k, v in obj.items()}


def write_json(path: Path, obj: object) -> None:
    """``obj`` as indented, JSON-safe text (anything else, e.g. a date, as its string)."""
    path.write_text(json.dumps(jsonable(obj), indent=2, default=str))


def baseline_scores(X_fit: pd.DataFrame, y_fit: np.ndarray, X_test: pd.DataFrame, *,
                    recency: bool = True, rfm: bool = False) -> dict[str, np.ndarray]:
    """The baselines' scores on ``X_test``: a logistic regression fitted on the model's own
    training rows; with ``recency``, the recency rule (which needs no training); with ``rfm``,
    a logistic regression on the recency/frequency/monetary columns alone (skipped, with a
    logged note, when the rows lack them)."""
    out = {"logistic": fit_logistic(X_fit, y_fit).predict_proba(X_test)[:, 1]}
    if recency:
        out["recency_rule"] = recency_rule_scores(X_test)
    if rfm:
        cols = rfm_columns(X_fit.columns)
        if cols:
            out["rfm_logistic"] = fit_logistic(X_fit[cols], y_fit).predict_proba(
                X_test[cols])[:, 1]
    return out


@dataclass(frozen=True, eq=False)
class RunReport:
    """What one model showed on held-out rows it never learned from.

    ``metrics`` maps a model name to the ``compute_metrics`` figures: the main model first,
    then (when asked) its uncalibrated score, reference rows passed in, the baselines and the
    simulator's truth. ``test_frame`` has one row per evaluated row: its keys, the label,
    ``p_churn``, ``raw_score`` and one column per baseline (``BASELINE_COLUMNS``). ``rows`` are
    the evaluated rows as given (keys, label, features).
    """

    model: ChurnModel
    metrics: dict[str, dict[str, float]]
    baseline_comparison: dict[str, bool]
    segment_metrics: pd.DataFrame
    shap_values: np.ndarray
    expected_value: float
    global_importance: pd.DataFrame
    plots: dict[str, Path]
    test_frame: pd.DataFrame
    rows: pd.DataFrame = field(repr=False)
    intervals: dict[str, Interval] = field(default_factory=dict)
    leakage: LeakageReport | None = None

    @property
    def best_baseline(self) -> tuple[str, float] | None:
        """The baseline with the highest test ROC-AUC (name, AUC), or None if none ran."""
        aucs = {b: self.metrics[b]["roc_auc"] for b in self.baseline_comparison}
        aucs = {b: a for b, a in aucs.items() if np.isfinite(a)}
        if not aucs:
            return None
        name = max(aucs, key=lambda b: aucs[b])
        return name, float(aucs[name])

    @property
    def beats_baselines(self) -> bool:
        """Does the model beat the best baseline on test ROC-AUC? (True if none ran.)"""
        best = self.best_baseline
        return best is None or bool(self.metrics[MAIN_MODEL]["roc_auc"] > best[1])

    def baseline_verdict(self) -> str:
        """The model against its best baseline, in words, with the difference's interval."""
        best = self.best_baseline
        if best is None:
            return "no baseline ran"
        name, auc = best
        main = self.metrics[MAIN_MODEL]["roc_auc"]
        diff = self.intervals.get(f"roc_auc_diff_vs_{name}")
        by = diff.text(signed=True) if diff is not None else f"{main - auc:+.3f}"
        if main > auc:
            text = f"beats best baseline {name} by {by} on ROC-AUC ({main:.4f} vs {auc:.4f})"
        else:
            text = (f"does not beat the best baseline {name} ({main:.4f} vs {auc:.4f}; "
                    f"difference {by})")
        if diff is not None and diff.crosses_zero:
            n_pos = int(self.labels.sum())
            text += (f"; the 95% CI crosses zero: on {len(self.labels)} test rows "
                     f"({n_pos} churners) the two are not told apart")
        return text

    def interval_line(self) -> str:
        """The headline figures with their 95% bootstrap intervals, in one line."""
        ci = self.intervals
        n_pos = int(self.labels.sum())
        if "roc_auc" not in ci:
            return f"test fold ({len(self.labels)} rows, {n_pos} churners): no bootstrap run"
        return (f"test fold ({len(self.labels)} rows, {n_pos} churners), 95% bootstrap CI: "
                f"ROC-AUC {ci['roc_auc'].text()}, PR-AUC {ci['pr_auc'].text()}, "
                f"top-decile lift {ci['lift_top_decile'].text(digits=2)}")

    def verdict_lines(self) -> list[str]:
        """The headline figures with their intervals and the baseline verdict."""
        out = []
        if self.leakage is not None and self.leakage.headline():
            out.append(str(self.leakage.headline()))
        ci = self.intervals
        if "roc_auc" in ci:
            out.append(self.interval_line())
        if "roc_auc_gap_vs_truth" in ci:
            out.append(f"oracle gap (truth minus model ROC-AUC): "
                       f"{ci['roc_auc_gap_vs_truth'].text(signed=True, digits=4)}")
        out.append(("beats baselines: yes — " if self.beats_baselines else "beats baselines: NO — ")
                   + self.baseline_verdict())
        each = [f"{name} {ci[key].text(signed=True)}" for name in self.baseline_comparison
                if (key := f"roc_auc_diff_vs_{name}") in ci]
        if len(each) > 1:  # the best one alone can hide a baseline the model does not clear
            out.append("ROC-AUC minus each baseline: " + "; ".join(each))
        headroom = [f"{name} {ci[key].text(signed=True)}" for name in self.baseline_comparison
                    if (key := f"roc_auc_truth_vs_{name}") in ci]
        if headroom:  # a small headroom means no model can beat that baseline clearly here
            out.append("simulator truth minus each baseline (the most any model could gain): "
                       + "; ".join(headroom))
        return out

    @property
    def labels(self) -> np.ndarray:
        return self.test_frame[LABEL].to_numpy(dtype=int)

    @property
    def p_churn(self) -> np.ndarray:
        return self.test_frame["p_churn"].to_numpy(dtype=float)

    def headline(self) -> dict[str, float]:
        """The acceptance figures: AUC (and its gap to the truth, if known) and top decile."""
        main = self.metrics[MAIN_MODEL]
        out = {
            "roc_auc": main["roc_auc"],
            "capture_top_decile": main["capture_top_decile"],
            "lift_top_decile": main["lift_top_decile"],
        }
        if "truth" in self.metrics:
            out["truth_roc_auc"] = self.metrics["truth"]["roc_auc"]
            out["auc_gap_vs_truth"] = self.metrics["truth"]["roc_auc"] - main["roc_auc"]
        best = self.best_baseline
        if best is not None:
            out["best_baseline_roc_auc"] = best[1]
            out["roc_auc_diff_vs_best_baseline"] = main["roc_auc"] - best[1]
        out["beats_baselines"] = float(self.beats_baselines)
        out.update(self.interval_figures())
        return out

    def headline_record(self) -> dict[str, object]:
        """``headline.json``: the figures, their intervals, the verdict and the leak names."""
        leakage = self.leakage
        return {**self.headline(),
                "baseline_verdict": self.baseline_verdict(),
                "suspected_leaks": list(leakage.flagged) if leakage else [],
                "includes_suspected_leak": list(leakage.kept_on_request) if leakage else [],
                "dominant_features": list(leakage.dominant) if leakage else []}

    def interval_figures(self) -> dict[str, float]:
        """``<figure>_ci_low`` / ``_ci_high`` for the headline figures and the differences
        (``auc_gap_vs_truth`` and ``roc_auc_diff_vs_best_baseline`` among them)."""
        names = {k: k for k in self.intervals}
        names["roc_auc_gap_vs_truth"] = "auc_gap_vs_truth"
        best = self.best_baseline
        if best is not None:
            names[f"roc_auc_diff_vs_{best[0]}"] = "roc_auc_diff_vs_best_baseline"
        out: dict[str, float] = {}
        for key, interval in self.intervals.items():
            for name in {key, names[key]}:
                out[f"{name}_ci_low"] = interval.low
                out[f"{name}_ci_high"] = interval.high
        return out

    def metrics_table(self, keys: Sequence[str], width: int) -> list[str]:
        """One header line and one line per model, ``keys`` as right-aligned columns."""
        lines = [f"{'model':<24}" + "".join(f"{k:>{width}}" for k in keys)]
        for name, m in self.metrics.items():
            lines.append(f"{name:<24}" + "".join(f"{m[k]:>{width}.4f}" for k in keys))
        return lines

    def write_files(self, out: Path) -> None:
        """The run files every training mode writes: metrics, drivers, predictions."""
        write_json(out / "metrics.json", self.metrics)
        self.global_importance.to_csv(out / "importance.csv", index=False)
        if not self.segment_metrics.empty:
            self.segment_metrics.to_csv(out / "segment_metrics.csv", index=False)
        self.test_frame.to_parquet(out / "test_predictions.parquet", index=False)

    def drivers(self, customer_ids: Iterable[object], top_k: int = 5) -> pd.DataFrame:
        """Top SHAP drivers of the given customers' scores (one row per customer x driver)."""
        wanted = [str(c) for c in customer_ids]
        rows = self.rows[self.rows[CUSTOMER_ID].astype(str).isin(wanted)]
        missing = sorted(set(wanted) - set(rows[CUSTOMER_ID].astype(str)))
        if missing:
            where = ""
            if CUTOFF in self.rows.columns:
                days = [pd.Timestamp(c).date().isoformat()
                        for c in sorted(pd.unique(self.rows[CUTOFF]))]
                where = f" (cutoffs {', '.join(days)})"
            raise NotFoundError(
                f"customer(s) {missing[:10]} are not in the evaluated rows{where}; pick ids "
                "from the report's test_frame"
            )
        X = model_frame(self.model, rows)
        p = self.model.predict_churn(X)
        keys = [c for c in (CUSTOMER_ID, CUTOFF) if c in rows.columns]
        records = []
        for key, prob, drivers in zip(rows[keys].itertuples(index=False), p,
                                      explain_rows(self.model, X, top_k), strict=True):
            for rank, d in enumerate(drivers, start=1):
                records.append({**dict(zip(keys, key, strict=True)), "p_churn": float(prob),
                                "rank": rank, "feature": d.feature, "value": d.value,
                                "shap": d.shap, "direction": d.direction})
        return pd.DataFrame.from_records(records)


def evaluate_on_test(
    model: ChurnModel,
    rows: pd.DataFrame,
    *,
    baselines: Mapping[str, np.ndarray] | None = None,
    reference: Mapping[str, Mapping[str, float]] | None = None,
    truth: np.ndarray | None = None,
    uncalibrated: bool = True,
    segment_columns: Iterable[str] = (),
    budget_share: float = 0.1,
    plots_dir: Path | None = None,
    keys: Sequence[str] = (CUSTOMER_ID, CUTOFF),
    leakage: LeakageReport | None = None,
    n_bootstrap: int = DEFAULT_RESAMPLES,
    bootstrap_seed: int = 0,
) -> RunReport:
    """Score held-out ``rows`` (keys, label, the model's features) and gather the evidence.

    ``baselines`` maps a name to its scores on the same rows: each gets a metrics row, a test
    frame column and a curve on the plots, and the model must beat the best of them on ROC-AUC.
    ``reference`` adds metric rows computed elsewhere (e.g. the model before a refit), reported
    and never compared. ``truth`` is the true churn probability per row (simulated worlds).
    ``uncalibrated`` adds the model's raw score as a probability, so the calibration shows.
    Segment metrics for those of ``segment_columns`` the rows have; plots into ``plots_dir``.
    ``n_bootstrap`` paired resamples of the customers (all rows of each drawn customer; fixed
    ``bootstrap_seed``; 0 = none) give the intervals. ``leakage``, the guard's pre-fit
    verdict, comes back with the dominance check.
    """
    X = model_frame(model, rows)
    y = rows[LABEL].to_numpy(dtype=int)
    raw = model.raw_score(X)
    p = model.proba_from_raw(raw)
    scores = {name: np.asarray(s) for name, s in (baselines or {}).items()}

    metrics = {MAIN_MODEL: compute_metrics(y, p, budget_share)}
    if uncalibrated:
        metrics[UNCALIBRATED] = compute_metrics(y, 1 / (1 + np.exp(-raw)), budget_share)
    metrics.update({name: dict(m) for name, m in (reference or {}).items()})
    metrics.update({name: compute_metrics(y, s, budget_share) for name, s in scores.items()})
    if truth is not None:
        metrics["truth"] = compute_metrics(y, truth, budget_share)
    comparison = compare_to_baselines(metrics, MAIN_MODEL, baselines=tuple(scores))

    segments = [c for c in segment_columns if c in rows.columns]
    segment_metrics = pd.concat(
        [metrics_by_segment(rows, y, p, c, budget_share) for c in segments], ignore_index=True
    ) if segments else pd.DataFrame()

    values, expected = shap_values(model, X)
    # by customer: one customer's rows at several test cutoffs are not independent evidence
    clusters = rows[CUSTOMER_ID].to_numpy() if CUSTOMER_ID in rows.columns else None
    intervals = paired_bootstrap(y, p, scores, truth, n_resamples=n_bootstrap,
                                 seed=bootstrap_seed, clusters=clusters,
                                 ) if n_bootstrap > 0 else {}
    if leakage is not None:
        leakage = check_dominance(leakage, X, y, metrics[MAIN_MODEL]["roc_auc"], values,
                                  model.feature_names_)
    plots: dict[str, Path] = {}
    if plots_dir is not None:
        plots = write_plots(y, p, values, model.prepare(X), plots_dir, baselines=scores)

    test_frame = rows[[*(k for k in keys if k in rows.columns), LABEL]].copy()
    test_frame["p_churn"] = p
    test_frame["raw_score"] = raw
    for name, s in scores.items():
        test_frame[BASELINE_COLUMNS.get(name, f"p_{name}")] = s
    return RunReport(
        model=model, metrics=metrics, baseline_comparison=comparison,
        segment_metrics=segment_metrics, shap_values=values, expected_value=expected,
        global_importance=global_importance(values, model.feature_names_), plots=plots,
        test_frame=test_frame, rows=rows, intervals=intervals, leakage=leakage,
    )



class ReportView:
    """Shortcuts a training mode's result gives to its ``RunReport`` (model and metrics)."""

    report: RunReport

    @property
    def model(self) -> ChurnModel:
        return self.report.model

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Model name -> test metrics (the main model, its baselines, the truth if known)."""
        return self.report.metrics

__all__ = ["BASELINE_COLUMNS", "MAIN_MODEL", "UNCALIBRATED", "RunReport", "baseline_scores",
           "evaluate_on_test", "jsonable", "write_json"]
