"""Time-dependent AUC and the concordance index, written out from their definitions.

Time is discrete here, as in the hazard model: ``time`` is the number of the interval a
customer churned in (1 = the first horizon's window) or, for a customer still there at the end
of the longest horizon, one past the last interval with ``event`` 0 (administrative
censoring at the longest horizon, nothing earlier: the evaluation uses cutoffs whose whole
window was observed).

* Cumulative/dynamic AUC at horizon k (Heagerty & Zheng 2005; Uno et al. 2007): cases churned
  within k (``event`` and ``time <= k``), controls were still customers after it
  (``time > k``); AUC = P(score_case > score_control), ties half. Without censoring before k
  the inverse-probability-of-censoring weights are all 1, so this is the unweighted form; a
  censored row before k is refused rather than silently miscounted.
* Harrell's C: a pair is comparable when the earlier time is an event (and, at equal times,
  the other row is censored); it is concordant when the earlier churner has the higher risk,
  ties in risk count half. Uno's C truncated at the longest horizon weights comparable pairs by
  1 / G(t)^2 with G the censoring survival; with no censoring before the horizon G = 1, so
  here Uno's C equals Harrell's C.

``c_index_resampled`` gives C for many bootstrap resamples at once (rows drawn with counts, as
``training.bootstrap`` draws them), so C gets an interval paired with the AUCs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["c_index_resampled", "cumulative_dynamic_auc", "harrell_c"]


def _arrays(time: object, event: object, score: object) -> tuple[np.ndarray, ...]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    s = np.asarray(score, dtype=float)
    if not (t.shape == e.shape == s.shape) or t.ndim != 1:
        raise ValueError(f"time, event and score must be 1-d of one length; got shapes "
                         f"{t.shape}, {e.shape}, {s.shape}")
    if np.isnan(t).any() or np.isnan(s).any():
        raise ValueError("time and score must not hold NaN")
    return t, e, s


def cumulative_dynamic_auc(time: object, event: object, score: object, k: float) -> float:
    """P(score of a churner within ``k`` > score of a customer still there after ``k``)."""
    t, e, s = _arrays(time, event, score)
    if ((~e) & (t <= k)).any():
        raise ValueError(f"rows censored at or before {k} need censoring weights (IPCW); "
                         "evaluate on cutoffs whose whole window was observed")
    cases, controls = s[e & (t <= k)], s[t > k]
    if len(cases) == 0 or len(controls) == 0:
        return float("nan")
    # rank-sum form: for each case, controls below it plus half the tied ones
    ordered = np.sort(controls)
    below = np.searchsorted(ordered, cases, side="left")
    tied = np.searchsorted(ordered, cases, side="right") - below
    return float((below + 0.5 * tied).sum() / (len(cases) * len(controls)))


def _pair_matrices(t: np.ndarray, e: np.ndarray, s: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(event rows, comparable (events x n), concordance credit (events x n))."""
    events = np.flatnonzero(e)
    ti, si = t[events][:, None], s[events][:, None]
    comparable = (t[None, :] > ti) | ((t[None, :] == ti) & ~e[None, :])
    credit = np.where(s[None, :] < si, 1.0, np.where(s[None, :] == si, 0.5, 0.0))
    return events, comparable.astype(np.float32), (comparable * credit).astype(np.float32)


def harrell_c(time: object, event: object, score: object) -> float:
    """Harrell's concordance index of a risk score (higher = churns sooner)."""
    t, e, s = _arrays(time, event, score)
    _, comparable, credit = _pair_matrices(t, e, s)
    total = float(comparable.sum())
    return float(credit.sum() / total) if total else float("nan")


def c_index_resampled(time: object, event: object, score: object, counts: np.ndarray,
                      chunk: int = 100) -> np.ndarray:
    """Harrell's C under each row of ``counts`` (resamples x rows: how often a row is drawn).

    A pair (i, j) drawn ``w_i`` and ``w_j`` times counts ``w_i * w_j`` times, so each
    resample's C is two weighted sums: one matrix product per chunk of resamples.
    """
    t, e, s = _arrays(time, event, score)
    events, comparable, credit = _pair_matrices(t, e, s)
    out = []
    for lo in range(0, len(counts), chunk):
        w = np.asarray(counts[lo:lo + chunk], dtype=np.float32)
        we = w[:, events]
        num = (we * (w @ credit.T)).sum(axis=1, dtype=np.float64)
        den = (we * (w @ comparable.T)).sum(axis=1, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(num / den)
    return np.concatenate(out) if out else np.zeros(0)
