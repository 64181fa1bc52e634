"""Fixtures for the API tests: one trained home per test session, one server per worker.

``trained_home`` trains a small champion (with a 30/60/90-day horizon model) on the default
world and materialises the online store once, shared by the pytest-xdist workers through a
file lock (so ``pytest -n 2`` trains once). Each server gets its own copy of the home,
because a running service writes into it (the local model cache, logs). ``tests/browser`` can
reuse ``trained_home`` by importing this module's fixtures
(``from tests.api.conftest import trained_home``) and ``tests.api.server.start_service``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import Service, start_service
from tests.api.trained_home import TrainedHome, build_trained_home

API_KEY = "test-key-7f3a"


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker has basetemp/<popen-gwN>; their parent is shared.
    return base.parent if base.name.startswith("popen-gw") else base


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                 ) -> TrainedHome:
    """A CXCHURN_HOME with a registered champion and an online store (built once)."""
    root = _shared_root(tmp_path_factory)
    home = root / "api_trained_home"
    done = root / "api_trained_home.json"
    with (root / "api_trained_home.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                world = request.getfixturevalue("default_world")
                examples = request.getfixturevalue("default_examples")
                history = request.getfixturevalue("default_training_examples")
                shutil.rmtree(home, ignore_errors=True)
                info = build_trained_home(home, world, examples, history=history)
                done.write_text(json.dumps({k: str(v) for k, v in info.__dict__.items()}))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    data = json.loads(done.read_text())
    return TrainedHome(home=Path(data["home"]), features_dir=Path(data["features_dir"]),
                       store_file=Path(data["store_file"]), model_name=data["model_name"],
                       model_version=data["model_version"])


def copy_home(trained: TrainedHome, target: Path) -> Path:
    """A private copy of the trained home (registry, artifacts, store) for one server."""
    shutil.copytree(trained.home, target, ignore=shutil.ignore_patterns("service-*.log"))
    db = target / "mlflow.db"
    # Artifact locations in the registry are absolute: point the copy's runs at its own files.
    import sqlite3

    with sqlite3.connect(db) as con:
        for table, column in (("experiments", "artifact_location"),
                              ("runs", "artifact_uri"), ("model_versions", "source"),
                              ("model_versions", "storage_location"),
                              ("logged_models", "artifact_location")):
            try:
                con.execute(f"UPDATE {table} SET {column} = REPLACE({column}, ?, ?)",
                            (str(trained.home), str(target)))
            except sqlite3.OperationalError:  # column absent in this MLflow schema
                continue
    return target


@pytest.fixture(scope="session")
def api_home(trained_home: TrainedHome, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(trained_home, tmp_path_factory.mktemp("api") / "home")


@pytest.fixture(scope="session")
def service(api_home: Path) -> Iterator[Service]:
    """The real service on a copy of the trained home, with an API key required."""
    with start_service(api_home, env={"CXCHURN_API_KEY": API_KEY}) as svc:
        yield svc
