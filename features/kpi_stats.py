"""The interval formulas behind the CX KPIs, as vectorised numpy (one value per table row).

Every function takes counts per cell and returns NaN where a cell has no answers (n = 0),
without a division by zero or a numpy warning: an empty month is a row of NaN, not an error.
All intervals are two-sided 95% (``Z95`` is the 0.975 normal quantile).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Z95 = 1.959963984540054
Floats = NDArray[np.float64]


def _n(n: ArrayLike) -> Floats:
    """Counts as floats with 0 (and missing) turned into NaN, so dividing by them is silent."""
    out = np.asarray(n, dtype=float)
    return np.where(out > 0, out, np.nan)


def share(x: ArrayLike, n: ArrayLike) -> Floats:
    """x / n, NaN where n = 0."""
    return np.asarray(x, dtype=float) / _n(n)


def wilson(x: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[Floats, Floats, Floats]:
    """Share x/n with its Wilson score interval.

    centre = (p + z^2/2n) / (1 + z^2/n);
    half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2).
    Unlike the normal interval it stays inside [0, 1] and is not empty at p = 0 or 1.
    """
    nn = _n(n)
    p = np.asarray(x, dtype=float) / nn
    denom = 1 + z**2 / nn
    centre = (p + z**2 / (2 * nn)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / nn + z**2 / (4 * nn**2))
    return p, centre - half, centre + half


def nps_interval(promoters: ArrayLike, detractors: ArrayLike, n: ArrayLike,
                 z: float = Z95) -> tuple[Floats, Floats, Floats]:
    """NPS in points (100 (pP - pD), -100..100) and its trinomial normal interval.

    Each answer is promoter (+1), passive (0) or detractor (-1), so the variance of the mean
    is var = (pP(1-pP) + pD(1-pD) + 2 pP pD) / n, and the interval is
    100 (pP - pD +/- z sqrt(var)), clipped to [-100, 100].
    """
    nn = _n(n)
    p_p = np.asarray(promoters, dtype=float) / nn
    p_d = np.asarray(detractors, dtype=float) / nn
    se = np.sqrt((p_p * (1 - p_p) + p_d * (1 - p_d) + 2 * p_p * p_d) / nn)
    nps = 100 * (p_p - p_d)
    return nps, np.clip(nps - 100 * z * se, -100, 100), np.clip(nps + 100 * z * se, -100, 100)


def mean_interval(mean: ArrayLike, sd: ArrayLike, n: ArrayLike) -> tuple[Floats, Floats]:
    """Student-t interval of a mean: mean +/- t(0.975, n-1) sd / sqrt(n); NaN when n < 2."""
    # scipy.special's inverse t CDF, imported here: scipy.stats alone takes ~2 s to import
    from scipy.special import stdtrit

    n_f = np.asarray(n, dtype=float)
    df = np.where(n_f >= 2, n_f - 1, np.nan)
    q = np.asarray(stdtrit(df, 0.975), dtype=float)
    half = q * np.asarray(sd, dtype=float) / np.sqrt(_n(n_f))
    m = np.asarray(mean, dtype=float)
    return m - half, m + half
