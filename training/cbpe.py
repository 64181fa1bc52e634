"""Performance expected before labels arrive, from calibrated probabilities (CBPE).

Confidence-based performance estimation, as NannyML's documentation defines it: if the
probabilities p are calibrated, a row with p = 0.3 is in expectation 0.3 of a churner and
0.7 of a stayer. So at every threshold t (every score, highest first)

    expected TP(t) = sum of p over rows with p >= t,   expected FP(t) = sum of (1 - p) there,
    TPR(t) = TP(t) / sum(p),                            FPR(t) = FP(t) / sum(1 - p),

and the expected ROC-AUC is the trapezoid area under (FPR, TPR) from (0, 0) to (1, 1).
Equivalently: ``(sum over pairs i ranked above j of p_i (1 - p_j) + 1/2 sum_i p_i (1 - p_i))
/ (sum p * sum (1 - p))``. Tied scores need no special care: a run of equal p adds equal
steps, so its points lie on one straight segment and the trapezoid is the same.

Expected lift in the top decile uses the same idea with ``evaluate.capture_at`` (the realised
figure's own definition, ties shared): expected churners among the top 10% = sum of their p.
Expected churn rate = mean p.

The estimate is only as good as the calibration: it is blind to concept drift (the same
features now meaning a different risk), which only realised figures reveal once labels mature.
"""

from __future__ import annotations

import numpy as np

from training.evaluate import capture_at


def expected_roc_curve(p: object) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) points of the expected ROC curve, from (0, 0) to (1, 1)."""
    prob = np.asarray(p, dtype=float)
    order = np.argsort(-prob, kind="stable")
    sorted_p = prob[order]
    tp = np.concatenate([[0.0], np.cumsum(sorted_p)])
    fp = np.concatenate([[0.0], np.cumsum(1.0 - sorted_p)])
    positives, negatives = tp[-1], fp[-1]
    if positives <= 0 or negatives <= 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    return fp / negatives, tp / positives


def expected_auc(p: object) -> float:
    """Expected ROC-AUC of calibrated probabilities (NaN when all p are 0 or all are 1)."""
    prob = np.asarray(p, dtype=float)
    if not prob.size or prob.sum() <= 0 or (1.0 - prob).sum() <= 0:
        return float("nan")
    fpr, tpr = expected_roc_curve(prob)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def expected_lift(p: object, share: float = 0.1) -> float:
    """Expected lift of the ``share`` highest-scored rows: expected capture / share."""
    prob = np.asarray(p, dtype=float)
    if not prob.size or prob.sum() <= 0:
        return float("nan")
    return capture_at(prob, prob, share) / share


def estimate(p: object, share: float = 0.1) -> dict[str, float]:
    """Expected ROC-AUC, top-decile lift and churn rate of a scored population."""
    prob = np.asarray(p, dtype=float)
    return {
        "est_roc_auc": expected_auc(prob),
        "est_lift_top_decile": expected_lift(prob, share),
        "est_churn_rate": float(prob.mean()) if prob.size else float("nan"),
    }
