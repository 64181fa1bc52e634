"""Stratified k-fold cross-validation for one-row-per-customer tables.

Why not the out-of-time split: a snapshot table has no time axis, so the honest estimate is
k-fold with a fixed seed (stated in every report), stratified so each fold keeps the churn
rate. Inside each fold the model still needs a held-out part for early stopping and
calibration: a stratified share of the fold's training rows, never its test rows. The
logistic regression baseline is fitted on the same training rows and scored on the same test
rows, so model and baseline are compared fold by fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from cxchurn.errors import ConfigError
from training.baselines import fit_logistic
from training.evaluate import MAIN_MODEL, compute_metrics
from training.model import ChurnModel

HEADLINE = ("roc_auc", "pr_auc", "lift_top_decile", "brier")

# Defaults for tables of a few thousand rows: many slow rounds with early stopping, and a
# small grid of tree sizes chosen per fit on the inner validation rows (never the test rows).
# Shallow trees with large leaves and L2 suit noisy tables like IBM Telco; tables with strong
# interactions (the e-commerce one) need bigger trees. Picking among three is cheap and keeps
# one default for every table.
_BASE: dict[str, Any] = {"n_estimators": 4000, "colsample_bytree": 0.5, "subsample": 0.8,
                         "early_stopping_rounds": 300, "calibration": "auto"}
CAPACITY_GRID: dict[str, dict[str, Any]] = {
    "small": {**_BASE, "learning_rate": 0.01, "num_leaves": 4, "min_child_samples": 40,
              "reg_lambda": 5.0},
    "medium": {**_BASE, "learning_rate": 0.02, "num_leaves": 15, "min_child_samples": 20,
               "reg_lambda": 2.0},
    "large": {**_BASE, "learning_rate": 0.03, "num_leaves": 31, "min_child_samples": 10,
              "reg_lambda": 1.0},
}
TABLE_MODEL_PARAMS = CAPACITY_GRID["small"]


def fit_inner(X: pd.DataFrame, y: np.ndarray,
              grid: Mapping[str, Mapping[str, Any]] | None = None, seed: int = 0,
              valid_share: float = 0.2) -> tuple[ChurnModel, str]:
    """Fit each candidate, early-stopping and calibrating on a stratified share of ``X``;
    keep the one with the best ROC-AUC on that share. Returns (model, candidate name)."""
    if not 0 < valid_share < 0.5:
        raise ConfigError(f"valid_share must be in (0, 0.5), got {valid_share}")
    grid = grid or CAPACITY_GRID
    idx_fit, idx_valid = train_test_split(np.arange(len(y)), test_size=valid_share,
                                          stratify=y, random_state=seed)
    return best_of_grid(grid, X.iloc[idx_fit], y[idx_fit], X.iloc[idx_valid], y[idx_valid], seed)


def best_of_grid(grid: Mapping[str, Mapping[str, Any]], X_fit: pd.DataFrame, y_fit: np.ndarray,
                 X_valid: pd.DataFrame, y_valid: np.ndarray, seed: int = 0
                 ) -> tuple[ChurnModel, str]:
    """Each candidate early-stopped and calibrated on the validation rows; the one with the
    best validation ROC-AUC wins (the first on ties). Returns (model, candidate name)."""
    best: tuple[float, str, ChurnModel] | None = None
    for name, params in grid.items():
        model = ChurnModel(**{**params, "random_state": seed}).fit(X_fit, y_fit, X_valid, y_valid)
        auc = float(roc_auc_score(y_valid, model.raw_score(X_valid)))
        if best is None or auc > best[0]:
            best = (auc, name, model)
    assert best is not None
    return best[2], best[1]


def score_fold(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame,
               grid: Mapping[str, Mapping[str, Any]] | None, seed: int,
               ) -> tuple[ChurnModel, str, dict[str, np.ndarray]]:
    """Fit the model and the logistic baseline on the train rows; P(churn) on the test rows."""
    model, chosen = fit_inner(X_train, y_train, grid, seed)
    logistic = fit_logistic(X_train, y_train)
    raw = model.raw_score(X_test)
    return model, chosen, {
        MAIN_MODEL: model.predict_churn(X_test),
        f"{MAIN_MODEL}_uncalibrated": 1.0 / (1.0 + np.exp(-raw)),
        "logistic": logistic.predict_proba(X_test)[:, 1],
    }


@dataclass(frozen=True)
class CVResult:
    """Per-fold metrics of every model, and the out-of-fold scores."""

    n_folds: int
    seed: int
    folds: pd.DataFrame  # one row per (fold, model): the compute_metrics keys
    oof: pd.DataFrame  # row, fold, label, one column per model

    def mean(self) -> pd.DataFrame:
        """Mean over folds per model (rows) and metric (columns)."""
        return self.folds.drop(columns=["fold", "trees"]).groupby("model", sort=False).mean()

    def std(self) -> pd.DataFrame:
        return self.folds.drop(columns=["fold", "trees"]).groupby("model", sort=False).std(
            ddof=1)

    def chosen_trees(self) -> list[str]:
        """The tree size picked in each fold (from CAPACITY_GRID)."""
        main = self.folds[self.folds["model"] == MAIN_MODEL]
        return main["trees"].tolist()

    def protocol(self) -> str:
        return (f"stratified {self.n_folds}-fold cross-validation, seed {self.seed}; "
                "metrics are the mean over folds")

    def summary(self) -> str:
        mean, std = self.mean(), self.std()
        lines = [self.protocol(), f"tree size chosen per fold: {self.chosen_trees()}",
                 f"{'model':<24}" + "".join(f"{k:>20}" for k in HEADLINE)]
        for name in mean.index:
            lines.append(f"{name:<24}" + "".join(
                f"{mean.loc[name, k]:>12.4f} ±{std.loc[name, k]:<6.3f}" for k in HEADLINE))
        return "\n".join(lines)


def cross_validate(X: pd.DataFrame, y: np.ndarray,
                   grid: Mapping[str, Mapping[str, Any]] | None = None,
                   n_folds: int = 5, seed: int = 0, budget_share: float = 0.1) -> CVResult:
    """Stratified ``n_folds``-fold CV of the model and the logistic baseline on ``X``, ``y``."""
    y = np.asarray(y, dtype=int)
    if n_folds < 2:
        raise ConfigError(f"n_folds must be >= 2, got {n_folds}")
    if np.bincount(y, minlength=2).min() < n_folds * 2:
        raise ConfigError(f"too few churners or stayers for {n_folds}-fold CV: "
                          f"{np.bincount(y, minlength=2).tolist()} (stayers, churners)")
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    rows: list[dict[str, Any]] = []
    oof = pd.DataFrame({"row": np.arange(len(y)), "fold": -1, "label": y})
    for k, (train_idx, test_idx) in enumerate(folds.split(np.zeros(len(y)), y)):
        _, chosen, scores = score_fold(X.iloc[train_idx], y[train_idx], X.iloc[test_idx],
                                       grid, seed + k)
        oof.loc[test_idx, "fold"] = k
        for name, p in scores.items():
            oof.loc[test_idx, name] = p
            rows.append({"fold": k, "model": name, "trees": chosen if name.startswith(
                MAIN_MODEL) else "",
                         **compute_metrics(y[test_idx], p, budget_share)})
    return CVResult(n_folds=n_folds, seed=seed, folds=pd.DataFrame(rows), oof=oof)
