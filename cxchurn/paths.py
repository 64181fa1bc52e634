"""Where the project writes its outputs.

The folders come from a ``Settings`` (``CXCHURN_HOME``, default ``./output``; the tracking
store from ``MLFLOW_TRACKING_URI``, default SQLite in the working folder). A command passes the
``Settings`` it read at start; a caller without one (a notebook, a library default) gets
``Settings.from_env()`` at call time, never at import time.
"""

from __future__ import annotations

from pathlib import Path

from cxchurn.settings import Settings


def home(settings: Settings | None = None) -> Path:
    """The working folder for generated data, features, models and reports."""
    return (settings or Settings.from_env()).home


def world_dir(root: Path | None = None) -> Path:
    return (root or home()) / "world"


def features_dir(root: Path | None = None) -> Path:
    return (root or home()) / "features"


def reports_dir(root: Path | None = None) -> Path:
    return (root or home()) / "reports"


def tracking_uri(root: Path | None = None, settings: Settings | None = None) -> str:
    """MLflow tracking URI: the settings' if set, else a SQLite file in ``root`` (or home)."""
    settings = settings or Settings.from_env()
    if settings.tracking_uri:
        return settings.tracking_uri
    base = root or settings.home
    base.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{base / 'mlflow.db'}"
