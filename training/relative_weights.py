"""Relative weights analysis (Johnson 2000): each predictor's share of a regression's R².

Why not the regression's coefficients: a customer's experience features are strongly
correlated (late deliveries, their delays and their decayed damage move together), so
coefficients split a shared effect arbitrarily and flip sign between samples. Johnson's
method (J. W. Johnson, "A heuristic method for estimating the relative weight of predictor
variables in multiple regression", Multivariate Behavioral Research 35(1), 2000) replaces the
predictors by their closest orthogonal counterparts Z, regresses the answer on Z, and hands
each orthogonal variable's explained variance back to the original predictors in proportion
to how much of it they make up. The raw weights are non-negative and add up to R² exactly.

With the predictors' correlation matrix ``R = Q diag(λ) Q'``:

- ``Λ = Q diag(√λ) Q'`` (the symmetric square root of R: the correlations of X with Z);
- ``β = Λ⁻¹ r_xy`` (the standardised coefficients of the answer on Z);
- raw weight ``ε_j = Σ_k Λ_jk² β_k²``; ``Σ_j ε_j = R²``.

Chance: in a sample of n answers, a predictor unrelated to the answer still gets a raw weight
of about (1 - R²) / (n - 1) (its expected squared correlation by chance; R² of the
population, estimated as the adjusted R²), so a family with
many features looks stronger in a small sample just by having more of them.
``adjusted_weights`` subtracts that expectation from a group's summed weight (floored at 0);
over all predictors the correction is Ezekiel's adjusted R² (``1 - (1 - R²)(n - 1) /
(n - p - 1)``, to first order).

Perfectly collinear or constant predictors make ``R`` singular; eigenvalues below ``EPS``
times the largest are treated as zero (a pseudo-inverse), which leaves R² and the weights of
the remaining directions unchanged.
"""

from __future__ import annotations

import numpy as np

from cxchurn.errors import ConfigError

EPS = 1e-10


def weights_from_correlations(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Raw relative weights from the predictors' correlation matrix and their correlations
    with the answer; they sum to the regression's R²."""
    rxx = np.asarray(rxx, dtype=float)
    rxy = np.asarray(rxy, dtype=float)
    if rxx.ndim != 2 or rxx.shape[0] != rxx.shape[1] or rxy.shape != (rxx.shape[0],):
        raise ConfigError(f"relative weights need a square correlation matrix and one "
                          f"correlation per predictor; got {rxx.shape} and {rxy.shape}")
    values, vectors = np.linalg.eigh((rxx + rxx.T) / 2)
    keep = values > EPS * max(float(values.max()), EPS)
    root = np.sqrt(np.where(keep, values, 0.0))
    lam = (vectors * root) @ vectors.T
    inv_root = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    beta = (vectors * inv_root) @ vectors.T @ rxy
    return (lam**2) @ (beta**2)


def standardise(x: np.ndarray, weights: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(columns centred and scaled to unit (weighted) variance, which columns vary)."""
    x = np.asarray(x, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    mean = (w @ x) / total
    centred = x - mean
    sd = np.sqrt((w @ centred**2) / total)
    varies = sd > 1e-12
    return centred / np.where(varies, sd, 1.0), varies


def relative_weights(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
                     ) -> np.ndarray:
    """Raw relative weight of each column of ``x`` for ``y`` (0 for a constant column).

    ``weights`` are row counts (a bootstrap resample draws rows as counts), so a resample
    needs no copy of the data. Rows must be complete: impute before.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or len(x) != len(y):
        raise ConfigError(f"relative weights need a (rows, predictors) matrix and one answer "
                          f"per row; got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ConfigError("relative weights need complete rows; impute missing values first")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    out = np.zeros(x.shape[1])
    if len(x) < 3 or w.sum() <= 0:
        return out
    zx, varies = standardise(x, w)
    zy, y_varies = standardise(y[:, None], w)
    if not y_varies[0] or not varies.any():
        return out
    total = w.sum()
    zx = zx[:, varies]
    rxx = (zx * w[:, None]).T @ zx / total
    rxy = (zx * w[:, None]).T @ zy[:, 0] / total
    out[varies] = weights_from_correlations(rxx, rxy)
    return out


def adjusted_weights(raw: np.ndarray, n: float, groups: np.ndarray | None = None
                     ) -> np.ndarray:
    """Summed raw weights per group (a (predictors, groups) 0/1 matrix; default: each
    predictor its own group) less what the group's predictors get by chance in ``n``
    answers, floored at 0. Correct a group, not each predictor: a single noise weight is
    skewed (mostly below its mean), so flooring each one would keep half the chance."""
    raw = np.asarray(raw, dtype=float)
    member = np.eye(len(raw)) if groups is None else np.asarray(groups, dtype=float)
    p = int((raw > 0).sum())
    if n - p - 1 <= 0:
        return np.zeros(member.shape[1])
    # (1 - adjusted R²) / (n - 1): the unexplained share estimated without the chance part
    chance = max(1.0 - raw.sum(), 0.0) / (n - p - 1.0)
    return np.clip(raw @ member - member.sum(axis=0) * chance, 0.0, None)
