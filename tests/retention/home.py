"""A trained demo home for the retention app's tests (API in-process, and browser).

Built once per test process: the API tests and the browser test share it when they run in
the same worker (they never load the model at the same time: the worker runs one test at a
time and waits for the service to be ready).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_BUILT: dict[int, Path] = {}


def build_retention_home(home: Path, world: Any, examples: Any, history: Any = None) -> Path:
    """Champion + online store (``tests/api/trained_home.py``) + the world's event files;
    with ``history`` the champion carries a horizon model (the act-by date on the page)."""
    from features.simulate import write_world
    from tests.api.trained_home import build_trained_home

    build_trained_home(home, world, examples, history=history)
    write_world(world, home / "world")  # the customer view's timeline reads its events
    return home


def shared_retention_home(factory: pytest.TempPathFactory, world: Any, examples: Any,
                          history: Any = None) -> Path:
    """``build_retention_home`` once per process for this world."""
    key = id(world)
    if key not in _BUILT:
        _BUILT[key] = build_retention_home(factory.mktemp("retention_home"), world, examples,
                                           history)
    return _BUILT[key]
