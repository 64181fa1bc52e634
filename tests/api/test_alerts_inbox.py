"""The alerts inbox over HTTP on the real service: alerts the ingest's subscriber stores are
listed with API auth, assigned and resolved, posted signed to the configured webhook by the
service's own worker, and all of it is still there after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from serving.alerts.desk import make_alert_subscriber
from serving.alerts.rules import load_rules
from serving.alerts.store import AlertStore
from serving.alerts.webhook import WebhookConfig, WebhookDeliverer
from serving.live.change import ScoreChange
from tests.api.conftest import API_KEY, copy_home
from tests.api.server import launch_ready, stop
from tests.api.trained_home import TrainedHome
from tests.retention.receiver import SECRET, receiving

pytestmark = pytest.mark.slow


def _changes(now: datetime) -> list[ScoreChange]:
    three_days_ago = now - timedelta(days=3)
    return [
        ScoreChange(customer_id="C00000002", at=three_days_ago, old_score=0.05,
                    new_score=0.07, old_band="low", new_band="low",
                    events=({"customer_id": "C00000002", "event_type": "survey_nps",
                             "event_time": three_days_ago.isoformat(), "score": 2},),
                    what_changed=("NPS 2",)),
        ScoreChange(customer_id="C00000005", at=now, old_score=0.2, new_score=0.45,
                    old_band="medium", new_band="high"),
        ScoreChange(customer_id="C00000007", at=now, old_score=0.2, new_score=0.21,
                    old_band="medium", new_band="medium"),  # nothing to alert on
    ]


def test_inbox_over_http_assign_resolve_webhook_and_restart(
        trained_home: TrainedHome, tmp_path: Path) -> None:
    home = copy_home(trained_home, tmp_path / "home")
    with receiving() as receiver:
        env = {"CXCHURN_API_KEY": API_KEY, "CXCHURN_ALERT_WEBHOOK": receiver.url,
               "CXCHURN_ALERT_WEBHOOK_SECRET": SECRET}
        service = launch_ready(home, env)
        try:
            # The ingest side, as it runs after POST /events: the subscriber on the same store.
            store = AlertStore(f"sqlite:///{home / 'outcomes.db'}")
            hook = WebhookDeliverer(store, WebhookConfig(url=receiver.url, secret=SECRET))
            make_alert_subscriber(store, load_rules(), hook)(_changes(datetime.now(UTC)))
            store.dispose()

            assert service.get("/alerts", key=None).status_code == 401
            listed = service.get("/alerts", params={"lang": "tr"})
            assert listed.status_code == 200, listed.text
            alerts = listed.json()["alerts"]
            assert [(a["customer_id"], a["rule_id"], a["overdue"]) for a in alerts] == [
                ("C00000002", "detractor_callback", True),  # due 48 h after 3 days ago
                ("C00000005", "high_risk", False), ("C00000005", "risk_jump", False)]
            assert alerts[0]["reason"].endswith("48 saat içinde geri arayın")
            assert alerts[0]["details"] == ["NPS 2"]
            first, second = alerts[0]["id"], alerts[1]["id"]

            for params, name in (({"state": "closed"}, "state"), ({"stat": "open"}, "stat")):
                bad = service.get("/alerts", params=params)
                assert bad.status_code == 400 and name in bad.json()["error"], bad.text
            assigned = service.post(f"/alerts/{first}/assign", {"owner": "ayse"})
            assert assigned.status_code == 200, assigned.text
            assert (assigned.json()["state"], assigned.json()["owner"]) == ("assigned", "ayse")
            empty = service.post(f"/alerts/{second}/resolve", {"note": ""})
            assert empty.status_code == 400 and "note" in empty.json()["error"]
            resolved = service.post(f"/alerts/{second}/resolve",
                                    {"note": "called, offered a voucher", "by": "mehmet"})
            assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
            again = service.post(f"/alerts/{second}/resolve", {"note": "twice"})
            assert again.status_code == 409 and "already resolved" in again.json()["error"]
            assert service.post("/alerts/999999/assign", {"owner": "x"}).status_code == 404
            assert service.post(f"/alerts/{first}/assign", {"owner": "x"},
                                key="wrong").status_code == 401

            # The service's worker found the pending deliveries and posted them, signed.
            got = receiver.wait(3)
            assert len(got) == 3 and all(r["valid"] for r in got)
            assert {r["body"]["alert"]["rule_id"] for r in got} == {
                "detractor_callback", "high_risk", "risk_jump"}
        finally:
            stop(service)

        restarted = launch_ready(home, env)
        try:
            everything = restarted.get("/alerts", params={"state": "all"}).json()["alerts"]
            by_id = {a["id"]: a for a in everything}
            assert (by_id[first]["state"], by_id[first]["owner"]) == ("assigned", "ayse")
            assert (by_id[second]["state"], by_id[second]["resolution"],
                    by_id[second]["resolved_by"]) == (
                "resolved", "called, offered a voucher", "mehmet")
            assert {a["delivery"]["state"] for a in everything} == {"delivered"}
            assert all(a["delivery"]["attempts"] == 1 for a in everything)
            active = restarted.get("/alerts").json()["alerts"]
            assert second not in {a["id"] for a in active}
            assert len(receiver.requests) == 3  # delivered ones are not posted again
            log = restarted.log_text() + service.log_text()
            assert SECRET not in log and "C00000002" not in log
        finally:
            stop(restarted)


def test_the_inbox_page_needs_a_session_like_the_other_pages(trained_home: TrainedHome,
                                                             tmp_path: Path) -> None:
    home = copy_home(trained_home, tmp_path / "home")
    service = launch_ready(home, {"CXCHURN_API_KEY": API_KEY})
    try:
        page = httpx.get(service.url + "/inbox?lang=tr", follow_redirects=False, timeout=30)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        with httpx.Client(base_url=service.url, timeout=30) as client:
            client.post("/login", data={"key": API_KEY, "next": "/inbox"})
            inbox = client.get("/inbox", params={"lang": "tr"})
        assert inbox.status_code == 200 and "Uyarılar" in inbox.text
        assert "Burada uyarı yok." in inbox.text
    finally:
        stop(service)
