"""How well the horizon model ranks and how honest its probabilities are, per horizon.

On the out-of-time test cutoff (every horizon's window complete, so nothing is censored before
the longest horizon) each horizon gets its cumulative/dynamic AUC, its mean predicted
probability beside the observed churn rate, and, paired on the same bootstrap resamples
(``training.bootstrap``, stratified by churn within the longest horizon), intervals for the
model, the simulator's truth and the baselines; Harrell's C (here equal to Uno's, see
``training.survival_metrics``) of P(churn within the longest horizon) gets the same treatment.

Baselines: ``score_30d`` is the model's own first-horizon probability reused at every horizon
(does knowing *when* add ranking power beyond one short-horizon score?), and ``logistic`` a
logistic regression per horizon on the same train rows and features (does boosting help?).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.bootstrap import DEFAULT_RESAMPLES, Interval, resample_counts, weighted_metrics
from training.survival_metrics import c_index_resampled, cumulative_dynamic_auc, harrell_c

MODEL = "model"
TRUTH = "truth"


def event_times(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time, event) from (rows, horizons) 0/1 churn-within labels: the first interval churned
    in, or one past the last with event 0 (still a customer at the longest horizon)."""
    y = np.asarray(labels, dtype=int)
    event = y[:, -1] == 1
    first = np.argmax(y == 1, axis=1) + 1
    return np.where(event, first, y.shape[1] + 1).astype(float), event


def _interval(estimate: float, values: np.ndarray) -> Interval:
    finite = values[np.isfinite(values)]
    if len(finite) == 0 or not np.isfinite(estimate):
        return Interval(float(estimate), float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return Interval(float(estimate), float(low), float(high))


@dataclass
class HorizonEvaluation:
    """Per score (model, truth, baselines): AUC per horizon and C-index, with intervals."""

    horizons: tuple[int, ...]
    n_rows: int
    churned: list[int]  # churners within each horizon
    observed_rate: list[float]
    predicted_rate: list[float]
    auc: dict[str, list[Interval]] = field(default_factory=dict)
    c_index: dict[str, Interval] = field(default_factory=dict)
    auc_diff: dict[str, list[Interval]] = field(default_factory=dict)  # model minus score

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizons": list(self.horizons), "n_rows": self.n_rows, "churned": self.churned,
            "observed_rate": self.observed_rate, "predicted_rate": self.predicted_rate,
            "time_dependent_auc": {k: [i.as_dict() for i in v] for k, v in self.auc.items()},
            "auc_model_minus": {k: [i.as_dict() for i in v] for k, v in self.auc_diff.items()},
            "c_index": {k: v.as_dict() for k, v in self.c_index.items()},
        }

    def metrics(self) -> dict[str, float]:
        """Flat figures for MLflow: ``horizon_<h>d_auc_<score>``, ``horizon_c_index_<score>``."""
        out: dict[str, float] = {}
        for name, values in self.auc.items():
            for h, iv in zip(self.horizons, values, strict=True):
                out[f"horizon_{h}d_auc_{name}"] = iv.estimate
                out[f"horizon_{h}d_auc_{name}_ci_low"] = iv.low
                out[f"horizon_{h}d_auc_{name}_ci_high"] = iv.high
        for name, iv in self.c_index.items():
            out[f"horizon_c_index_{name}"] = iv.estimate
            out[f"horizon_c_index_{name}_ci_low"] = iv.low
            out[f"horizon_c_index_{name}_ci_high"] = iv.high
        for h, p, o in zip(self.horizons, self.predicted_rate, self.observed_rate, strict=True):
            out[f"horizon_{h}d_predicted_rate"] = p
            out[f"horizon_{h}d_observed_rate"] = o
        return {k: float(v) for k, v in out.items() if np.isfinite(v)}

    def lines(self) -> list[str]:
        """The table the training summary prints (95% bootstrap intervals)."""
        names = list(self.auc)
        out = [f"time-dependent AUC per horizon ({self.n_rows} customers, 95% bootstrap CI):",
               "  horizon  churned  predicted/observed  " + "  ".join(
                   f"{n:<26}" for n in names)]
        for k, h in enumerate(self.horizons):
            rate = f"{self.predicted_rate[k]:.3f}/{self.observed_rate[k]:.3f}"
            out.append(f"  {h:>4}d   {self.churned[k]:>7}  {rate:>18}  " + "  ".join(
                f"{self.auc[n][k].text():<26}" for n in names))
        for name, diffs in self.auc_diff.items():
            out.append(f"  model minus {name}: " + ", ".join(
                f"{h}d {d.text(signed=True)}" for h, d in zip(self.horizons, diffs, strict=True)))
        h = self.horizons[-1]
        out.append(f"C-index (Harrell's; equals Uno's here: no censoring before {h}d), risk = "
                   f"P(churn within {h}d): " + "; ".join(
                       f"{n} {iv.text()}" for n, iv in self.c_index.items()))
        return out


def evaluate_horizons(labels: np.ndarray, scores: Mapping[str, np.ndarray],
                      horizons: tuple[int, ...], *, n_resamples: int = DEFAULT_RESAMPLES,
                      seed: int = 0) -> HorizonEvaluation:
    """Evaluate (rows, horizons) probabilities per named score against churn-within labels.

    ``scores`` maps a name to a (rows, horizons) array; ``MODEL`` must be among them. All
    intervals come from the same resamples, so the model-minus-score differences are paired.
    """
    scores = {MODEL: scores[MODEL], **{k: v for k, v in scores.items() if k != MODEL}}
    y = np.asarray(labels, dtype=int)
    time, event = event_times(y)
    counts = resample_counts(event.astype(int), n_resamples, seed) if n_resamples else None
    main = np.asarray(scores[MODEL], dtype=float)
    result = HorizonEvaluation(
        horizons=tuple(horizons), n_rows=len(y), churned=[int(c) for c in y.sum(axis=0)],
        observed_rate=[float(r) for r in y.mean(axis=0)],
        predicted_rate=[float(r) for r in main.mean(axis=0)])
    boot_main: list[np.ndarray] = []
    for name, raw in scores.items():
        s = np.asarray(raw, dtype=float)
        result.auc[name] = []
        boot_auc = []
        for k in range(len(horizons)):
            point = cumulative_dynamic_auc(time, event, s[:, k], k + 1)
            values = (weighted_metrics(y[:, k], s[:, k], counts)["roc_auc"]
                      if counts is not None else np.zeros(0))
            boot_auc.append(values)
            result.auc[name].append(_interval(point, values))
        if name == MODEL:
            boot_main = boot_auc
        elif counts is not None:
            main_points = [cumulative_dynamic_auc(time, event, main[:, k], k + 1)
                           for k in range(len(horizons))]
            result.auc_diff[name] = [
                _interval(main_points[k] - result.auc[name][k].estimate,
                          boot_main[k] - boot_auc[k]) for k in range(len(horizons))]
        c_point = harrell_c(time, event, s[:, -1])
        c_boot = (c_index_resampled(time, event, s[:, -1], counts)
                  if counts is not None else np.zeros(0))
        result.c_index[name] = _interval(c_point, c_boot)
    return result


__all__ = ["MODEL", "TRUTH", "HorizonEvaluation", "evaluate_horizons", "event_times"]
