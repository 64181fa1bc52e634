"""Metrics for a churn score: ranking, probability quality and what a retention budget buys.

Ranking (ROC-AUC, PR-AUC) says whether churners come first; log loss, Brier and the expected
calibration error say whether the probabilities can be multiplied by customer value; lift and
capture at the top decile and at a contact budget say what the retention team gets when it can
call only a share of the base. Ties in the score (a recency rule has many) are shared out in
expectation, so a coarse score is neither rewarded nor punished by the order rows happen to be in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

# The name of the churn model's own row in every metrics table (beside baselines and truth).
MAIN_MODEL = "lightgbm"

METRIC_NAMES = (
    "roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile", "capture_top_decile",
    "lift_at_budget", "capture_at_budget", "base_rate", "n",
)


def _arrays(y: object, p: object) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    if y_arr.shape != p_arr.shape:
        raise ValueError(
            f"expected y and p of the same length, got {y_arr.shape} and {p_arr.shape}"
        )
    return y_arr, p_arr


def capture_at(y: object, score: object, share: float) -> float:
    """Expected share of all churners among the ``share`` highest-scored rows (ties shared)."""
    y_arr, s = _arrays(y, score)
    n = len(y_arr)
    positives = y_arr.sum()
    if n == 0 or positives == 0:
        return float("nan")
    k = max(1, round(n * share))
    order = np.argsort(-s, kind="stable")
    threshold = s[order[k - 1]]
    above = s > threshold
    tied = s == threshold
    slots = k - above.sum()
    caught = y_arr[above].sum() + slots * y_arr[tied].sum() / tied.sum()
    return float(caught / positives)


def expected_calibration_error(y: object, p: object, n_bins: int = 10) -> float:
    """Adaptive ECE: bins of equal size by predicted probability, |mean p - churn rate| weighted.

    Equal-count bins (rather than equal-width) because churn probabilities crowd near zero:
    equal-width bins would put almost every row in the first bin and hide miscalibration.
    """
    y_arr, p_arr = _arrays(y, p)
    if len(y_arr) == 0:
        return float("nan")
    order = np.argsort(p_arr, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, min(n_bins, len(order))):
        if len(chunk):
            error += len(chunk) * abs(p_arr[chunk].mean() - y_arr[chunk].mean())
    return float(error / len(y_arr))


def calibration_table(y: object, p: object, n_bins: int = 10) -> pd.DataFrame:
    """Per equal-count bin: mean predicted probability, observed churn rate, rows."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(p_arr, kind="stable")
    rows = [
        {"mean_p": p_arr[c].mean(), "churn_rate": y_arr[c].mean(), "n": len(c)}
        for c in np.array_split(order, min(n_bins, max(len(order), 1))) if len(c)
    ]
    return pd.DataFrame(rows)


def compute_metrics(y: object, p: object, budget_share: float = 0.1) -> dict[str, float]:
    """All headline metrics for one score. Undefined metrics (one class only) are NaN.

    ``p`` should be a probability for log loss, Brier and ECE to mean anything; for a pure
    ranking score (the recency rule) read only the ranking, lift and capture figures.
    """
    if not 0 < budget_share <= 1:
        raise ValueError(f"budget_share must be in (0, 1], got {budget_share}")
    y_arr, p_arr = _arrays(y, p)
    n = len(y_arr)
    base = float(y_arr.mean()) if n else float("nan")
    two_classes = n > 0 and 0 < y_arr.sum() < n
    is_prob = n > 0 and p_arr.min() >= 0 and p_arr.max() <= 1
    nan = float("nan")
    cap10 = capture_at(y_arr, p_arr, 0.1) if two_classes else nan
    cap_b = capture_at(y_arr, p_arr, budget_share) if two_classes else nan
    return {
        "roc_auc": float(roc_auc_score(y_arr, p_arr)) if two_classes else nan,
        "pr_auc": float(average_precision_score(y_arr, p_arr)) if two_classes else nan,
        "log_loss": float(log_loss(y_arr, np.clip(p_arr, 1e-15, 1 - 1e-15), labels=[0, 1]))
        if is_prob else nan,
        "brier": float(brier_score_loss(y_arr, p_arr)) if is_prob else nan,
        "ece": expected_calibration_error(y_arr, p_arr) if is_prob else nan,
        "lift_top_decile": cap10 / 0.1 if two_classes else nan,
        "capture_top_decile": cap10,
        "lift_at_budget": cap_b / budget_share if two_classes else nan,
        "capture_at_budget": cap_b,
        "base_rate": base,
        "n": float(n),
    }


def metrics_by_segment(
    df: pd.DataFrame,
    y: object,
    p: object,
    segment_col: str,
    budget_share: float = 0.1,
) -> pd.DataFrame:
    """``compute_metrics`` per value of ``df[segment_col]`` (rows aligned with ``y`` and ``p``)."""
    if segment_col not in df.columns:
        raise KeyError(f"segment column '{segment_col}' not in the frame; have {list(df.columns)}")
    y_arr, p_arr = _arrays(y, p)
    seg = df[segment_col].astype("object").fillna("<missing>").to_numpy()
    rows = []
    for value in sorted(pd.unique(seg), key=str):
        mask = seg == value
        rows.append({
            "segment_column": segment_col,
            "segment": str(value),
            **compute_metrics(y_arr[mask], p_arr[mask], budget_share),
        })
    return pd.DataFrame(rows)


def compare_to_baselines(
    metrics: dict[str, dict[str, float]],
    model: str = MAIN_MODEL,
    baselines: Sequence[str] = ("logistic", "recency_rule"),
    keys: Sequence[str] = ("roc_auc",),
) -> dict[str, bool]:
    """Per baseline: does the model beat it on every metric in ``keys`` (by default ROC-AUC,
    the figure "beats baselines" and the promotion gate judge by)?"""
    return {
        b: all(metrics[model][k] > metrics[b][k] for k in keys)
        for b in baselines if b in metrics
    }
