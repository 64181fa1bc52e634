"""``GET /drivers`` and the Experience tab's Drivers section, in-process on the trained home.

The drivers are computed for real (the home's champion over two cutoffs of its build, the
world's survey answers) and written where ``cxchurn drivers`` writes; the route and the page
must show those numbers, in both languages, and say how to make them when they are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.retention.app import make_retention_app
from serving.retention.drivers_view import drivers_path
from serving.retention.outcomes import OutcomeStore

pytestmark = pytest.mark.slow  # trains a small model once per session


@pytest.fixture(scope="module")
def written(runtime: Any, retention_home: Path) -> dict[str, Any]:
    from tests.retention.reports import write_drivers_report

    return write_drivers_report(retention_home, runtime.model)


@pytest.fixture()
def client(runtime: Any, tmp_path: Path) -> TestClient:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    return TestClient(make_retention_app(runtime, outcomes=store))


def test_drivers_route_returns_what_the_command_wrote(client: TestClient, written) -> None:
    body = client.get("/drivers", params={"lang": "tr"}).json()
    assert body["model_uri"] == "models:/x@champion"
    assert [(r["cutoff"], r["family"]) for r in body["churn"]] == [
        (r["cutoff"], r["family"]) for r in written["churn"]]
    assert [r["share"] for r in body["churn"]] == pytest.approx(
        [r["share"] for r in written["churn"]])
    nps = next(s for s in body["surveys"] if s["survey"] == "nps")
    assert [f["family"] for f in nps["families"]] == [r["family"] for r in next(
        s for s in written["surveys"] if s["survey"] == "nps")["families"]]
    assert nps["families"][0]["family"] == "delivery"
    assert nps["families"][0]["label"] == "Teslimat deneyimi"
    assert nps["families"][0]["share_ci_low"] <= nps["families"][0]["share"]


def test_experience_tab_shows_ranked_drivers_in_both_languages(client: TestClient,
                                                               written) -> None:
    nps = next(s for s in written["surveys"] if s["survey"] == "nps")
    top = nps["families"][0]
    english = client.get("/experience", params={"lang": "en"}).text
    assert "Key drivers" in english and "What moves NPS" in english
    assert f'data-family="{top["family"]}" data-rank="1"' in english
    assert f"{100 * top['share']:.0f}%" in english
    assert "Where churn risk comes from" in english
    turkish = client.get("/experience", params={"lang": "tr"}).text
    assert "Temel etkenler" in turkish and "arttıkça puan düşer" in turkish


def test_missing_drivers_are_a_404_naming_the_command(client: TestClient, written,
                                                      retention_home: Path) -> None:
    path = drivers_path(retention_home)
    aside = path.with_suffix(".aside")
    path.rename(aside)
    try:
        response = client.get("/drivers")
        assert response.status_code == 404
        assert "cxchurn drivers" in response.json()["error"]
        page = client.get("/experience").text
        assert "No driver analysis yet" in page
    finally:
        aside.rename(path)
