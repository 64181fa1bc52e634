"""Scores, SHAP values and top drivers of the churn model: the one explainer of the project.

The scoring API, the retention page's at-risk list, Spark batch scoring and the training
report all come here, so a customer's score, drivers and driver values agree everywhere.

Exact TreeSHAP through LightGBM's own ``pred_contrib=True``: it needs no extra explainer object
per request (fast enough for online scoring) and gives the same values as
``shap.TreeExplainer(...).shap_values`` (shap's newer ``explainer(X)`` call fails on LightGBM
categoricals, shap issue 2144). Values are in raw log-odds space: for every row,
``values.sum() + expected_value == model.raw_score(row)``. The calibrator is applied after, so
explanations speak about the ranking score, not the calibrated probability.

``FastModel`` feeds the booster a float matrix built directly, exactly as LightGBM builds it
from a pandas frame (``lightgbm.basic._data_from_pandas``): numbers as float64, a categorical
value as its code in the booster's own ``pandas_categorical`` list, unknown or missing
categories as NaN. For one customer that skips tens of milliseconds of per-column pandas work.
``shap_values`` and ``explain_rows`` take a DataFrame, type it with ``ChurnModel.prepare`` (the
checks and messages training uses) and then go through the same matrix, so there is one route
to the numbers; ``tests/code/test_explain.py`` checks it against LightGBM's own pandas path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import FeatureMismatchError
from features.normalize import fold_values
from training.model import ChurnModel


# ---------------------------------------------------------------------- float-matrix route
def unseen_rows(values: Sequence[Any] | np.ndarray, known: Iterable[Any]) -> np.ndarray:
    """Positions of the values present (not None / NaN) whose text is not a known level."""
    levels = {str(k) for k in known}
    return np.array([i for i, v in enumerate(values)
                     if not (v is None or (not isinstance(v, str) and pd.isna(v)))
                     and str(v) not in levels], dtype=int)


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


def _category_column(col: Any, codes: Mapping[str, float]) -> np.ndarray:
    """Codes of one categorical column; a pandas Categorical with the model's levels is cheap."""
    if (isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype)
            and [str(c) for c in col.cat.categories] == list(codes)):
        out = col.cat.codes.to_numpy(dtype=np.float64)
        out[out < 0] = np.nan
        return out
    return np.array([_category_code(v, codes) for v in col], dtype=np.float64)


class FastModel:
    """Scores and TreeSHAP values of a fitted ``ChurnModel`` from feature columns."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.features = list(model.feature_names_)
        self.booster = model.booster_
        self.iteration = int(model.best_iteration_)
        self.codes = _codes(model)
        # The rule category levels were folded by in training (None in older models): stored
        # rows (online store, a scored file) and posted rows are folded by it the same way.
        self.fold: str | None = getattr(model, "category_fold_", None)

    def _categories(self, col: Any) -> Any:
        return fold_values(col, self.fold) if self.fold else col

    def unseen_levels(self, columns: Mapping[str, Any]) -> dict[str, int]:
        """Per categorical feature, how many values the model never saw (scored as missing).

        Counts only, never the values' owners: the service logs and reports them so that a
        new segment or region in the data is noticed rather than quietly scored as "no data".
        """
        out: dict[str, int] = {}
        for name, codes in self.codes.items():
            n = len(unseen_rows(self._categories(columns[name]), codes))
            if n:
                out[name] = n
        return out

    def matrix(self, columns: Mapping[str, Any]) -> np.ndarray:
        """(rows, features) float64 in the model's order from a DataFrame or name -> values."""
        first = columns[self.features[0]]
        out = np.empty((len(first), len(self.features)), dtype=np.float64)
        done: set[int] = set()
        if isinstance(columns, pd.DataFrame):  # the numeric features in one conversion
            numeric = [j for j, name in enumerate(self.features) if name not in self.codes]
            out[:, numeric] = columns[[self.features[j] for j in numeric]].to_numpy(
                dtype=np.float64, na_value=np.nan)
            done.update(numeric)
        for j, name in enumerate(self.features):
            if j in done:
                continue
            col = columns[name]
            codes = self.codes.get(name)
            if codes is not None:
                out[:, j] = _category_column(self._categories(col), codes)
            elif isinstance(col, pd.Series):
                out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out[:, j] = np.asarray(col, dtype=np.float64)
        return out

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds, one per row."""
        if len(matrix) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(matrix, raw_score=True,
                                               num_iteration=self.iteration), dtype=float)

    def predict_churn(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated P(churn), through the model's own calibrator."""
        return self.model.proba_from_raw(self.raw_score(matrix))

    def shap_values(self, matrix: np.ndarray) -> tuple[np.ndarray, float]:
        """Exact TreeSHAP (LightGBM pred_contrib) per feature, and the base value."""
        if len(matrix) == 0:
            return np.zeros((0, len(self.features))), math.nan
        contrib = np.asarray(self.booster.predict(matrix, pred_contrib=True,
                                                  num_iteration=self.iteration), dtype=float)
        return contrib[:, :-1], float(contrib[0, -1])


# ---------------------------------------------------------------------- drivers
@dataclass(frozen=True, slots=True)
class Driver:
    """One reason behind a customer's score.

    ``direction`` is 'raises' when the feature pushes churn risk up for this customer and
    'lowers' when it pushes it down; ``value`` is the customer's feature value as ``plain``
    renders it (None = no data).
    """

    feature: str
    value: float | str | None
    shap: float
    direction: str

    def to_dict(self) -> dict[str, object]:
        return {"feature": self.feature, "value": self.value, "shap": self.shap,
                "direction": self.direction}


def plain(value: Any) -> float | str | None:
    """A feature value as every driver shows it (API, at-risk list, Spark, reports).

    Numbers become float, no data (None, NaN, ``pd.NA``, ``NaT``) becomes None, anything else
    its text. Booleans render as text, "True" / "False": that is what the scoring API, the
    at-risk list and Spark already showed for a boolean column, the API's driver value is
    typed ``float | str | None`` (JSON true/false is not part of its contract), and in Spark's
    output the text lands in ``value_text`` with ``value`` null.
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (int, np.integer)):
        return float(value)
    if pd.isna(value):
        return None
    return str(value)


def top_drivers(values: np.ndarray, features: Sequence[str], columns: Mapping[str, Any],
                top_k: int, *, raising_only: bool = False) -> list[list[Driver]]:
    """Per row, the ``top_k`` drivers: largest |SHAP| first, ties in feature order.

    Zero contributions are left out, so a row can have fewer than ``top_k`` drivers;
    ``raising_only`` keeps only the features that raise the risk (the at-risk list). ``values``
    is (rows, features) in the order of ``features``; ``columns`` (a DataFrame or name ->
    values) gives the customers' feature values, rendered by ``plain``.
    """
    values = np.asarray(values, dtype=float)
    keep = values > 0 if raising_only else values != 0
    strength = np.where(keep, np.abs(values), -1.0)  # dropped contributions sort last
    order = np.argsort(-strength, axis=1, kind="stable")[:, :top_k]
    shown = {int(j) for i in range(values.shape[0]) for j in order[i] if keep[i, j]}
    cols = {j: plain_values(columns[features[j]]) for j in sorted(shown)}  # only those shown
    return [[Driver(features[j], plain(cols[j][i]), float(values[i, j]),
                    "raises" if values[i, j] > 0 else "lowers")
             for j in order[i] if keep[i, j]]
            for i in range(values.shape[0])]


def plain_values(col: Any) -> Any:
    """A column's values indexable by row position (a Series as objects, else as given)."""
    return col.to_numpy(dtype=object) if isinstance(col, pd.Series) else col


# ---------------------------------------------------------------------- DataFrame entry points
def _matrix(model: ChurnModel, X: pd.DataFrame) -> tuple[FastModel, np.ndarray]:
    model.check_features(X)
    fast = FastModel(model)
    return fast, fast.matrix(model.prepare(X))


def shap_values(model: ChurnModel, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Exact TreeSHAP values ``(n_rows, n_features)`` in the model's feature order + base value."""
    fast, matrix = _matrix(model, X)
    return fast.shap_values(matrix)


def explain_rows(model: ChurnModel, X: pd.DataFrame, top_k: int = 5) -> list[list[Driver]]:
    """The ``top_k`` drivers per row (``top_drivers``), values as given in ``X``."""
    fast, matrix = _matrix(model, X)
    values, _ = fast.shap_values(matrix)
    return top_drivers(values, fast.features, X, top_k)


def global_importance(values: np.ndarray, feature_names: Sequence[str]) -> pd.DataFrame:
    """Global driver ranking: mean |SHAP| per feature (plus the mean signed effect), descending."""
    values = np.asarray(values, dtype=float)
    if values.shape[1] != len(feature_names):
        raise ValueError(
            f"expected {values.shape[1]} feature names for the SHAP matrix, got "
            f"{len(feature_names)}"
        )
    table = pd.DataFrame({
        "feature": list(feature_names),
        "mean_abs_shap": np.abs(values).mean(axis=0) if len(values) else 0.0,
        "mean_shap": values.mean(axis=0) if len(values) else 0.0,
    })
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    return table.reset_index(drop=True)
