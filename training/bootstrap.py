"""Error bars for the test-fold figures: a paired bootstrap over the test rows.

A test fold with ~110 churners gives an ROC-AUC whose standard error is near 0.02, as large as
most of the gaps a run reports (model vs baseline, model vs truth). Each resample draws the
test rows again with replacement (within each class by default, so every resample keeps the
fold's churn rate) and every score is judged on the *same* resampled rows, so a difference
between two scores gets its own interval, narrower than the two intervals side by side would
suggest. The interval is the 2.5th..97.5th percentile of the resampled figures.

A resample is a row of counts (how often each test row was drawn), so a metric over all
resamples is one weighted computation: the rows are sorted once per score, tied scores merged
into groups, and ROC-AUC, average precision and top-decile capture follow from cumulative
sums of the counts along the sorted groups, for a chunk of resamples at a time. 1000 resamples
of 25,000 rows take about a second per score.

Resampling is by customer when the rows name theirs (``clusters``): a resample draws customers
with replacement and takes every row of each drawn customer. With several test cutoffs one
customer's rows share their history and usually their outcome, so drawing rows independently
treats correlated rows as independent evidence and the interval comes out too narrow. With one
row per customer (one test cutoff) it is the row bootstrap, draw for draw. Stratified, the
draws are made separately among customers with a churn row and customers without.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The figures the bootstrap covers: the headline ranking and targeting metrics.
BOOTSTRAP_METRICS = ("roc_auc", "pr_auc", "lift_top_decile")
DEFAULT_RESAMPLES = 1000
CHUNK = 50


@dataclass(frozen=True)
class Interval:
    """A figure on the test fold and its 95% bootstrap interval."""

    estimate: float
    low: float
    high: float

    @property
    def crosses_zero(self) -> bool:
        """For a difference: is zero inside the interval (no clear winner)?"""
        return bool(self.low <= 0 <= self.high)

    def text(self, signed: bool = False, digits: int = 3) -> str:
        """``0.790 (95% CI 0.751..0.828)``; ``signed``: ``+0.012 (95% CI +0.003..+0.021)``."""
        f = f"{'+' if signed else ''}.{digits}f"
        return f"{self.estimate:{f}} (95% CI {self.low:{f}}..{self.high:{f}})"

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "ci_low": self.low, "ci_high": self.high}


def cluster_codes(clusters: Sequence[object] | np.ndarray | None, n: int) -> np.ndarray:
    """0..k-1 per row, numbered in order of first appearance (rows alone: 0..n-1)."""
    if clusters is None:
        return np.arange(n)
    codes, _ = pd.factorize(np.asarray(clusters), use_na_sentinel=False)
    if len(codes) != n:
        raise ValueError(f"clusters has {len(codes)} entries for {n} rows; pass one customer "
                         "id per test row")
    return codes


def resample_counts(y: np.ndarray, n_resamples: int, seed: int = 0,
                    stratified: bool = True,
                    clusters: Sequence[object] | np.ndarray | None = None) -> np.ndarray:
    """(n_resamples, n) draw counts: how many times each row is in each resample.

    ``clusters`` (one customer id per row) draws customers, each drawn customer bringing all
    of its rows; without it every row is its own customer. ``stratified`` draws customers with
    and without a churn row separately, each as many as the fold has.
    """
    y = np.asarray(y, dtype=int)
    n = len(y)
    codes = cluster_codes(clusters, n)
    k = int(codes.max()) + 1 if n else 0
    churned = np.zeros(k, dtype=bool)
    churned[codes[y == 1]] = True
    rng = np.random.default_rng(seed)
    # uint8: a customer drawn 256 times in one resample would need k in the thousands of
    # millions; keeps 1000 resamples of 25k rows at 25 MB.
    counts = np.zeros((n_resamples, n), dtype=np.uint8)
    groups = ([np.flatnonzero(~churned), np.flatnonzero(churned)] if stratified
              else [np.arange(k)])
    for lo in range(0, n_resamples, CHUNK):
        m = min(CHUNK, n_resamples - lo)
        block = np.zeros(m * k, dtype=np.int64)
        offsets = (np.arange(m) * k)[:, None]
        for members in groups:
            if len(members) == 0:
                continue
            draws = members[rng.integers(0, len(members), size=(m, len(members)))]
            block += np.bincount((draws + offsets).ravel(), minlength=m * k)
        counts[lo:lo + m] = block.reshape(m, k)[:, codes]
    return counts


def weighted_metrics(y: np.ndarray, score: np.ndarray, counts: np.ndarray,
                     share: float = 0.1) -> dict[str, np.ndarray]:
    """``BOOTSTRAP_METRICS`` of ``score`` under each row of ``counts`` (one value per resample).

    Equal to ``training.evaluate.compute_metrics`` on the rows each resample drew (ties in the
    score are shared out the same way: half a pair for ROC-AUC, in expectation for capture).
    """
    y = np.asarray(y, dtype=int)
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    pos_sorted = y[order] == 1
    out: dict[str, list[np.ndarray]] = {k: [] for k in BOOTSTRAP_METRICS}
    for lo in range(0, len(counts), CHUNK):
        w = counts[lo:lo + CHUNK][:, order].astype(np.float32)
        # per tie group, high scores first (float32 counts are exact up to 2**24 rows)
        size = np.add.reduceat(w, starts, axis=1).astype(float)
        pos = np.add.reduceat(w * pos_sorted, starts, axis=1).astype(float)
        neg = size - pos
        n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
        tp, fp = np.cumsum(pos, axis=1), np.cumsum(neg, axis=1)
        # ROC-AUC: each churner beats the stayers in lower groups, half of those tied with it.
        below = n_neg[:, None] - fp
        with np.errstate(invalid="ignore", divide="ignore"):
            out["roc_auc"].append((pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg))
            precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
            out["pr_auc"].append((pos * precision).sum(axis=1) / n_pos)
        # Top decile: k rows; the group the cut falls in contributes its churn share.
        total = size.sum(axis=1)
        k = np.maximum(1, np.round(total * share))
        cum = np.cumsum(size, axis=1)
        cut = np.argmax(cum >= k[:, None], axis=1)
        r = np.arange(len(w))
        above_rows = cum[r, cut] - size[r, cut]
        above_pos = tp[r, cut] - pos[r, cut]
        caught = above_pos + (k - above_rows) * pos[r, cut] / size[r, cut]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["lift_top_decile"].append(caught / n_pos / share)
    return {k: np.concatenate(v) for k, v in out.items()}


def _interval(estimate: float, values: np.ndarray) -> Interval:
    finite = values[np.isfinite(values)]
    if len(finite) == 0 or not np.isfinite(estimate):
        return Interval(float(estimate), float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return Interval(float(estimate), float(low), float(high))


def paired_bootstrap(
    y: np.ndarray,
    main: np.ndarray,
    baselines: Mapping[str, np.ndarray] | None = None,
    truth: np.ndarray | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    stratified: bool = True,
    clusters: Sequence[object] | np.ndarray | None = None,
    counts: np.ndarray | None = None,
    metrics: Sequence[str] = BOOTSTRAP_METRICS,
) -> dict[str, Interval]:
    """95% intervals of the main score's metrics and of the paired differences.

    Keys: ``<metric>`` (the main score), ``<metric>_diff_vs_<baseline>`` (main minus the
    baseline) and, with ``truth``, ``<metric>_gap_vs_truth`` (truth minus main: the oracle
    gap) and ``<metric>_truth_vs_<baseline>`` (truth minus the baseline: the most any model
    could beat it by, so a goal of beating it can be judged reachable or not). Estimates are
    the figures on the fold as it is. ``clusters`` (the customer id of each row) resamples
    customers rather than rows. ``counts`` replaces the random resamples (tests pass a fixed
    set).
    """
    y = np.asarray(y, dtype=int)
    if counts is None:
        counts = resample_counts(y, n_resamples, seed, stratified, clusters)
    full = np.ones((1, len(y)), dtype=np.int32)
    scores: dict[str, np.ndarray] = {"main": np.asarray(main, dtype=float)}
    scores.update({f"b:{k}": np.asarray(v, dtype=float) for k, v in (baselines or {}).items()})
    if truth is not None:
        scores["truth"] = np.asarray(truth, dtype=float)
    point = {k: weighted_metrics(y, s, full) for k, s in scores.items()}
    boot = {k: weighted_metrics(y, s, counts) for k, s in scores.items()}
    out: dict[str, Interval] = {}
    for m in metrics:
        out[m] = _interval(float(point["main"][m][0]), boot["main"][m])
        for key in scores:
            if key.startswith("b:"):
                out[f"{m}_diff_vs_{key[2:]}"] = _interval(
                    float(point["main"][m][0] - point[key][m][0]), boot["main"][m] - boot[key][m])
        if "truth" in scores:
            out[f"{m}_gap_vs_truth"] = _interval(
                float(point["truth"][m][0] - point["main"][m][0]),
                boot["truth"][m] - boot["main"][m])
            for key in scores:  # the headroom: what any model could gain over a baseline
                if key.startswith("b:"):
                    out[f"{m}_truth_vs_{key[2:]}"] = _interval(
                        float(point["truth"][m][0] - point[key][m][0]),
                        boot["truth"][m] - boot[key][m])
    return out


__all__ = ["BOOTSTRAP_METRICS", "DEFAULT_RESAMPLES", "Interval", "cluster_codes",
           "paired_bootstrap",
           "resample_counts", "weighted_metrics"]
