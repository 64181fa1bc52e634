"""The at-risk page's model panel shows the latest ``cxchurn monitor`` result (in-process).

The report is a real one (``tests/retention/reports.py``): the newest cutoff drifts and has
no labels yet, the one before has matured. The panel must name the drifted feature, give the
estimated AUC of the newest cutoff and the realised AUC of the matured one, in both languages,
and say how to get a report when there is none.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.reasons.text import feature_label
from serving.retention.app import make_retention_app
from serving.retention.outcomes import OutcomeStore
from tests.retention.reports import DRIFTED, write_monitor_report
from training.monitor_commands import MONITOR_FILE, monitor_dir

pytestmark = pytest.mark.slow  # trains a small model once per session


@pytest.fixture(scope="module")
def report(runtime: Any, retention_home: Path) -> dict[str, Any]:
    return write_monitor_report(retention_home, runtime.model)


@pytest.fixture()
def client(runtime: Any, tmp_path: Path) -> TestClient:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    return TestClient(make_retention_app(runtime, outcomes=store))


def _panel(html: str) -> str:
    start = html.index('id="monitor"')
    return html[start:html.index("</section>", start)]


def test_panel_shows_drift_estimate_and_realised_auc(client: TestClient, report) -> None:
    newest, matured = report["cutoffs"][-1], report["cutoffs"][0]
    panel = _panel(client.get("/", params={"limit": 10}).text)
    assert newest["cutoff"] in panel and matured["cutoff"] in panel
    assert f'data-feature="{DRIFTED}"' in panel
    assert f"{newest['est_roc_auc']:.3f}" in panel
    assert f"{matured['realised_roc_auc']:.3f}" in panel
    # named as people read them, in the page's language; the identifier stays in the markup
    assert "feature(s) drifted: " + html.escape(feature_label(DRIFTED, "en")) in panel
    turkish = _panel(client.get("/", params={"limit": 10, "lang": "tr"}).text)
    assert "Model izleme" in turkish and "değişkenin dağılımı kaydı" in turkish
    assert html.escape(feature_label(DRIFTED, "tr")) in turkish
    assert f"{newest['est_roc_auc']:.3f}".replace(".", ",") in turkish


def test_panel_says_how_to_get_a_report_when_there_is_none(client: TestClient, report,
                                                           retention_home: Path) -> None:
    path = monitor_dir(retention_home) / MONITOR_FILE
    aside = path.with_suffix(".aside")
    path.rename(aside)
    try:
        response = client.get("/", params={"limit": 10})
        assert response.status_code == 200
        assert "run `cxchurn monitor`" in _panel(response.text)
    finally:
        aside.rename(path)
