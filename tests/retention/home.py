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


FIRST = ("Ayşe", "Işıl", "Çağrı", "Gülşen", "İlker", "Özge", "Şükrü", "Ümit", "Mehmet", "Zeynep")
LAST = ("Yılmaz", "Kaya", "Demir", "Şahin", "Öztürk", "Çelik", "IŞIKLAR", "Doğan", "Aydın",
        "Arslan")


def add_contacts(customers_file: Path) -> None:
    """Give every customer of a world's customers file a name (Turkish letters, some in
    capitals), a phone and an e-mail next to the world's preferred channel, as a CRM export
    carries them."""
    import pandas as pd

    frame = pd.read_parquet(customers_file)
    n = range(len(frame))
    frame["name"] = [f"{FIRST[i % 10]} {LAST[(i // 10) % 10]}" for i in n]
    frame["phone"] = [f"+90 532 {i // 10_000:03d} {i % 10_000:04d}" for i in n]
    frame["email"] = [f"customer{i}@example.com" for i in n]
    frame.to_parquet(customers_file, index=False)


def build_retention_home(home: Path, world: Any, examples: Any, history: Any = None) -> Path:
    """Champion + online store (``tests/api/trained_home.py``) + the world's event files,
    its customers file carrying contact details (never features: the model was trained
    without them and the online store is built before they are added); with ``history`` the
    champion carries a horizon model (the act-by date on the page)."""
    from features.simulate import write_world
    from tests.api.trained_home import build_trained_home

    build_trained_home(home, world, examples, history=history)
    write_world(world, home / "world")  # the customer view's timeline reads its events
    add_contacts(home / "world" / "customers.parquet")
    return home


def shared_retention_home(factory: pytest.TempPathFactory, world: Any, examples: Any,
                          history: Any = None) -> Path:
    """``build_retention_home`` once per process for this world."""
    key = id(world)
    if key not in _BUILT:
        _BUILT[key] = build_retention_home(factory.mktemp("retention_home"), world, examples,
                                           history)
    return _BUILT[key]
