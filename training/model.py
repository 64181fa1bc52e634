"""The churn model: LightGBM + probability calibration + the feature contract, in one object.

Scikit-learn conventions (``__init__`` stores parameters, ``fit`` returns ``self``, learned
state ends in ``_``) so that tuning, pickling and MLflow treat it like any estimator. The model
carries its own feature list, categorical levels and the spec version it was trained on:
serving rebuilds dtypes from ``feature_schema()`` and a row with missing or extra columns is
refused with a message naming them, never silently reordered or padded.

Calibration choice: the calibrator is fitted on the validation fold, the out-of-time fold that
early stopping already uses. That fold is the closest in time to the rows we will score, so it
carries the current base rate; a cross-validated refit on the train fold would calibrate to an
older churn level. The price is that early stopping and calibration share one fold; early
stopping picks a single number (the iteration), so the optimism it adds is small, and the test
fold, never touched, reports the calibration error before and after. With
``calibration="auto"`` (the default) none, Platt and isotonic are cross-fitted on that fold and
one is kept only if it lowers the out-of-fold log loss (``training.calibration``); every
calibrator is strictly increasing in the raw score, so calibrated and raw AUC are equal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

from cxchurn.errors import ConfigError, FeatureMismatchError
from features.normalize import fold_category
from training.calibration import (
    NONE,
    apply_calibrator,
    choose_calibration,
    fit_calibrator,
    sigmoid,
)
from training.dataset import categorical_columns, learn_categories, prepare_frame

log = logging.getLogger(__name__)

CALIBRATIONS = ("auto", "isotonic", "sigmoid", None)


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted churn classifier with calibrated probabilities.

    ``monotone`` maps feature names to +1 (more never lowers risk) or -1 (more never raises
    risk); features not in the model are ignored so that one hint table serves every spec set.
    Defaults (small trees, strong column sampling, slow learning rate) were chosen on the
    default synthetic world, where churners are a few hundred per cutoff and many features are
    correlated windows of the same signal; bigger trees overfit there.
    ``n_jobs`` defaults to 1: churn tables of tens of thousands of rows train in seconds on one
    thread, while OpenMP threads on a busy or shared machine (CI runs tests two at a time on
    two cores) spin-wait and made fits 10-20x slower in our measurements.
    """

    def __init__(
        self,
        n_estimators: int = 2000,
        learning_rate: float = 0.02,
        num_leaves: int = 7,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        reg_lambda: float = 1.0,
        cat_smooth: float = 10.0,
        monotone: Mapping[str, int] | None = None,
        calibration: str | None = "auto",
        early_stopping_rounds: int = 100,
        spec_version: str | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.cat_smooth = cat_smooth
        self.monotone = monotone
        self.calibration = calibration
        self.early_stopping_rounds = early_stopping_rounds
        self.spec_version = spec_version
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting
    def _lgb_params(self) -> dict[str, object]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "cat_smooth": self.cat_smooth,
            "seed": self.random_state,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _monotone_vector(self, features: Sequence[str]) -> list[int]:
        hints = dict(self.monotone or {})
        bad = {k: v for k, v in hints.items() if v not in (-1, 0, 1)}
        if bad:
            raise ConfigError(
                f"monotone directions must be -1, 0 or +1, got {bad}; use +1 where more of the "
                "feature never lowers risk"
            )
        return [int(hints.get(f, 0)) for f in features]

    def fit(
        self,
        X: pd.DataFrame,
        y: Sequence[int] | np.ndarray | pd.Series,
        X_valid: pd.DataFrame | None = None,
        y_valid: Sequence[int] | np.ndarray | pd.Series | None = None,
    ) -> ChurnModel:
        """Fit on ``X``; stop early and calibrate on the out-of-time ``X_valid``."""
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(
                f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}"
            )
        if (X_valid is None) != (y_valid is None):
            raise ConfigError("pass both X_valid and y_valid, or neither")
        if self.calibration is not None and X_valid is None:
            raise ConfigError(
                f"calibration={self.calibration!r} needs a held-out fold: pass X_valid/y_valid "
                "or set calibration=None"
            )
        y_arr = _labels(y)
        if len(np.unique(y_arr)) < 2:
            raise ConfigError("the training labels hold a single class; need churners and stayers")
        self.feature_names_ = [str(c) for c in X.columns]
        self.categorical_features_ = categorical_columns(X, self.feature_names_)
        self.categories_ = learn_categories(X, self.categorical_features_)
        self.spec_version_ = str(self.spec_version or X.attrs.get("spec_version") or "unknown")
        self.category_fold_ = _fold_rule(X.attrs.get("category_fold"), self.categories_)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(self.feature_names_)

        params = self._lgb_params()
        mono = self._monotone_vector(self.feature_names_)
        if any(mono):
            params["monotone_constraints"] = mono
            params["monotone_constraints_method"] = "advanced"
        train_set = lgb.Dataset(
            self.prepare(X), label=y_arr, categorical_feature=self.categorical_features_,
            free_raw_data=False,
        )
        callbacks: list[Callable[..., Any]] = []
        valid_sets = []
        if X_valid is not None:
            yv = _labels(y_valid)
            valid_sets = [lgb.Dataset(self.prepare(X_valid), label=yv, reference=train_set)]
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
            params["metric"] = "binary_logloss"
        self.booster_ = lgb.train(
            params, train_set, num_boost_round=self.n_estimators,
            valid_sets=valid_sets, callbacks=callbacks,
        )
        booster = self.booster_
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.calibrator_ = None
        self.calibration_report_ = None
        if self.calibration is not None and X_valid is not None:
            raw_valid = self.raw_score(X_valid)
            report = choose_calibration(raw_valid, yv, self.calibration, seed=self.random_state)
            self.calibration_report_ = report
            if report.chosen != NONE:
                self.calibrator_ = fit_calibrator(report.chosen, raw_valid, yv)
                if self.calibrator_ is None:
                    log.warning("%s calibration was refused on the validation fold (the raw "
                                "score does not rank churners first there); probabilities "
                                "stay uncalibrated", report.chosen)
        return self

    # --------------------------------------------------------------- contract
    def check_features(self, X: pd.DataFrame) -> None:
        """Refuse rows whose columns differ from the training features, naming the difference."""
        self._check_fitted()
        have = [str(c) for c in X.columns]
        missing = [f for f in self.feature_names_ if f not in have]
        extra = [c for c in have if c not in set(self.feature_names_)]
        if missing or extra:
            raise FeatureMismatchError(
                f"expected the {len(self.feature_names_)} features the model was trained on "
                f"(spec version {self.spec_version_}); missing: {missing or 'none'}; "
                f"extra: {extra or 'none'}; build rows with the same feature spec and select "
                "exactly model.feature_names_"
            )

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as LightGBM sees it: the training features in order, categories fixed."""
        return prepare_frame(X, self.feature_names_, self.categories_)


    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise FeatureMismatchError("the model is not fitted yet; call fit() first")

    def feature_schema(self) -> dict[str, dict[str, object]]:
        """Name -> {'type': 'float'} or {'type': 'category', 'categories': [...]}, JSON-ready."""
        self._check_fitted()
        schema: dict[str, dict[str, object]] = {}
        for f in self.feature_names_:
            if f in self.categories_:
                schema[f] = {"type": "category", "categories": list(self.categories_[f])}
                fold = getattr(self, "category_fold_", None)  # absent in older models
                if fold:
                    schema[f]["fold"] = fold
            else:
                schema[f] = {"type": "float"}
        return schema

    # ------------------------------------------------------------- prediction
    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds: what SHAP values plus the expected value add up to."""
        self.check_features(X)
        return np.asarray(
            self.booster_.predict(
                self.prepare(X), raw_score=True, num_iteration=self.best_iteration_
            ),
            dtype=float,
        )

    def predict_churn(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of churn within the horizon, one per row."""
        return self.proba_from_raw(self.raw_score(X))

    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated P(churn) from raw log-odds computed elsewhere (same result as predict).

        Serving computes raw scores straight from the booster on a float matrix (no
        DataFrame, no column checks) to stay fast; this is the one public way to turn those
        into the probabilities ``predict_churn`` gives, through this model's own calibrator,
        so the calibration logic never has to be copied or reached privately.
        """
        self._check_fitted()
        raw = np.asarray(raw, dtype=float)
        if self.calibrator_ is None:
            return sigmoid(raw)
        return _apply_calibrator(self.calibrator_, raw)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``[P(stay), P(churn)]`` per row, scikit-learn style."""
        p = self.predict_churn(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """0/1 decision at ``threshold`` (retention lists rank by probability instead)."""
        return (self.predict_churn(X) >= threshold).astype(int)


def _fold_rule(rule: object, categories: Mapping[str, Sequence[object]]) -> str | None:
    """The category folding rule the training rows were written under, kept only if true.

    Rows built before category values were folded (an old feature build) may hold 'Premium';
    folding posted values to 'premium' would then miss the level, so such a model records no
    rule and serving compares posted values as sent.
    """
    if not isinstance(rule, str):
        return None
    locale = None if rule == "default" else rule
    levels = [str(v) for values in categories.values() for v in values]
    return rule if all(fold_category(v, locale) == v for v in levels) else None


def _labels(y: object) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    if np.isnan(arr).any() or not np.isin(arr, (0.0, 1.0)).all():
        raise ConfigError("labels must be 0/1 without missing values")
    return arr.astype(int)


def _apply_calibrator(calibrator: object, raw: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        # Models pickled before calibration moved to ``training.calibration`` carry
        # scikit-learn's step isotonic: scored as they were, so a registered champion keeps
        # its numbers (a vanishing slope in the raw score breaks the steps' ties).
        p = calibrator.predict(raw) + 1e-7 * (sigmoid(raw) - 0.5)
    elif hasattr(calibrator, "predict_proba"):  # the same for the old scikit-learn Platt
        p = calibrator.predict_proba(raw.reshape(-1, 1))[:, 1]
    else:
        return apply_calibrator(calibrator, raw)  # type: ignore[arg-type]
    return np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
