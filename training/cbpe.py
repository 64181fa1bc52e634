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

How far the realised AUC may fall from the estimate by chance alone: the labels of a cutoff
are one draw of Bernoulli(p). ``auc_interval`` draws them ``n_draws`` times from the
calibrated p and takes the 2.5th..97.5th percentile of the realised AUCs those labels give.
With about 400 churners a cutoff that interval is about +-0.026 wide (a standard deviation
near 0.013), with 200 about +-0.037: a realised AUC 0.02 away from a perfect estimate is not
unusual, so the estimate is judged by whether the realised figure falls in its interval.
Each draw is one weighted sum over ranks computed once (Mann-Whitney), so 200 draws of 20,000
rows take well under a second.

The estimate is only as good as the calibration: it is blind to concept drift (the same
features now meaning a different risk), which only realised figures reveal once labels mature.

Calibration for estimation. The champion's own probabilities are calibrated for log loss: its
rule keeps LightGBM's raw probability unless Platt or isotonic clearly lowers the cross-fitted
validation log loss. Log loss barely sees a small error in the probabilities' spread, the
expected AUC sees it fully: on the benchmark's 20,000-customer worlds the raw probability was
kept in all six runs (cross-fitted log losses within 0.0001 of each other) while its log-odds
needed stretching by about 4% (calibration slope 1.04 on later cutoffs), and CBPE came out
0.010 low. So, as NannyML's CBPE does, the estimate recalibrates the champion's probability
itself on labelled rows the champion never trained on (its out-of-time validation fold):
``fit_recalibration`` is Platt scaling on the logit of that probability. Platt, not isotonic:
with a few hundred churners the isotonic steps chase noise and over-spread the probabilities
(slope 0.89-0.96 later, CBPE 0.010-0.015 high), while two parameters are learned tightly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logit
from scipy.stats import rankdata

from cxchurn.errors import ConfigError
from training.calibration import PlattCalibrator, fit_platt
from training.evaluate import capture_at

DEFAULT_DRAWS = 200


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


def auc_interval(p: object, n_draws: int = DEFAULT_DRAWS, seed: int = 0, chunk: int = 25
                 ) -> tuple[float, float]:
    """95% range of the realised AUC when labels are drawn from calibrated ``p`` (see the
    module docstring); (NaN, NaN) when there is nothing to rank."""
    prob = np.asarray(p, dtype=float)
    if prob.size < 2 or n_draws < 1 or prob.sum() <= 0 or (1.0 - prob).sum() <= 0:
        return float("nan"), float("nan")
    ranks = rankdata(prob)  # ties share their mean rank, as roc_auc_score counts them half
    rng = np.random.default_rng(seed)
    aucs = []
    for start in range(0, n_draws, chunk):
        y = rng.random((min(chunk, n_draws - start), prob.size)) < prob
        n1 = y.sum(axis=1).astype(float)
        n0 = prob.size - n1
        ok = (n1 > 0) & (n0 > 0)
        u = y.astype(float) @ ranks - n1 * (n1 + 1) / 2
        aucs.extend((u[ok] / (n1[ok] * n0[ok])).tolist())
    if not aucs:
        return float("nan"), float("nan")
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def estimate(p: object, share: float = 0.1, n_draws: int = DEFAULT_DRAWS) -> dict[str, float]:
    """Expected ROC-AUC with the range chance allows, top-decile lift and churn rate."""
    prob = np.asarray(p, dtype=float)
    low, high = auc_interval(prob, n_draws)
    return {
        "est_roc_auc": expected_auc(prob),
        "est_roc_auc_low": low,
        "est_roc_auc_high": high,
        "est_lift_top_decile": expected_lift(prob, share),
        "est_churn_rate": float(prob.mean()) if prob.size else float("nan"),
    }


# Probabilities are clipped this far from 0 and 1 before their logit is taken.
_EPS = 1e-6


def _logit(p: object) -> np.ndarray:
    return np.asarray(logit(np.clip(np.asarray(p, dtype=float), _EPS, 1.0 - _EPS)), dtype=float)


@dataclass(frozen=True)
class Recalibration:
    """Platt scaling of the champion's probability for estimation: p' = sigmoid(slope *
    logit(p) + intercept), fitted on ``n`` labelled rows (``churners`` of them) from
    ``source``. Strictly increasing, so it changes the estimate's spread and level, never the
    ranking (realised AUC is the same with either probability)."""

    platt: PlattCalibrator
    n: int
    churners: int
    source: str

    def __call__(self, p: object) -> np.ndarray:
        return self.platt(_logit(p))

    def to_dict(self) -> dict[str, object]:
        return {"method": "platt on logit(p)", "slope": self.platt.slope,
                "intercept": self.platt.intercept, "n": self.n, "churners": self.churners,
                "source": self.source}


def fit_recalibration(p: object, y: object, source: str = "") -> Recalibration:
    """Platt scaling of probabilities ``p`` on their outcomes ``y`` (see the module docstring).

    Raises ``ConfigError`` when the rows cannot support it: lengths differ, labels not 0/1,
    fewer than two churners or stayers, or a fit that does not rank churners first.
    """
    prob = np.asarray(p, dtype=float)
    labels = np.asarray(y, dtype=float)
    where = f" ({source})" if source else ""
    if prob.shape != labels.shape:
        raise ConfigError(f"CBPE calibration rows{where}: {len(prob)} probabilities but "
                          f"{len(labels)} labels; pass one 0/1 label per row")
    if np.isnan(labels).any() or not np.isin(labels, (0.0, 1.0)).all():
        raise ConfigError(f"CBPE calibration rows{where}: labels must be 0/1 without missing "
                          "values")
    churners = int(labels.sum())
    if min(churners, len(labels) - churners) < 2:
        raise ConfigError(f"CBPE calibration rows{where}: {churners} churners among "
                          f"{len(labels)} rows; need at least two churners and two stayers")
    platt = fit_platt(_logit(prob), labels.astype(int))
    if platt is None:
        raise ConfigError(f"CBPE calibration rows{where}: the champion's probability does not "
                          "rank churners above stayers there (Platt slope <= 0); check that "
                          "the rows and labels belong together")
    return Recalibration(platt, n=len(labels), churners=churners, source=source)

