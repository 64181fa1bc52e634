"""Baselines the churn model must beat to be worth its complexity.

A logistic regression on the same features (does boosting add anything over a linear model?),
a recency rule with no training at all (does the model add anything over "who has been
quiet the longest"?), on event logs a logistic regression on recency, frequency and monetary
columns alone (does anything beyond the classic RFM view help?) and, when the event log is at
hand, BG/NBD's probability of no purchase within the horizon (does the model add anything
over a purchase-process model fitted on the same history?).
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

from cxchurn.errors import ConfigError, DataContractError
from features.btyd import BgNbd, summaries_at
from features.schema import CUSTOMER_ID, CUTOFF

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


TENURE = "tenure_days"


def bgnbd_scores(examples: pd.DataFrame, events: pd.DataFrame, horizon_days: float,
                 event_type: str = "order") -> np.ndarray:
    """BG/NBD P(no ``event_type`` event within ``horizon_days`` of the cutoff), per example row.

    For each cutoff of ``examples`` the model is fitted afresh on every customer with a
    purchase before it (``summaries_at``: ``event_time < cutoff``, so nothing at or after a
    cutoff reaches its fit or its scores), then scores that cutoff's rows. Rows whose customer
    has not bought before the cutoff are scored as x = 0, t_x = 0 and T = ``tenure_days``
    (days since signup, a column the feature compiler always adds; 0 without it): as if signup
    were the first purchase, so a long wait for a first order reads as risk. They are scored,
    not fitted on. Returns scores aligned to the rows of ``examples``.

    Checked against lifetimes (``benchmarks/btyd_runner.py``) on Online Retail, 90-day label:
    ROC-AUC 0.7606 at the 2011-06-01 cutoff (lifetimes unpenalised: 0.7606) and 0.738 at the
    2011-09-01 test cutoff (lifetimes with its validation-picked penalizer 0.1: 0.740).
    """
    missing = {CUSTOMER_ID, CUTOFF} - set(examples.columns)
    if missing:
        raise DataContractError(
            f"bgnbd_scores: examples lack {sorted(missing)}; pass the (customer_id, cutoff) rows"
        )
    keys = pd.DataFrame({CUSTOMER_ID: examples[CUSTOMER_ID].astype(str).to_numpy(),
                         CUTOFF: pd.to_datetime(examples[CUTOFF], utc=True).to_numpy()})
    tenure = (pd.to_numeric(examples[TENURE], errors="coerce").fillna(0.0).to_numpy(float)
              if TENURE in examples.columns else np.zeros(len(examples)))
    summaries = summaries_at(events, keys[CUTOFF].unique(), event_type)
    out = np.full(len(keys), np.nan)
    for cutoff, rows in keys.groupby(CUTOFF, sort=True).groups.items():
        at = summaries[summaries[CUTOFF] == cutoff]
        if len(at) < 2:
            raise ConfigError(
                f"BG/NBD needs customers with '{event_type}' events before the cutoff "
                f"{cutoff}; found {len(at)}; drop the bgnbd baseline for this event log"
            )
        fit = BgNbd.fit(at["x"], at["t_x"], at["T"])
        log.info("bgnbd at %s: %s", cutoff, {k: round(v, 4) if isinstance(v, float) else v
                                             for k, v in fit.to_dict().items()})
        pos = keys.index.get_indexer(rows)
        hist = keys.iloc[pos][[CUSTOMER_ID]].merge(at, on=CUSTOMER_ID, how="left")
        bought = hist["x"].notna().to_numpy()
        x = hist["x"].fillna(0.0).to_numpy(float)
        t_x = hist["t_x"].fillna(0.0).to_numpy(float)
        age = np.where(bought, hist["T"].to_numpy(float), np.maximum(tenure[pos], 0.0))
        out[pos] = fit.p_no_purchase(float(horizon_days), x, t_x, age)
    return out


def event_log_baselines(examples: pd.DataFrame, events: pd.DataFrame | None,
                        horizon_days: float) -> dict[str, np.ndarray]:
    """The baselines that need the raw event log: ``bgnbd`` when there are order events;
    nothing (with a logged note) otherwise."""
    if events is None:
        log.info("no event log passed to training: the bgnbd baseline is skipped")
        return {}
    if not (events["event_type"] == "order").any():
        log.info("the event log has no order events: the bgnbd baseline is skipped")
        return {}
    return {"bgnbd": bgnbd_scores(examples, events, horizon_days)}
