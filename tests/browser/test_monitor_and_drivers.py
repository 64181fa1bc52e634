"""The model panel's monitoring result and the Experience tab's Drivers section in Chromium.

Real reports are written into the trained home first (``tests/retention/reports.py``: the
home's champion monitored with a delivery crisis at the newest cutoff; its drivers and the
world's survey drivers), then the real service is started on it, as a user would after
running ``cxchurn monitor`` and ``cxchurn drivers``. Screenshots go where the Experience tab's
browser test puts its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from serving.reasons.text import feature_label
from tests.browser.conftest import running_service
from tests.browser.test_experience_page import _shots
from tests.retention.reports import DRIFTED, write_drivers_report, write_monitor_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(retention_home: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.api.trained_home import home_env
    from training.pyfunc import load_churn_model

    with home_env(retention_home):
        model = load_churn_model("models:/cxchurn@champion")
    return (write_monitor_report(retention_home, model),
            write_drivers_report(retention_home, model))


def test_monitoring_and_drivers_in_chromium(browser: Any, retention_home: Path,
                                            reports) -> None:
    monitor, drivers = reports
    with running_service(retention_home) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url + "/?limit=10")
        panel = page.locator("#monitor")
        assert panel.is_visible()
        assert panel.locator(f'[data-feature="{DRIFTED}"]').is_visible()
        newest = monitor["cutoffs"][-1]
        assert f"{newest['est_roc_auc']:.3f}" in page.locator("#monitor-estimated").inner_text()
        matured = monitor["cutoffs"][0]
        realised = page.locator("#monitor-realised").inner_text()
        assert f"{matured['realised_roc_auc']:.3f}" in realised and matured["cutoff"] in realised
        assert feature_label(DRIFTED, "en") in page.locator(
            "#monitor-alerts .alert").first.inner_text()
        page.screenshot(path=str(_shots() / "monitor_panel_en.png"), full_page=False)

        page.click("#tab-experience")
        page.wait_for_url("**/experience**")
        section = page.locator("#drivers")
        section.scroll_into_view_if_needed()
        nps = section.locator('.driver-set[data-survey="nps"]')
        assert nps.is_visible()
        want = [f["family"] for f in next(s for s in drivers["surveys"]
                                          if s["survey"] == "nps")["families"]]
        shown = nps.locator("tr").evaluate_all("rows => rows.map(r => r.dataset.family)")
        assert shown == want
        width = nps.locator("tr").first.locator(".fill").evaluate(
            "e => e.getBoundingClientRect().width")
        assert width > 10  # the bar is drawn
        assert section.locator("#churn-drivers tbody tr").count() >= 3
        section.screenshot(path=str(_shots() / "drivers_en.png"))

        page.click("#lang-tr")
        page.wait_for_url("**lang=tr**")
        assert page.locator("#drivers h2").inner_text() == "Temel etkenler"
        assert "arttıkça puan" in page.locator("#drivers").inner_text()
        page.locator("#drivers").screenshot(path=str(_shots() / "drivers_tr.png"))
        page.goto(url + "/?limit=10&lang=tr")
        assert "Model izleme" in page.locator("#monitor h2").inner_text()
        page.close()
