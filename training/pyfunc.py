"""The churn model as an MLflow ``pyfunc``: what the registry stores and serving loads.

The wrapper carries the fitted ``ChurnModel`` together with its feature schema and the feature
spec version (in the MLmodel metadata), so whoever loads a registered version knows exactly
which features, dtypes and categories it expects without re-reading the training code.
Input rows are raw feature rows as the feature builder writes them (numbers as floats,
static attributes as strings); extra columns such as ``customer_id`` are ignored, missing
ones raise ``FeatureMismatchError``.
"""

from __future__ import annotations

from importlib import metadata as importlib_metadata
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModel

from cxchurn.errors import FeatureMismatchError

OUTPUT_COLUMN = "p_churn"
RAW_COLUMN = "raw_score"

# Packages the logged model needs to load; pinned to what is installed so that MLflow does not
# have to load the model in a subprocess to infer them (slow, and it guesses).
_RUNTIME_PACKAGES = ("mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow")


def model_frame(model: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """Select exactly the model's features from raw rows (ids and extras dropped).

    Dtypes are left to the model, which casts strings to its train-time categories. A missing
    feature fails here with the list of what is missing, before any scoring.
    """
    names = list(model.feature_names_)
    missing = [c for c in names if c not in rows.columns]
    if missing:
        raise FeatureMismatchError(
            f"rows lack {len(missing)} feature(s) the model needs: {missing[:20]}; expected the "
            f"model's {len(names)} features (see feature_schema()); rebuild the rows with the "
            f"feature spec version {getattr(model, 'spec_version_', '?')!r}"
        )
    return rows[names]


def raw_input_example(model: Any, rows: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """A few raw rows restricted to the model's features: the logged input example.

    Categorical features travel as plain strings (what a caller posts), the rest as float64.
    """
    frame = model_frame(model, rows.head(n)).reset_index(drop=True)
    categorical = set(model.categories_)
    out = {}
    for name in frame.columns:
        col = frame[name]
        if name in categorical:
            out[name] = pd.Series(
                [None if pd.isna(v) else str(v) for v in col], dtype="object"
            )
        else:
            out[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return pd.DataFrame(out)


class ChurnPyfunc(PythonModel):
    """pyfunc wrapper: raw feature rows in, calibrated P(churn) and raw log-odds out.

    ``model`` is the fitted ``training.model.ChurnModel``; serving reaches it with
    ``loaded.unwrap_python_model().model`` to compute SHAP explanations from the same booster.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None):
        rows = pd.DataFrame(model_input)
        X = model_frame(self.model, rows)
        return pd.DataFrame(
            {
                OUTPUT_COLUMN: np.asarray(self.model.predict_churn(X), dtype="float64"),
                RAW_COLUMN: np.asarray(self.model.raw_score(X), dtype="float64"),
            },
            index=rows.index,
        )


def model_metadata(model: Any) -> dict[str, Any]:
    """What the MLmodel file records beside the signature: spec version and feature schema."""
    return {
        "spec_version": str(getattr(model, "spec_version_", "") or ""),
        "feature_schema": model.feature_schema(),
        "best_iteration": int(getattr(model, "best_iteration_", 0) or 0),
    }


def pinned_requirements() -> list[str]:
    """``name==version`` for the packages the logged model needs, as installed now."""
    reqs = []
    for name in _RUNTIME_PACKAGES:
        try:
            reqs.append(f"{name}=={importlib_metadata.version(name)}")
        except importlib_metadata.PackageNotFoundError:
            reqs.append(name)
    return reqs


def make_signature(model: Any, example: pd.DataFrame) -> ModelSignature:
    """Signature inferred from the raw input example and the wrapper's own output on it."""
    output = ChurnPyfunc(model).predict(None, example)
    return infer_signature(example, output)


def log_churn_model(
    model: Any,
    rows: pd.DataFrame,
    *,
    name: str = "model",
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Log the model into the active run (signature, input example, metadata), maybe register.

    ``rows`` are raw rows (e.g. the test fold) from which the input example is taken.
    """
    example = raw_input_example(model, rows)
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=ChurnPyfunc(model),
        signature=make_signature(model, example),
        input_example=example,
        registered_model_name=registered_model_name,
        pip_requirements=pinned_requirements(),
        metadata=model_metadata(model),
    )


def load_churn_model(model_uri: str) -> Any:
    """Load a logged/registered pyfunc and return the ``ChurnModel`` inside it."""
    loaded = mlflow.pyfunc.load_model(model_uri)
    return loaded.unwrap_python_model().model
