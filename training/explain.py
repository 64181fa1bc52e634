"""SHAP explanations of the churn model: per customer (serving reuses this) and global.

Exact TreeSHAP through LightGBM's own ``pred_contrib=True``: it handles pandas categoricals,
needs no extra explainer object per request (fast enough for online scoring), and gives the
same values as ``shap.TreeExplainer(...).shap_values`` (shap's newer ``explainer(X)`` call
fails on LightGBM categoricals, shap issue 2144). Values are in raw log-odds space: for every
row, ``values.sum() + expected_value == model.raw_score(row)``. The calibrator is applied after,
so explanations speak about the ranking score, not the calibrated probability.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from training.model import ChurnModel


@dataclass(frozen=True)
class Driver:
    """One reason behind a customer's score.

    ``direction`` is 'raises' when the feature pushes churn risk up for this customer and
    'lowers' when it pushes it down; ``value`` is the customer's feature value (None = no data).
    """

    feature: str
    value: float | str | None
    shap: float
    direction: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def shap_values(model: ChurnModel, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Exact TreeSHAP values ``(n_rows, n_features)`` in the model's feature order + base value."""
    model.check_features(X)
    contrib = model.booster_.predict(
        model._prepare(X), pred_contrib=True, num_iteration=model.best_iteration_
    )
    contrib = np.asarray(contrib, dtype=float)
    values = contrib[:, :-1]
    expected = float(contrib[0, -1]) if len(contrib) else float("nan")
    return values, expected


def _plain(value: object) -> float | str | None:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (int, np.integer)):
        return float(value)
    if pd.isna(value):  # type: ignore[arg-type]
        return None
    return str(value)


def explain_rows(model: ChurnModel, X: pd.DataFrame, top_k: int = 5) -> list[list[Driver]]:
    """The ``top_k`` drivers per row, largest absolute SHAP first (zero contributions skipped)."""
    values, _ = shap_values(model, X)
    features = model.feature_names_
    frame = X[features]
    out: list[list[Driver]] = []
    for i in range(values.shape[0]):
        row = values[i]
        order = np.argsort(-np.abs(row), kind="stable")[:top_k]
        drivers = [
            Driver(
                feature=features[j],
                value=_plain(frame.iat[i, j]),
                shap=float(row[j]),
                direction="raises" if row[j] > 0 else "lowers",
            )
            for j in order
            if row[j] != 0
        ]
        out.append(drivers)
    return out


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
