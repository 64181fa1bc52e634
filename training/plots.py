"""Evaluation plots written as PNG files (ROC, PR, gain/lift, calibration, SHAP).

Drawn with matplotlib's Agg backend on explicit figures (no pyplot global state leaks between
plots, no display needed on a server). The SHAP summary and dependence plots are drawn here from
the values matrix rather than by ``shap.summary_plot``, which needs numeric feature matrices and
chokes on LightGBM's pandas categoricals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from training.evaluate import calibration_table


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _scores(p: np.ndarray, baselines: Mapping[str, object] | None) -> dict[str, np.ndarray]:
    out = {"model": p}
    for name, s in (baselines or {}).items():
        out[name] = np.asarray(s, dtype=float)
    return out


def plot_roc(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path) -> Path:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test fold)")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_pr(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path) -> Path:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for name, s in scores.items():
        prec, rec, _ = precision_recall_curve(y, s)
        ax.plot(rec, prec, label=name)
    ax.axhline(y.mean(), color="k", ls="--", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test fold)")
    ax.legend(loc="upper right")
    return _save(fig, path)


def _gain_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-s, kind="stable")
    share = np.arange(1, len(y) + 1) / len(y)
    gain = np.cumsum(y[order]) / max(y.sum(), 1)
    return np.concatenate([[0], share]), np.concatenate([[0], gain])


def plot_gain_lift(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path) -> Path:
    fig = Figure(figsize=(10, 4.5))
    ax_gain, ax_lift = fig.subplots(1, 2)
    for name, s in scores.items():
        share, gain = _gain_curve(y, s)
        ax_gain.plot(share, gain, label=name)
        with np.errstate(divide="ignore", invalid="ignore"):
            ax_lift.plot(share[1:], gain[1:] / share[1:], label=name)
    ax_gain.plot([0, 1], [0, 1], "k--", lw=0.8, label="random")
    ax_gain.set(xlabel="share of customers contacted", ylabel="share of churners captured",
                title="Cumulative gain")
    ax_lift.axhline(1, color="k", ls="--", lw=0.8)
    ax_lift.set(xlabel="share of customers contacted", ylabel="lift", title="Lift")
    ax_gain.legend(loc="lower right")
    return _save(fig, path)


def plot_calibration(y: np.ndarray, probs: Mapping[str, np.ndarray], path: Path) -> Path:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    top = 0.0
    for name, p in probs.items():
        table = calibration_table(y, p, n_bins=10)
        ax.plot(table["mean_p"], table["churn_rate"], "o-", label=name)
        top = max(top, float(table["mean_p"].max()), float(table["churn_rate"].max()))
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="perfect")
    ax.set(xlabel="mean predicted probability", ylabel="observed churn rate",
           title="Calibration (equal-count bins)")
    ax.legend(loc="upper left")
    return _save(fig, path)


def _colour_values(column: pd.Series) -> np.ndarray:
    """Feature values scaled to [0, 1] for colouring (categories by code, NaN stays NaN)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(dtype=float)
        codes[codes < 0] = np.nan
        values = codes
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    lo, hi = np.nanpercentile(finite, [5, 95])
    return np.asarray(np.clip((values - lo) / (hi - lo if hi > lo else 1.0), 0, 1), dtype=float)


def plot_shap_summary(values: np.ndarray, X: pd.DataFrame, path: Path, top: int = 15) -> Path:
    """Beeswarm-style: one row per top feature, dots = customers, colour = feature value."""
    order = np.argsort(-np.abs(values).mean(axis=0))[:top][::-1]
    fig = Figure(figsize=(8, 0.4 * len(order) + 1.5))
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    for row, j in enumerate(order):
        colours = _colour_values(X.iloc[:, j])
        jitter = np.asarray(rng.uniform(-0.3, 0.3, size=values.shape[0]))
        missing = ~np.isfinite(colours)
        ax.scatter(values[~missing, j], row + jitter[~missing], c=colours[~missing],
                   cmap="coolwarm", vmin=0, vmax=1, s=4, alpha=0.6)
        ax.scatter(values[missing, j], row + jitter[missing], c="black", s=3, alpha=0.5)
    ax.set_yticks(range(len(order)), [X.columns[j] for j in order])
    ax.axvline(0, color="k", lw=0.6)
    ax.set(xlabel="SHAP value (log-odds of churn)",
           title="SHAP summary: red = high value, blue = low, black = no data")
    return _save(fig, path)


def plot_shap_dependence(values: np.ndarray, X: pd.DataFrame, feature: str, path: Path) -> Path:
    j = list(X.columns).index(feature)
    column = X[feature]
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = list(column.cat.categories)
        codes = column.cat.codes.to_numpy()
        data = [values[codes == k, j] for k in range(len(labels))]
        ax.boxplot([d if len(d) else [np.nan] for d in data], tick_labels=labels)
    else:
        x = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        ax.scatter(x, values[:, j], s=4, alpha=0.5)
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel=feature, ylabel="SHAP value (log-odds)", title=f"SHAP dependence: {feature}")
    return _save(fig, path)


def _safe_name(feature: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", feature)


def write_plots(
    y: object,
    p: object,
    shap_values: np.ndarray,
    X: pd.DataFrame,
    out_dir: str | Path,
    baselines: Mapping[str, object] | None = None,
    n_dependence: int = 3,
) -> dict[str, Path]:
    """Write every evaluation plot into ``out_dir``; returns name -> file path.

    ``baselines`` maps a name to its scores on the same rows (drawn beside the model on the
    ranking plots; on the calibration plot only when they are probabilities). ``X`` holds the
    model's features in the model's order (as the SHAP matrix columns).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y_arr = np.asarray(y, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    scores = _scores(p_arr, baselines)
    probs = {k: v for k, v in scores.items() if v.min() >= 0 and v.max() <= 1}
    paths = {
        "roc": plot_roc(y_arr, scores, out / "roc.png"),
        "pr": plot_pr(y_arr, scores, out / "pr.png"),
        "gain_lift": plot_gain_lift(y_arr, scores, out / "gain_lift.png"),
        "calibration": plot_calibration(y_arr, probs, out / "calibration.png"),
        "shap_summary": plot_shap_summary(shap_values, X, out / "shap_summary.png"),
    }
    top = np.argsort(-np.abs(shap_values).mean(axis=0))[:n_dependence]
    for j in top:
        feature = str(X.columns[j])
        name = f"shap_dependence_{_safe_name(feature)}"
        paths[name] = plot_shap_dependence(shap_values, X, feature, out / f"{name}.png")
    return paths
