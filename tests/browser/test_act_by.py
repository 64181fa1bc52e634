"""The act-by date on the at-risk list and the customer page, in English and Turkish, equal to
what the scoring API answers for the same customer."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import running_service

pytestmark = pytest.mark.slow

EN = re.compile(r"likely to leave within (\d+) days; act by (\d{4}-\d{2}-\d{2})")
TR = re.compile(r"(\d+) gün içinde ayrılması olası; en geç (\d{2}\.\d{2}\.\d{4}) tarihinde "
                r"harekete geçin")


def _score(url: str, customer: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/score", data=json.dumps({"customer_ids": [customer]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["results"][0]


def test_act_by_date_in_both_languages(browser: Any, retention_home: Path) -> None:
    with running_service(retention_home) as url:
        page = browser.new_page()
        page.goto(url + "/?limit=50&sort=p_churn")
        row = page.locator("#at-risk tbody tr", has=page.locator(".timing")).first
        customer = row.get_attribute("data-customer")
        found = EN.search(row.locator(".timing").inner_text())
        assert customer and found, "no at-risk row shows an act-by date"
        api = _score(url, customer)
        assert (int(found[1]), found[2]) == (api["leave_within_days"], api["act_by"])

        page.goto(f"{url}/?limit=50&sort=p_churn&lang=tr")
        turkish = page.locator(f'#at-risk tbody tr[data-customer="{customer}"] .timing')
        found_tr = TR.search(turkish.inner_text())
        assert found_tr, turkish.inner_text()
        day = dt.date.fromisoformat(api["act_by"])
        assert (int(found_tr[1]), found_tr[2]) == (api["leave_within_days"],
                                                   day.strftime("%d.%m.%Y"))

        page.goto(f"{url}/customer/{customer}?lang=tr")
        assert TR.search(page.locator("#timing").inner_text())
        assert "90 gün içinde" in page.locator("#horizons").inner_text()
        page.goto(f"{url}/customer/{customer}?lang=en")
        assert EN.search(page.locator("#timing").inner_text())[2] == api["act_by"]  # type: ignore[index]
        shown = page.locator("#horizons").inner_text()
        assert f"within 90 days: {100 * api['horizons']['90']:.1f}%" in shown
        page.close()
