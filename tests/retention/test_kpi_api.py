"""``GET /kpis`` and the Experience tab in-process, on the trained demo home's files.

Every number is checked against ``features.kpis.kpi_table`` on the same two files, so the route
adds no arithmetic of its own; the cache is checked by counting computations.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from features.kpis import KpiConfig, kpi_table
from serving.retention.app import make_retention_app
from serving.retention.kpi_models import KPI_COLUMNS
from serving.retention.outcomes import OutcomeStore

pytestmark = pytest.mark.slow  # trains a small model once per session


@pytest.fixture()
def client(runtime: Any, tmp_path: Path) -> TestClient:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    return TestClient(make_retention_app(runtime, outcomes=store))


def _files(client: TestClient) -> tuple[Path, Path]:
    events = client.app.state.retention.events_path()  # type: ignore[attr-defined]
    return events.with_name("customers.parquet"), events


def _same(got: float | None, want: Any) -> bool:
    if want is None or pd.isna(want):
        return got is None
    return got is not None and math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-12)


def _check_rows(rows: list[dict], table: pd.DataFrame, group: str | None) -> None:
    assert len(rows) == len(table)
    for got, (_, want) in zip(rows, table.iterrows(), strict=True):
        assert got["month"] == want["month"].strftime("%Y-%m")
        assert got["group"] == (None if group is None else want[group])
        for kpi, (value, low, high, n, small) in KPI_COLUMNS.items():
            cell = got[kpi]
            assert _same(cell["value"], want[value]), (kpi, got["month"], got["group"])
            assert _same(cell["ci_low"], want[low]) and _same(cell["ci_high"], want[high])
            assert cell["n"] == (None if pd.isna(want[n]) else int(want[n]))
            assert cell["small"] == bool(want[small])
        for part in ("promoters", "passives", "detractors"):
            assert _same(got[part], want[part])


def test_kpis_by_segment_equal_kpi_table_on_the_files_behind_the_store(
        client: TestClient, retention_home: Path) -> None:
    customers, events = _files(client)
    assert events == retention_home / "world" / "events.parquet" and customers.is_file()
    body = client.get("/kpis", params={"by": "segment", "min_n": 50}).json()
    table = kpi_table(customers, events, ("month", "segment"), min_n=50)
    assert body["by"] == "segment" and body["min_n"] == 50 and body["count"] == len(table)
    _check_rows(body["rows"], table, "segment")
    assert {r["group"] for r in body["rows"]} == set(table["segment"])
    assert any(r["nps"]["small"] for r in body["rows"])  # small cells are listed, not dropped
    assert any(not r["nps"]["small"] for r in body["rows"])
    assert body["latest_complete_month"] == "2025-06"  # the world ends 2025-07-01
    assert body["labels"]["churn_rate"] == "Churn rate"
    assert client.get("/kpis", params={"lang": "tr"}).json()["labels"]["churn_rate"] \
        == "Ayrılma oranı"


def test_a_segment_and_a_period_slice_the_same_table(client: TestClient) -> None:
    customers, events = _files(client)
    params = {"by": "touchpoint", "segment": "consumer", "start": "2024-01", "end": "2024-06"}
    body = client.get("/kpis", params=params).json()
    table = kpi_table(customers, events, ("month", "segment", "touchpoint"),
                      config=KpiConfig(start="2024-01", end="2024-06"))
    table = table[table["segment"] == "consumer"].drop(columns="segment")
    _check_rows(body["rows"], table, "touchpoint")
    assert {r["month"] for r in body["rows"]} == {f"2024-0{m}" for m in range(1, 7)}
    # response and churn are per customer: empty, not zero, by touchpoint
    assert all(r["churn_rate"]["n"] is None for r in body["rows"])
    monthly = client.get("/kpis").json()
    assert monthly["by"] == "month" and all(r["group"] is None for r in monthly["rows"])


@pytest.mark.parametrize("params, names", [
    ({"by": "colour"}, ["month", "segment", "region", "channel", "touchpoint"]),
    ({"segment": "nobody"}, ["business", "consumer", "family"]),
    ({"start": "2024-13"}, ["start"]), ({"min_n": 0}, ["min_n"]),
    ({"start": "2025-03", "end": "2024-01"}, ["start", "end"]),
])
def test_bad_requests_get_a_json_400_that_says_what_is_allowed(
        client: TestClient, params: dict, names: list[str]) -> None:
    response = client.get("/kpis", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert all(name in error for name in names), error


def test_tables_are_cached_per_file_version_and_parameters(client: TestClient) -> None:
    cache = client.app.state.kpis  # type: ignore[attr-defined]
    first = client.get("/kpis", params={"by": "region", "min_n": 31}).json()
    done = cache.computations
    assert client.get("/kpis", params={"by": "region", "min_n": 31}).json() == first
    client.get("/kpis", params={"by": "region", "min_n": 31, "lang": "tr"})
    assert cache.computations == done  # the language changes labels, not the table
    client.get("/kpis", params={"by": "region", "min_n": 32})
    assert cache.computations == done + 1
    _, events = _files(client)
    stat = events.stat()
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:  # a rewritten events file (new mtime) is read again
        assert client.get("/kpis", params={"by": "region", "min_n": 31}).json() == first
        assert cache.computations == done + 2
    finally:
        os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_api_key_guards_the_kpis_and_the_tab(runtime: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXCHURN_API_KEY", "s3cret")
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    client = TestClient(make_retention_app(runtime, outcomes=store))
    assert client.get("/kpis").status_code == 401
    assert client.get("/kpis", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/kpis", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    page = client.get("/experience", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def _card(html: str, kpi: str) -> str:
    match = re.search(rf'data-kpi="{kpi}">.*?class="big kpi-value">([^<]*)<', html, re.S)
    assert match, kpi
    return match.group(1)


def test_the_tab_speaks_both_languages_and_its_filters_change_the_numbers(
        client: TestClient) -> None:
    en = client.get("/experience").text
    tr = client.get("/experience", params={"lang": "tr"}).text
    assert "Customer experience" in en and "Müşteri deneyimi" in tr
    assert re.fullmatch(r"\d+\.\d%", _card(en, "csat"))
    assert re.fullmatch(r"%\d+,\d", _card(tr, "csat"))  # Turkish: %78,4
    assert _card(en, "csat").rstrip("%") == _card(tr, "csat").lstrip("%").replace(",", ".")
    assert "<svg" in en and 'class="band"' in en and "table class=\"heat\"" in en
    business = client.get("/experience", params={"segment": "business"}).text
    assert _card(business, "nps") != _card(en, "nps")
    by_region = client.get("/experience", params={"by": "region"}).text
    levels = set(re.findall(r'<tr data-level="([^"]+)"', by_region))
    assert levels and levels.isdisjoint({"business", "consumer", "family"})
    assert client.get("/experience", params={"by": "colour"}).status_code == 400
