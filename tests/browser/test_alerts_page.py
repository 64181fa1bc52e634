"""The Alerts tab in headless Chromium against the real service, in English and Turkish:
alerts the ingest's subscriber stored are listed, the overdue one marked, and "assign to me"
and "resolve" work from the page (the name typed once is remembered)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from serving.alerts.desk import make_alert_subscriber
from serving.alerts.rules import load_rules
from serving.alerts.store import AlertStore, alerts_table
from serving.live.change import ScoreChange
from tests.browser.conftest import running_service
from tests.browser.test_experience_page import _shots

pytestmark = pytest.mark.slow


def _insert(home: Path) -> tuple[int, int]:
    """An overdue detractor call-back and a fresh high-risk alert; (their ids)."""
    now = datetime.now(UTC)
    old = now - timedelta(days=3)
    store = AlertStore(f"sqlite:///{home / 'outcomes.db'}")
    make_alert_subscriber(store, [r for r in load_rules() if r.id != "risk_jump"])([
        ScoreChange(customer_id="C00000002", at=old, old_score=0.05, new_score=0.07,
                    old_band="low", new_band="low", what_changed=("NPS 2",),
                    events=({"customer_id": "C00000002", "event_type": "survey_nps",
                             "event_time": old.isoformat(), "score": 2},)),
        ScoreChange(customer_id="C00000005", at=now, old_score=0.2, new_score=0.45,
                    old_band="medium", new_band="high")])
    ids = {a.customer_id: a.id for a in store.list()}
    store.dispose()
    return ids["C00000002"], ids["C00000005"]


def _row(page: Any, alert_id: int) -> Any:
    return page.locator(f'#alerts tr[data-alert="{alert_id}"]')


def test_alerts_tab_in_chromium(browser: Any, retention_home: Path) -> None:
    overdue, fresh = _insert(retention_home)
    try:
        with running_service(retention_home) as url:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url + "/?limit=10")
            page.click("#tab-alerts")
            page.wait_for_url("**/inbox**")
            assert page.locator("h1.page-title").inner_text() == "Alerts to act on"
            assert page.locator("#tab-alerts").inner_text() == "Alerts"
            assert page.locator("#alert-count").text_content() == "2 alerts, 1 overdue"
            assert "overdue" in (_row(page, overdue).get_attribute("class") or "")
            assert _row(page, overdue).locator(".overdue-mark").inner_text() == "overdue"
            assert _row(page, fresh).locator(".overdue-mark").count() == 0
            assert "call back within 48 hours" in _row(page, overdue).locator(
                ".why").inner_text()
            page.screenshot(path=str(_shots() / "alerts_en.png"), full_page=True)

            _row(page, overdue).locator("input[name=owner]").fill("Ayşe")
            _row(page, overdue).locator("form.assign button").click()
            page.wait_for_load_state()
            assert _row(page, overdue).get_attribute("data-state") == "assigned"
            assert "Ayşe" in _row(page, overdue).locator(".owner").inner_text()
            # "me" is remembered: the next row's assign field already holds the name
            assert _row(page, fresh).locator("input[name=owner]").input_value() == "Ayşe"

            _row(page, fresh).locator("input[name=note]").fill("called, offered a voucher")
            _row(page, fresh).locator("form.resolve button").click()
            page.wait_for_load_state()
            assert _row(page, fresh).count() == 0  # resolved: off the active list
            page.select_option("#f-show", "all")
            page.wait_for_url("**show=all**")
            assert _row(page, fresh).get_attribute("data-state") == "resolved"
            assert "called, offered a voucher" in _row(page, fresh).inner_text()

            page.click("#lang-tr")
            page.wait_for_url("**lang=tr**")
            assert page.locator("html").get_attribute("lang") == "tr"
            assert page.locator("#tab-alerts").inner_text() == "Uyarılar"
            assert page.locator("h1.page-title").inner_text() == "İlgilenilecek uyarılar"
            assert _row(page, overdue).locator(".overdue-mark").inner_text() == "gecikmiş"
            assert "48 saat içinde geri arayın" in _row(page, overdue).locator(
                ".why").inner_text()
            assert _row(page, fresh).locator(".state").inner_text() == "çözüldü"
            assert _row(page, overdue).locator("form.resolve button").inner_text() == "Çöz"
            page.screenshot(path=str(_shots() / "alerts_tr.png"), full_page=True)
            page.close()
    finally:  # the home is shared with the other browser tests: leave no alerts behind
        store = AlertStore(f"sqlite:///{retention_home / 'outcomes.db'}")
        with store.engine.begin() as con:
            con.execute(alerts_table.delete())
        store.dispose()
