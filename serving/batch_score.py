"""Scoring a file with a registered model: ``cxchurn score``.

Two inputs, the two ways a model was trained:

* a customer table (``--table``, one row per customer) for a snapshot model: typed with the
  type plan the model carries (``ChurnModel.type_plan_``, the plan its training table was
  typed with), so '619' is a number, 'Yes' is 1 and 'BİREYSEL' the level 'bireysel', exactly
  as in training; the churn column may be absent;
* a customers file and an event log (``--customers``/``--events``) for an event-log model:
  loaded and checked like training input, features built by the training pipeline at the
  data's end (midnight after the latest event, or ``cutoff``).

Every output row holds the customer id, ``p_churn``, ``risk_band`` and the top drivers
(feature, value and a sentence from ``serving.reasons``), from the same explainer the API
uses (``training.explain``). Rows keep the input order. Output: CSV, Parquet or Excel by the
suffix of the output file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID
from serving.reasons.text import reason
from training.bands import risk_band
from training.explain import FastModel, top_drivers
from training.infer_types import TypePlan, apply_types, customer_ids

OUT_SUFFIXES = (".csv", ".parquet", ".xlsx")
TOP_K = 3


def model_plan(model: Any) -> TypePlan | None:
    """The type plan a snapshot model carries (None for an event-log model)."""
    plan = getattr(model, "type_plan_", None)
    return TypePlan.from_dict(plan) if plan else None


def table_features(raw: pd.DataFrame, plan: TypePlan, source: str
                   ) -> tuple[pd.DataFrame, pd.Series]:
    """A new customer table typed as the training table was; (features, customer ids)."""
    needed = [*([plan.id_column] if plan.id_column else []), *plan.features]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataContractError(
            f"table '{source}' lacks column(s) {missing} the model was trained on; it has "
            f"{list(raw.columns)[:20]}; add them (blank cells are fine: they score as no "
            "data) or rename the columns to the training table's names")
    return apply_types(raw, plan), customer_ids(raw, plan)


def score_frame(model: Any, X: pd.DataFrame, ids: Sequence[Any], top_k: int = TOP_K
                ) -> pd.DataFrame:
    """Ids, P(churn), risk band and the ``top_k`` drivers (feature, value, reason) per row."""
    features = list(model.feature_names_)
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise DataContractError(f"the rows lack feature(s) {missing} the model needs")
    fast = FastModel(model)
    columns = {f: X[f] for f in features}
    matrix = fast.matrix(columns)
    p = fast.predict_churn(matrix)
    values, _ = fast.shap_values(matrix)
    out = pd.DataFrame({CUSTOMER_ID: [str(i) for i in ids], "p_churn": p,
                        "risk_band": risk_band(p)})
    drivers = top_drivers(values, features, columns, top_k)
    for k in range(top_k):
        picked = [row[k] if k < len(row) else None for row in drivers]
        out[f"driver_{k + 1}"] = [d.feature if d else None for d in picked]
        out[f"driver_{k + 1}_value"] = [None if d is None or d.value is None else str(d.value)
                                        for d in picked]
        out[f"driver_{k + 1}_reason"] = [reason(d.feature, d.value, d.direction) if d else None
                                         for d in picked]
    return out


def check_out_path(out: Path) -> None:
    """Refuse an output suffix we cannot write before any work is done."""
    if not str(out).lower().endswith(OUT_SUFFIXES):
        raise ConfigError(f"--out '{out}': unsupported suffix; use one of {list(OUT_SUFFIXES)}")


def write_scores(scores: pd.DataFrame, out: Path) -> Path:
    """Write by suffix: CSV, Parquet or Excel (.xlsx)."""
    check_out_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    name = out.name.lower()
    if name.endswith(".csv"):
        scores.to_csv(out, index=False)
    elif name.endswith(".parquet"):
        scores.to_parquet(out, index=False)
    else:
        scores.to_excel(out, index=False)
    return out


def band_counts(scores: pd.DataFrame) -> str:
    """'high 12, medium 40, low 348' for the command's last line."""
    counts = scores["risk_band"].value_counts()
    return ", ".join(f"{b} {int(counts.get(b, 0)):,}" for b in ("high", "medium", "low"))


def event_features(model: Any, customers: Path, events: Path, cutoff: pd.Timestamp | None,
                   specs: Sequence[Any] | None, label_kind: str, quarantine_dir: Path
                   ) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Feature rows of every customer eligible at the data's end (or ``cutoff``)."""
    from features.load import load_tables
    from serving.api.online_store import default_cutoff, latest_features

    tables = load_tables(customers, events, None, quarantine_dir=quarantine_dir)
    at = cutoff if cutoff is not None else default_cutoff(tables.events)
    rows = latest_features(tables.customers, tables.events, at, specs, label_kind)
    missing = [f for f in model.feature_names_ if f not in rows.columns]
    if missing:
        raise DataContractError(
            f"features built from '{customers.name}' and '{events.name}' lack {missing[:10]} "
            "the model was trained on; a missing static attribute must be a column of the "
            "customers file, a missing event feature needs the feature spec the model was "
            "trained with (--specs FILE)")
    return rows, at


def as_utc(text: str | None) -> pd.Timestamp | None:
    if text is None:
        return None
    ts = pd.Timestamp(text)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


__all__ = ["OUT_SUFFIXES", "TOP_K", "as_utc", "band_counts", "check_out_path",
           "event_features", "model_plan", "score_frame", "table_features", "write_scores"]

