"""Fixtures for the retention app's in-process tests: a trained demo home and its runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def retention_home(default_world: Any, default_examples: Any,
                   default_training_examples: Any,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.retention.home import shared_retention_home

    return shared_retention_home(tmp_path_factory, default_world, default_examples,
                                 default_training_examples)


@pytest.fixture(scope="session")
def runtime(retention_home: Path) -> Any:
    from serving.api.runtime import ServingRuntime

    rt = ServingRuntime(home=retention_home)
    meta = rt.start()
    assert meta["ready"], meta["reason"]
    return rt
