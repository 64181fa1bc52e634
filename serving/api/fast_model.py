"""The served ChurnModel's booster fed a float matrix: same numbers, no per-column pandas work.

``ChurnModel.predict_churn`` prepares a DataFrame column by column (categories, dtypes) and
LightGBM then converts it to a float matrix. For one customer that pandas work costs tens of
milliseconds, far more than the 200 trees. Here the matrix is built directly, exactly as
LightGBM builds it from a pandas frame (``lightgbm.basic._data_from_pandas``): numbers as
float64, a categorical value as its code in the booster's own ``pandas_categorical`` list,
unknown or missing categories as NaN. Raw scores go through the model's own calibrator. The
API tests check the results against ``predict_churn`` and ``training.explain.shap_values``
(equal to 1e-12 and 1e-6), so this stays a faster route to the same numbers, not a second
model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import FeatureMismatchError
from serving.api.payload import unseen_rows


def _codes(model: Any) -> dict[str, dict[str, float]]:
    categorical = [f for f in model.feature_names_ if f in model.categories_]
    levels = model.booster_.pandas_categorical or []
    if len(levels) != len(categorical):
        raise FeatureMismatchError(
            f"the booster records {len(levels)} categorical features but the model declares "
            f"{len(categorical)} ({categorical}); retrain the model")
    return {col: {str(v): float(i) for i, v in enumerate(lv)}
            for col, lv in zip(categorical, levels, strict=True)}


def _category_code(value: Any, codes: Mapping[str, float]) -> float:
    if isinstance(value, str):
        return codes.get(value, math.nan)
    if value is None or pd.isna(value):
        return math.nan
    return codes.get(str(value), math.nan)


class FastModel:
    """Scores and TreeSHAP values of a fitted ``ChurnModel`` from feature columns."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.features = list(model.feature_names_)
        self.booster = model.booster_
        self.iteration = int(model.best_iteration_)
        self.codes = _codes(model)
        self.calibrator = getattr(model, "calibrator_", None)

    def unseen_levels(self, columns: Mapping[str, Any]) -> dict[str, int]:
        """Per categorical feature, how many values the model never saw (scored as missing).

        Counts only, never the values' owners: the service logs and reports them so that a
        new segment or region in the data is noticed rather than quietly scored as "no data".
        """
        out: dict[str, int] = {}
        for name, codes in self.codes.items():
            n = len(unseen_rows(columns[name], codes))
            if n:
                out[name] = n
        return out

    def matrix(self, columns: Mapping[str, Any]) -> np.ndarray:
        """(rows, features) float64 in the model's order from a DataFrame or name -> values."""
        first = columns[self.features[0]]
        out = np.empty((len(first), len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            col = columns[name]
            codes = self.codes.get(name)
            if codes is not None:
                out[:, j] = [_category_code(v, codes) for v in col]
            elif isinstance(col, pd.Series):
                out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out[:, j] = np.asarray(col, dtype=np.float64)
        return out

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(matrix, raw_score=True,
                                               num_iteration=self.iteration), dtype=float)

    def predict_churn(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated P(churn), through the model's own calibrator."""
        return self.model.proba_from_raw(self.raw_score(matrix))

    def shap_values(self, matrix: np.ndarray) -> tuple[np.ndarray, float]:
        """Exact TreeSHAP (LightGBM pred_contrib) per feature, and the base value."""
        contrib = np.asarray(self.booster.predict(matrix, pred_contrib=True,
                                                  num_iteration=self.iteration), dtype=float)
        base = float(contrib[0, -1]) if len(contrib) else math.nan
        return contrib[:, :-1], base


def plain(value: Any) -> float | str | None:
    """A feature value as JSON-ready data (None = no data)."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return float(value)
    if pd.isna(value):
        return None
    return str(value)


def top_drivers(values: np.ndarray, features: list[str], columns: Mapping[str, Any],
                top_k: int) -> list[list[tuple[str, float | str | None, float]]]:
    """Per row, the ``top_k`` (feature, value, shap) by |SHAP|, ties in feature order.

    Same ordering rule as ``training.explain.explain_rows`` (stable sort on -|SHAP|, zero
    contributions left out).
    """
    out = []
    for i in range(values.shape[0]):
        row = values[i]
        order = np.argsort(-np.abs(row), kind="stable")[:top_k]
        out.append([(features[j], plain(_at(columns[features[j]], i)), float(row[j]))
                    for j in order if row[j] != 0])
    return out


def _at(col: Any, i: int) -> Any:
    return col.iat[i] if isinstance(col, pd.Series) else col[i]
