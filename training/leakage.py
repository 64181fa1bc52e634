"""Leakage guard: a column that separates the label too well is suspect, one that carries the
model is reported.

Real churn is noisy; no honest single CX signal predicts it with an AUC near 1. When one does,
the usual cause is a feature computed from the label window (an event at or after the cutoff, a
cancellation flag, a copy of the label) or another model's churn score (a vendor's risk score
in a CRM extract: single-column AUC 0.94 on a real telco table, where the old 0.95 line let it
through as the top driver). Two checks, both recorded in the run:

* **Suspected leak**: single-column AUC (either direction) at or above ``threshold`` (0.90 by
  default) on the training rows. Dropped unless the user keeps it on purpose
  (``--keep-feature NAME``, and the run's headline then says it includes a suspected leak);
  ``--strict`` refuses to train instead. Only *candidate* columns are dropped: in event mode
  the declared event features (compiled from feature specs with ``window_start <= event_time <
  cutoff``) are point-in-time by construction, so the drop applies to the customer table's
  pass-through columns; a declared feature over the line is named, not dropped.
* **Dominant**: after the fit, a column that alone comes within ``DOMINANCE_AUC_MARGIN`` of the
  whole model's test AUC, or carries over half of the mean |SHAP| mass. Reported, never
  dropped, with a request to confirm the column is known before the outcome: recency on a
  purchase log dominates legitimately.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cxchurn.errors import ConfigError

log = logging.getLogger(__name__)

SUSPECT_THRESHOLD = 0.90
DOMINANCE_AUC_MARGIN = 0.03
DOMINANCE_SHAP_SHARE = 0.5


@dataclass(frozen=True)
class LeakageReport:
    """The guard's verdict: suspected leaks (dropped or kept on request) and dominant columns.

    ``single_auc`` holds every checked column's single-column AUC on the training rows
    (max(auc, 1 - auc)); ``exempt`` the declared point-in-time features (checked, never
    dropped). ``dominant``, ``shap_share`` and ``test_auc`` are filled after the fit
    (``check_dominance``).
    """

    threshold: float
    dropped: dict[str, float] = field(default_factory=dict)
    kept_on_request: dict[str, float] = field(default_factory=dict)
    single_auc: dict[str, float] = field(default_factory=dict)
    exempt: tuple[str, ...] = ()
    dominant: dict[str, str] = field(default_factory=dict)
    shap_share: dict[str, float] = field(default_factory=dict)
    test_auc: dict[str, float] = field(default_factory=dict)
    model_auc: float | None = None

    @property
    def flagged(self) -> dict[str, float]:
        """Suspected leaks: dropped ones and those kept on request."""
        return {**self.dropped, **self.kept_on_request}

    @property
    def exempt_over_threshold(self) -> dict[str, float]:
        """Declared event features whose single-column AUC reaches the line (kept, named)."""
        return {f: a for f, a in self.single_auc.items()
                if f in self.exempt and a >= self.threshold}

    def reason(self, feature: str) -> str:
        auc = self.flagged[feature]
        return (
            f"feature '{feature}' alone separates churners with AUC {auc:.3f} "
            f"(threshold {self.threshold:.2f}): likely computed from the label window or a "
            "copy of another model's churn score"
        )

    def headline(self) -> str | None:
        """The warning a run that kept a suspected leak carries in its first line."""
        if not self.kept_on_request:
            return None
        names = ", ".join(f"{f} (single-column AUC {a:.3f})"
                          for f, a in self.kept_on_request.items())
        return f"WARNING: this model includes a suspected leak: {names}, kept by --keep-feature"

    def lines(self) -> list[str]:
        """The verdict for the summary: every suspected leak and dominant column, by name."""
        kept = self.kept_on_request
        flagged = [f"{f} (AUC {a:.3f}, {'kept on request' if f in kept else 'dropped'})"
                   for f, a in self.flagged.items()]
        out = [f"leakage guard (single-column AUC >= {self.threshold:.2f}): "
               + (("suspected leak(s): " + ", ".join(flagged)) if flagged
                  else "no column flagged")]
        if self.dropped:
            out.append("  to keep a dropped column on purpose: --keep-feature NAME; to refuse "
                       "to train instead: --strict")
        for f, a in self.exempt_over_threshold.items():
            out.append(f"  declared event feature {f} reaches AUC {a:.3f}: point-in-time by "
                       "construction, kept; check its spec if that is a surprise")
        out.extend(f"  dominant: {why}" for why in self.dominant.values())
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "dropped": {f: {"auc": a, "reason": self.reason(f)} for f, a in self.dropped.items()},
            "kept_on_request": {
                f: {"auc": a, "reason": self.reason(f)} for f, a in self.kept_on_request.items()
            },
            "suspected_leaks": list(self.flagged),
            "exempt_point_in_time": list(self.exempt),
            "dominant": dict(self.dominant),
            "model_test_auc": self.model_auc,
            "columns": {f: {"single_auc_train": a, "single_auc_test": self.test_auc.get(f),
                            "shap_share": self.shap_share.get(f),
                            "candidate": f not in self.exempt}
                        for f, a in self.single_auc.items()},
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
    threshold: float = SUSPECT_THRESHOLD,
    keep: Iterable[str] = (),
    *,
    exempt: Iterable[str] = (),
    strict: bool = False,
) -> LeakageReport:
    """Flag every candidate column whose single-column AUC is >= ``threshold``.

    Flagged columns are dropped unless named in ``keep``; ``exempt`` columns (declared
    point-in-time features) are checked and recorded but never flagged. ``strict`` raises a
    ``ConfigError`` naming the flagged columns that were not kept on purpose.
    """
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (0.5, 1], got {threshold}")
    y_arr = np.asarray(y, dtype=int)
    keep_set, exempt_set = set(keep), {str(c) for c in exempt}
    dropped: dict[str, float] = {}
    kept: dict[str, float] = {}
    single: dict[str, float] = {}
    for col in X.columns:
        auc = single_feature_auc(X[col], y_arr)
        if not np.isfinite(auc):
            continue
        single[str(col)] = round(auc, 4)
        if auc >= threshold and str(col) not in exempt_set:
            (kept if col in keep_set else dropped)[str(col)] = round(auc, 4)
    report = LeakageReport(threshold=threshold, dropped=dropped, kept_on_request=kept,
                           single_auc=single,
                           exempt=tuple(c for c in map(str, X.columns) if c in exempt_set))
    if strict and dropped:
        names = ", ".join(f"{f} (AUC {a:.3f})" for f, a in dropped.items())
        raise ConfigError(
            f"suspected leak(s): {names} reach the leakage line (single-column AUC >= "
            f"{threshold:.2f}) and --strict refuses to train on them; remove the column(s) "
            f"from the data, pass --keep-feature {next(iter(dropped))} (repeatable) to keep "
            "one on purpose, raise --leak-threshold, or drop --strict to let the guard drop them"
        )
    for feature in dropped:
        log.warning("LEAKAGE: dropped %s; pass --keep-feature %s to keep it on purpose, or "
                    "--strict to refuse to train", report.reason(feature), feature)
    for feature in kept:
        log.warning("LEAKAGE: kept on request (--keep-feature) %s; the run is marked as "
                    "including a suspected leak", report.reason(feature))
    for feature, auc in report.exempt_over_threshold.items():
        log.warning("LEAKAGE: declared event feature '%s' alone separates churners with AUC "
                    "%.3f; kept (point-in-time by construction), check its spec", feature, auc)
    return report


def check_dominance(
    report: LeakageReport,
    X_test: pd.DataFrame,
    y_test: object,
    model_auc: float,
    shap_values: np.ndarray,
    feature_names: Sequence[str],
    *,
    margin: float = DOMINANCE_AUC_MARGIN,
    shap_share: float = DOMINANCE_SHAP_SHARE,
) -> LeakageReport:
    """``report`` plus the post-fit check: which model features carry the model alone.

    A feature is dominant when its single-column AUC on the test rows is within ``margin``
    of the model's test AUC, or when it holds more than ``shap_share`` of the mean |SHAP|
    mass. Dominant features are reported (WARNING log, summary, run files), never dropped.
    """
    y_arr = np.asarray(y_test, dtype=int)
    mean_abs = np.abs(np.asarray(shap_values, dtype=float)).mean(axis=0)
    total = float(mean_abs.sum())
    shares = {str(f): (float(v) / total if total > 0 else 0.0)
              for f, v in zip(feature_names, mean_abs, strict=True)}
    test_auc: dict[str, float] = {}
    dominant: dict[str, str] = {}
    for f in feature_names:
        auc = single_feature_auc(X_test[f], y_arr) if f in X_test.columns else float("nan")
        if np.isfinite(auc):
            test_auc[str(f)] = round(auc, 4)
        close = np.isfinite(auc) and np.isfinite(model_auc) and model_auc - auc <= margin
        heavy = shares[str(f)] > shap_share
        if close or heavy:
            why = []
            if close:
                why.append(f"alone reaches test AUC {auc:.3f}, within {margin:.2f} of the "
                           f"model's {model_auc:.3f}")
            if heavy:
                why.append(f"carries {shares[str(f)]:.0%} of the mean |SHAP|")
            dominant[str(f)] = (
                f"feature '{f}' {' and '.join(why)}; kept: please confirm it is known before "
                "the outcome (measured before the cutoff, not updated by the churn itself)"
            )
    for reason in dominant.values():
        log.warning("DOMINANT: %s", reason)
    return dataclasses.replace(report, dominant=dominant, shap_share=shares, test_auc=test_auc,
                               model_auc=float(model_auc))


__all__ = ["DOMINANCE_AUC_MARGIN", "DOMINANCE_SHAP_SHARE", "SUSPECT_THRESHOLD",
           "LeakageReport", "check_dominance", "find_leaks", "single_feature_auc"]
