"""The page's Experience tab in headless Chromium, against the real service.

Both languages, the charts drawn, a filter that changes the numbers. Screenshots go to the
folder in ``CXCHURN_SCREENSHOTS`` (default ``output/screenshots/``, ignored by git), so a
reviewer can look at what the test saw.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT, running_service

pytestmark = pytest.mark.slow


def _shots() -> Path:
    folder = Path(os.environ.get("CXCHURN_SCREENSHOTS") or ROOT / "output" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cards(page: Any) -> dict[str, tuple[str, str]]:
    """KPI -> (value, n) as the cards show them."""
    return {c.get_attribute("data-kpi"): (c.locator(".kpi-value").inner_text().strip(),
                                          c.locator(".kpi-n").inner_text().strip())
            for c in page.locator("#kpi-cards .kpi-card").all()}


def check_tab_in_english(page: Any, url: str) -> dict[str, tuple[str, str]]:
    page.goto(url + "/?limit=10")
    page.click("#tab-experience")
    page.wait_for_url("**/experience**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1.page-title").inner_text() == "Customer experience"
    cards = _cards(page)
    assert set(cards) == {"nps", "csat", "ces", "churn_rate"}
    assert re.fullmatch(r"\d+\.\d%", cards["csat"][0]) and cards["csat"][1].isascii()
    assert all(n not in ("", "–") for _, n in cards.values())
    assert page.locator("#trend svg").is_visible()
    assert page.locator("#trend svg circle.pt").count() >= 12
    assert page.locator("#trend svg polygon.band").count() >= 1
    assert page.locator("#composition svg rect.promoters").count() >= 12
    heat = page.locator("#heatmap table.heat td")
    assert heat.count() > 0 and all("n=" in t for t in heat.all_inner_texts())
    assert page.locator("#heatmap td.small").count() > 0  # greyed, still there
    page.screenshot(path=str(_shots() / "experience_en.png"), full_page=True)
    return cards


def check_filter_changes_numbers(page: Any, everyone: dict[str, tuple[str, str]]) -> None:
    page.select_option("#k-segment", "business")  # submits on change
    page.wait_for_url("**segment=business**")
    business = _cards(page)
    assert business["nps"] != everyone["nps"] and business["churn_rate"] != everyone[
        "churn_rate"]
    assert int(business["churn_rate"][1].replace(",", "")) < int(
        everyone["churn_rate"][1].replace(",", ""))
    page.select_option("#k-by", "region")
    page.wait_for_url("**by=region**")
    levels = page.locator("#heatmap tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.level)")
    assert levels and not {"business", "consumer", "family"} & set(levels)
    assert _cards(page) == business  # the split changes the heat map, not the segment's cards
    page.screenshot(path=str(_shots() / "experience_en_business_by_region.png"),
                    full_page=True)


def check_tab_in_turkish(page: Any, url: str) -> None:
    page.goto(url + "/experience?by=touchpoint&kpi=csat")
    page.click("#lang-tr")
    page.wait_for_url("**lang=tr**")
    assert page.locator("html").get_attribute("lang") == "tr"
    assert page.locator("h1.page-title").inner_text() == "Müşteri deneyimi"
    assert page.locator("#tab-experience").inner_text() == "Deneyim"
    cards = _cards(page)
    assert re.fullmatch(r"%\d+,\d", cards["csat"][0])  # decimal comma, % first
    assert re.fullmatch(r"\d+,\d\d", cards["ces"][0])
    assert "temas noktası" in page.locator("#heatmap h2").inner_text()
    assert page.locator("#k-by").input_value() == "touchpoint"  # filters kept
    assert page.locator("#trend svg circle.pt").count() >= 12
    page.screenshot(path=str(_shots() / "experience_tr.png"), full_page=True)


def test_experience_tab_in_chromium(browser: Any, retention_home: Path) -> None:
    with running_service(retention_home) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        everyone = check_tab_in_english(page, url)
        check_filter_changes_numbers(page, everyone)
        check_tab_in_turkish(page, url)
        page.close()
