"""Where the project writes its outputs.

Read when a command runs (never at import time): ``CXCHURN_HOME`` overrides the default
``./output`` folder, and ``MLFLOW_TRACKING_URI`` overrides the local SQLite tracking store.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The working folder for generated data, features, models and reports."""
    return Path(os.environ.get("CXCHURN_HOME", "output")).resolve()


def world_dir(root: Path | None = None) -> Path:
    return (root or home()) / "world"


def features_dir(root: Path | None = None) -> Path:
    return (root or home()) / "features"


def reports_dir(root: Path | None = None) -> Path:
    return (root or home()) / "reports"


def tracking_uri(root: Path | None = None) -> str:
    """MLflow tracking URI: the environment's if set, else a SQLite file in the working folder."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    base = root or home()
    base.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{base / 'mlflow.db'}"
