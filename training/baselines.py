"""Baselines the churn model must beat to be worth its complexity.

A logistic regression on the same features (does boosting add anything over a linear model?)
a recency rule with no training at all (does the model add anything over "who has been
quiet the longest"?) and, on event logs, a logistic regression on recency, frequency and
monetary columns alone (does anything beyond the classic RFM view help?).
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from cxchurn.errors import ConfigError

log = logging.getLogger(__name__)

RECENCY_PREFERENCE = (
    "days_since_last_activity",
    "days_since_last_event",
    "recency_days",
)
_RECENCY_PATTERN = re.compile(r"^days_since_last_(activity|session|order|event)")
# Recency, frequency and monetary columns by name (features/default_specs.py's "rfm" family
# and its windowed order counts and spend).
RFM_PATTERNS = {
    "recency": _RECENCY_PATTERN,
    "frequency": re.compile(r"^(orders_(total|\d+d)|frequency|n_orders|order_count)$"),
    "monetary": re.compile(r"^(order_value_(total|\d+d)|monetary|total_spend|spend_\d+d)$"),
}


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


def rfm_columns(columns: list[str] | pd.Index) -> list[str]:
    """The recency, frequency and monetary columns among ``columns`` (empty if fewer than
    two of the three kinds are there: one kind alone is the recency rule, not RFM)."""
    names = [str(c) for c in columns]
    found = {kind: [n for n in names if pattern.match(n)] for kind, pattern in RFM_PATTERNS.items()}
    missing = [kind for kind, cols in found.items() if not cols]
    if len(missing) > 1:
        log.info("rfm_logistic baseline skipped: no %s column among the features (expected "
                 "e.g. days_since_last_order, orders_total, order_value_total)",
                 " or ".join(missing))
        return []
    if missing:
        log.info("rfm_logistic baseline without a %s column", missing[0])
    return [n for n in names if any(n in cols for cols in found.values())]
