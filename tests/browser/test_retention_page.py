"""The retention team's page in headless Chromium, against the real service.

One test, two service starts: the page checks run on the first service, then the service is
restarted on the same home to show that an outcome recorded in the form is still there.
(One test rather than several so that test workers never build the home or start the service
twice.)
"""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.browser.conftest import running_service

pytestmark = pytest.mark.slow


def _ids(page: Any) -> list[str]:
    return page.locator("#at-risk tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.customer)")


def _reasons(page: Any) -> list[str]:
    return page.locator("#at-risk tbody tr ul.reasons").all_inner_texts()


def check_list_loads_ranked(page: Any, url: str) -> list[str]:
    page.goto(url + "/?limit=1000")
    assert "cxchurn v1" in page.locator(".topbar").inner_text()
    everyone = _ids(page)
    assert len(everyone) > 100
    assert all(_reasons(page)[:20])
    values = page.locator("#at-risk td.env").all_inner_texts()
    numbers = [float(v.replace(",", "")) for v in values]
    assert numbers == sorted(numbers, reverse=True)
    return everyone


def check_filter_narrows(page: Any, everyone: list[str]) -> None:
    band = page.locator("#f-band option").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)")[0]
    page.select_option("#f-band", band)  # the page submits the filter on change
    page.wait_for_url(f"**risk_band={band}**")
    narrowed = _ids(page)
    assert 0 < len(narrowed) < len(everyone)
    assert set(narrowed) <= set(everyone)
    bands = page.locator("#at-risk tbody tr").evaluate_all("rows => rows.map(r => r.dataset.band)")
    assert set(bands) == {band}


def check_language_switch(page: Any, url: str) -> None:
    page.goto(url + "/?limit=25")
    english, ids = _reasons(page), _ids(page)
    page.click("#lang-tr")
    page.wait_for_url("**lang=tr**")
    assert page.locator("html").get_attribute("lang") == "tr"
    assert _ids(page) == ids
    turkish = _reasons(page)
    assert turkish != english
    assert any("Teslimat" in t or "Hizmet" in t or "Müşteri" in t for t in turkish)


def check_exports(page: Any, url: str, tmp_path: Path) -> None:
    page.goto(url + "/?lang=tr&limit=50&segment=consumer")
    visible = _ids(page)
    assert visible
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    path = tmp_path / "export.csv"
    csv_download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [r["Müşteri"] for r in rows] == visible
    assert {r["Segment"] for r in rows} == {"bireysel"}  # the consumer segment, in Turkish
    with page.expect_download() as xlsx_download:
        page.click("#export-xlsx")
    book = tmp_path / "export.xlsx"
    xlsx_download.value.save_as(book)
    sheet = openpyxl.load_workbook(book).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == visible


def record_outcome_in_form(page: Any, url: str) -> str:
    page.goto(url + "/?limit=5")
    page.locator("#at-risk a.cid").first.click()
    page.wait_for_url("**/customer/**")
    customer = page.locator("#customer-id").inner_text().strip()
    assert page.locator("#explanation .driver").count() > 0
    assert page.locator("#timeline li").count() > 0
    page.select_option("#o-action", "loyalty_offer")
    page.select_option("#o-result", "retained")
    page.fill("#o-by", "agent-ayse")
    page.fill("#o-note", "offered the old price")
    page.click("#o-save")
    page.wait_for_url("**recorded=1**")
    assert page.locator("#recorded-ok").is_visible()
    assert "agent-ayse" in page.locator("#outcomes").inner_text()
    return customer


def test_retention_page_in_chromium(browser: Any, retention_home: Path, tmp_path: Path) -> None:
    with running_service(retention_home) as url:
        page = browser.new_page(accept_downloads=True)
        everyone = check_list_loads_ranked(page, url)
        check_filter_narrows(page, everyone)
        check_language_switch(page, url)
        check_exports(page, url, tmp_path)
        customer = record_outcome_in_form(page, url)
        page.close()
        # the documented screenshot command, pointed at the running service
        from serving.retention.commands import screenshot

        png = screenshot(url + "/?limit=10", tmp_path / "page.png", browser=browser)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    with running_service(retention_home) as url:  # a new process on the same home
        page = browser.new_page()
        page.goto(f"{url}/customer/{customer}")
        table = page.locator("#outcomes").inner_text()
        assert "agent-ayse" in table and "Loyalty price offer" in table
        page.close()
        with urllib.request.urlopen(f"{url}/retention/outcomes?customer_id={customer}") as r:
            stored = json.load(r)["outcomes"]
    assert [(o["action_type"], o["result"], o["note"]) for o in stored] == [
        ("loyalty_offer", "retained", "offered the old price")]
