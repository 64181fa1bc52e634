"""Reading the training-side model and store rows, and turning rows into JSON payloads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from serving.api.online_store import OnlineStore, store_path


def training_model(home: Path, name: str = "cxchurn", version: str | None = None) -> Any:
    """The ChurnModel as training registered it (read from the registry's artifacts)."""
    from tests.api.trained_home import home_env
    from training.pyfunc import load_churn_model

    with home_env(home):
        uri = f"models:/{name}/{version}" if version else f"models:/{name}@champion"
        return load_churn_model(uri)


def store_rows(home: Path) -> pd.DataFrame:
    return OnlineStore.load(store_path(home)).table


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return float(value)
    if pd.isna(value):
        return None
    if hasattr(value, "item"):
        return _json_value(value.item())
    return str(value)


def records(rows: pd.DataFrame, features: list[str], with_id: bool = True
            ) -> list[dict[str, Any]]:
    """Rows as list-of-objects payload (model features, optional customer_id)."""
    cols = (["customer_id"] if with_id else []) + list(features)
    return [{c: _json_value(v) for c, v in zip(cols, row, strict=True)}
            for row in rows[cols].itertuples(index=False, name=None)]


def table(rows: pd.DataFrame, features: list[str]) -> dict[str, Any]:
    """Rows as the columnar 'table' payload."""
    cols = ["customer_id", *features]
    return {"columns": cols, "data": [[_json_value(v) for v in row]
                                      for row in rows[cols].itertuples(index=False, name=None)]}
