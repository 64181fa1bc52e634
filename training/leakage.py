"""Leakage guard: a single feature that separates the label almost perfectly is suspect.

Real churn is noisy; no honest single CX signal predicts it with an AUC near 1. When one does,
the usual cause is a feature computed from the label window (an event at or after the cutoff, a
cancellation flag, a copy of the label). The guard runs on the training fold before training,
warns loudly, and drops the feature unless the user explicitly keeps it; the report says what
was dropped and why so the run record carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeakageReport:
    """Features whose single-feature AUC (max(auc, 1 - auc)) reached the threshold."""

    threshold: float
    dropped: dict[str, float] = field(default_factory=dict)
    kept_on_request: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> dict[str, float]:
        return {**self.dropped, **self.kept_on_request}

    def reason(self, feature: str) -> str:
        auc = self.flagged[feature]
        return (
            f"feature '{feature}' alone separates churners with AUC {auc:.3f} "
            f"(threshold {self.threshold:.2f}): likely computed from the label window"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "dropped": {f: {"auc": a, "reason": self.reason(f)} for f, a in self.dropped.items()},
            "kept_on_request": {
                f: {"auc": a, "reason": self.reason(f)} for f, a in self.kept_on_request.items()
            },
        }


def single_feature_auc(x: pd.Series, y: np.ndarray) -> float:
    """How well one feature alone ranks churners: max(auc, 1 - auc), missing values included.

    Numbers are ranked as they are, with missing values tried at both ends (a feature that is
    missing exactly for churners is a leak too). Categories are ranked by their churn rate,
    an in-sample encoding that is fine for the low-cardinality static attributes we have.
    """
    if len(np.unique(y)) < 2:
        return float("nan")
    if isinstance(x.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(x.dtype):
        keys = x.astype("object").where(x.notna(), "<missing>").astype(str).to_numpy()
        rates = pd.Series(y).groupby(keys).mean()
        score = pd.Series(keys).map(rates).to_numpy(dtype=float)
        auc = roc_auc_score(y, score)
        return float(max(auc, 1 - auc))
    values = x.to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if missing.all():
        return 0.5
    best = 0.5
    lo, hi = np.nanmin(values[~missing]), np.nanmax(values[~missing])
    for fill in ((lo - 1, hi + 1) if missing.any() else (lo,)):
        filled = np.where(missing, fill, values)
        auc = roc_auc_score(y, filled)
        best = max(best, auc, 1 - auc)
    return float(best)


def find_leaks(
    X: pd.DataFrame,
    y: object,
    threshold: float = 0.95,
    keep: Iterable[str] = (),
) -> LeakageReport:
    """Flag every feature whose single-feature AUC is >= ``threshold``; drop unless kept."""
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (0.5, 1], got {threshold}")
    y_arr = np.asarray(y, dtype=int)
    keep_set = set(keep)
    dropped: dict[str, float] = {}
    kept: dict[str, float] = {}
    for col in X.columns:
        auc = single_feature_auc(X[col], y_arr)
        if np.isfinite(auc) and auc >= threshold:
            (kept if col in keep_set else dropped)[str(col)] = round(auc, 4)
    report = LeakageReport(threshold=threshold, dropped=dropped, kept_on_request=kept)
    for feature in dropped:
        log.warning("LEAKAGE: dropped %s; pass it in keep_features to keep it",
                    report.reason(feature))
    for feature in kept:
        log.warning("LEAKAGE: kept on request %s", report.reason(feature))
    return report
