"""Baselines the churn model must beat to be worth its complexity.

A logistic regression on the same features (does boosting add anything over a linear model?)
and a recency rule with no training at all (does the model add anything over "who has been
quiet the longest"?).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from cxchurn.errors import ConfigError

RECENCY_PREFERENCE = (
    "days_since_last_activity",
    "days_since_last_event",
    "recency_days",
)
_RECENCY_PATTERN = re.compile(r"^days_since_last_(activity|session|order|event)")


def _to_text(X: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as plain object columns with an explicit 'missing' level."""
    return X.astype("object").where(X.notna(), "<missing>").astype(str)


def _to_float(X: pd.DataFrame) -> pd.DataFrame:
    return X.apply(pd.to_numeric, errors="coerce").astype("float64")


def fit_logistic(X_train: pd.DataFrame, y_train: object, C: float = 1.0) -> Pipeline:
    """Median-impute (with missing flags) + scale numbers, one-hot text; L2 logistic regression."""
    numeric = make_pipeline(
        FunctionTransformer(_to_float, feature_names_out="one-to-one"),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categorical = make_pipeline(
        FunctionTransformer(_to_text, feature_names_out="one-to-one"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    pre = ColumnTransformer([
        ("num", numeric, make_column_selector(dtype_include="number")),
        ("cat", categorical, make_column_selector(dtype_exclude="number")),
    ])
    pipe = Pipeline([("prep", pre), ("clf", LogisticRegression(C=C, max_iter=2000))])
    pipe.fit(X_train, np.asarray(y_train, dtype=int))
    return pipe


def recency_column(columns: list[str] | pd.Index) -> str:
    """The feature that says how many days since the customer was last active."""
    names = [str(c) for c in columns]
    for name in RECENCY_PREFERENCE:
        if name in names:
            return name
    for name in names:
        if _RECENCY_PATTERN.match(name):
            return name
    raise ConfigError(
        f"the recency rule needs a days-since-last-activity feature, expected one of "
        f"{list(RECENCY_PREFERENCE)} or a 'days_since_last_<activity|session|order>' column, "
        "got none; add a recency spec to the feature set"
    )


def recency_rule_scores(X: pd.DataFrame, column: str | None = None) -> np.ndarray:
    """Days since last activity (larger = riskier); never active counts as the riskiest."""
    col = column or recency_column(X.columns)
    days = pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(days)
    worst = (days[finite].max() + 1.0) if finite.any() else 0.0
    return np.where(finite, days, worst)
