"""Feature and score drift between a reference population and a current one: pure functions.

Two views of every feature, because each misses what the other sees:

- PSI (population stability index), a size-free effect: bins are taken from the *reference*
  (numbers: ``n_bins`` quantile bins, right-closed, with ties merged so a count feature that
  is mostly zero gets fewer, wider bins; categories: one bin per level; missing values: a bin
  of their own in both cases), e = reference share and a = current share of each bin, and
  ``PSI = sum((a - e) * ln(a / e))``, an empty bin's share replaced by ``epsilon`` so the
  logarithm is defined. Rules of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 a real shift.
- A two-sample test: Kolmogorov-Smirnov (``scipy.stats.ks_2samp``) on the numbers (missing
  values placed above every number),
  chi-square of independence (``scipy.stats.chi2_contingency``) on the 2 x levels table of
  categories (missing as a level). On tens of thousands of rows any difference is
  "significant", so a test alone flags a feature only when its effect is also large enough:
  the KS statistic D (largest gap between the two empirical CDFs) or Cramér's V
  (``sqrt(chi2 / n)`` for two samples) at least ``min_effect`` (0.15: a 15-point gap
  between the two cumulative shares; at 0.1 a simulated world's lifetime totals, which grow
  as its customers age, were flagged month after month without any cause).

A feature has drifted when PSI >= ``psi_threshold``, or the test's p-value < ``p_value`` with
effect >= ``min_effect``. Evidently and NannyML compute the same figures but cannot be
installed beside this project's pandas and LightGBM, so the definitions are written here and
tested against hand computations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cxchurn.errors import ConfigError

MISSING = "<missing>"
DRIFT_COLUMNS = ("feature", "kind", "psi", "test", "statistic", "p_value", "effect", "drifted")


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the drift verdict (see the module docstring)."""

    psi_threshold: float = 0.2
    p_value: float = 0.01
    min_effect: float = 0.15
    n_bins: int = 10
    epsilon: float = 1e-4

    def __post_init__(self) -> None:
        if not self.psi_threshold > 0:
            raise ConfigError(f"DriftConfig.psi_threshold must be > 0; got {self.psi_threshold}")
        if not 0 < self.p_value < 1:
            raise ConfigError(f"DriftConfig.p_value must be in (0, 1); got {self.p_value}")
        if not 0 <= self.min_effect <= 1:
            raise ConfigError(f"DriftConfig.min_effect must be in [0, 1]; got {self.min_effect}")
        if self.n_bins < 2:
            raise ConfigError(f"DriftConfig.n_bins must be >= 2; got {self.n_bins}")
        if not 0 < self.epsilon < 0.01:
            raise ConfigError(f"DriftConfig.epsilon must be in (0, 0.01); got {self.epsilon}")


def is_categorical(values: pd.Series) -> bool:
    """Text, category and boolean columns are compared level by level; the rest as numbers."""
    return not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
        values.dtype)


def psi_from_shares(expected: np.ndarray, actual: np.ndarray, epsilon: float = 1e-4) -> float:
    """``sum((a - e) * ln(a / e))`` over bins, shares below ``epsilon`` raised to it."""
    e = np.maximum(np.asarray(expected, dtype=float), epsilon)
    a = np.maximum(np.asarray(actual, dtype=float), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(reference: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Inner bin edges: the reference's 1/n ... (n-1)/n quantiles, duplicates merged.

    Quantiles are observed values (the inverse empirical CDF, no interpolation), so a count
    feature's edges fall on counts and a bin never splits a value.
    """
    ref = np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref)]
    if not ref.size:
        return np.zeros(0)
    quantiles = np.linspace(0, 1, n_bins + 1)[1:-1]
    return np.unique(np.quantile(ref, quantiles, method="inverted_cdf"))


def numeric_bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the right-closed bins (-inf, e1], (e1, e2], ..., (ek, inf), then missing."""
    x = np.asarray(values, dtype=float)
    missing = np.isnan(x)
    index = np.searchsorted(edges, x[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return np.append(counts, missing.sum())


def category_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts per level (the union of both samples' levels, missing as a level)."""
    ref = reference.astype("object").where(reference.notna(), MISSING).astype(str)
    cur = current.astype("object").where(current.notna(), MISSING).astype(str)
    levels = sorted(set(ref.unique()) | set(cur.unique()))
    ref_counts = ref.value_counts().reindex(levels, fill_value=0).to_numpy()
    cur_counts = cur.value_counts().reindex(levels, fill_value=0).to_numpy()
    return ref_counts, cur_counts


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def psi(reference: pd.Series | np.ndarray, current: pd.Series | np.ndarray,
        config: DriftConfig | None = None) -> float:
    """PSI of one feature (or of the score), bins from the reference; see the module docstring."""
    config = config or DriftConfig()
    ref, cur = pd.Series(reference), pd.Series(current)
    if is_categorical(ref) or is_categorical(cur):
        ref_counts, cur_counts = category_counts(ref, cur)
    else:
        edges = quantile_edges(ref.to_numpy(dtype=float), config.n_bins)
        ref_counts = numeric_bin_counts(ref.to_numpy(dtype=float), edges)
        cur_counts = numeric_bin_counts(cur.to_numpy(dtype=float), edges)
        if ref_counts[-1] == 0 and cur_counts[-1] == 0:  # no missing bin when none is missing
            ref_counts, cur_counts = ref_counts[:-1], cur_counts[:-1]
    return psi_from_shares(_shares(ref_counts), _shares(cur_counts), config.epsilon)


def two_sample_test(reference: pd.Series, current: pd.Series) -> tuple[str, float, float, float]:
    """(test name, statistic, p-value, effect): KS for numbers, chi-square for categories.

    The effect is KS's D, or Cramér's V for the chi-square. An empty side gives statistic 0
    and p-value 1: nothing to compare.
    """
    if is_categorical(reference) or is_categorical(current):
        ref_counts, cur_counts = category_counts(reference, current)
        table = np.vstack([ref_counts, cur_counts])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            return "chi2", 0.0, 1.0, 0.0
        chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
        return "chi2", float(chi2), float(p_value), float(np.sqrt(chi2 / table.sum()))
    # Missing values count as a value above every number (as PSI gives them a bin), so a
    # mostly-missing feature's D measures the whole population, not its few filled rows.
    ref = np.nan_to_num(reference.to_numpy(dtype=float), nan=np.inf)
    cur = np.nan_to_num(current.to_numpy(dtype=float), nan=np.inf)
    if not ref.size or not cur.size:
        return "ks", 0.0, 1.0, 0.0
    result = stats.ks_2samp(ref, cur)
    return "ks", float(result.statistic), float(result.pvalue), float(result.statistic)


def drift_table(reference: pd.DataFrame, current: pd.DataFrame, features: Sequence[str],
                config: DriftConfig | None = None) -> pd.DataFrame:
    """One row per feature (DRIFT_COLUMNS), most drifted first (by PSI).

    ``drifted``: PSI >= psi_threshold, or p-value < p_value with effect >= min_effect.
    """
    config = config or DriftConfig()
    missing = [f for f in features if f not in reference.columns or f not in current.columns]
    if missing:
        raise ConfigError(f"drift_table: feature(s) {missing} are not in both frames; pass "
                          "features that the reference and the current rows both carry")
    rows = []
    for name in features:
        ref, cur = reference[name], current[name]
        test, statistic, p_value, effect = two_sample_test(ref, cur)
        value = psi(ref, cur, config)
        rows.append({
            "feature": name,
            "kind": "categorical" if is_categorical(ref) else "numeric",
            "psi": value, "test": test, "statistic": statistic, "p_value": p_value,
            "effect": effect,
            "drifted": bool(value >= config.psi_threshold
                            or (p_value < config.p_value and effect >= config.min_effect)),
        })
    table = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    return table.sort_values(["psi", "effect"], ascending=False, kind="stable").reset_index(
        drop=True)
