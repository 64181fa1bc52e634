"""Safe failure: no model -> alive but un-ready; registry gone -> the cached model, said so.

Both servers start at the same time (each start costs seconds of imports).
"""

from __future__ import annotations

import shutil

import pytest

from serving.api.model_source import load_from_registry
from tests.api.conftest import copy_home
from tests.api.helpers import store_rows, training_model
from tests.api.server import launch_ready, stop
from tests.api.trained_home import home_env
from training.pyfunc import model_frame

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(trained_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("safe")
    empty = root / "empty_home"
    empty.mkdir()
    cached = copy_home(trained_home, root / "cached_home")
    # A successful load writes the last-good copy; then the registry disappears.
    with home_env(cached) as uri:  # loading points MLflow's globals at the store: undo after
        load_from_registry(cached, uri, "cxchurn")
    model = training_model(cached)
    moved = root / "registry_moved_away"
    moved.mkdir()
    for name in ("mlflow.db", "mlartifacts"):
        shutil.move(cached / name, moved / name)
    started = []
    try:
        # One after the other: two free_port() calls made together can return the same port.
        for home in (empty, cached):
            started.append(launch_ready(home))
        yield {"unready": started[0], "fallback": started[1], "model": model, "home": cached}
    finally:
        for svc in started:
            stop(svc)


def test_without_any_model_the_service_lives_but_is_not_ready(servers):
    svc = servers["unready"]
    assert svc.get("/health").status_code == 200
    ready = svc.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False and "cxchurn train" in ready.json()["reason"]
    assert svc.get("/readyz").status_code == 503
    score = svc.post("/score", {"customer_ids": ["a"]})
    assert score.status_code == 503 and "no model is loaded" in score.json()["error"]
    assert svc.get("/metadata").json()["ready"] is False


def test_registry_gone_serves_the_cached_model_and_says_so(servers):
    svc, model = servers["fallback"], servers["model"]
    meta = svc.get("/metadata").json()
    assert meta["ready"] is True
    assert meta["model"]["source"] == "cache"
    assert "registry" in meta["model"]["warning"] and meta["model"]["registry_error"]
    rows = store_rows(servers["home"]).head(15)
    out = svc.post("/score", {"customer_ids": rows["customer_id"].tolist()}).json()
    assert out["model"]["source"] == "cache"
    expected = model.predict_churn(model_frame(model, rows))
    assert [r["p_churn"] for r in out["results"]] == pytest.approx(expected, abs=1e-12)
