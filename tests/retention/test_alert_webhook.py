"""The webhook: a real HTTP receiver on loopback gets every new alert signed with the shared
secret, a failing receiver is retried with backoff until it answers, the delivery state is
recorded, a restart picks up what was pending, and the ingest never waits for any of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from serving.alerts.desk import make_alert_subscriber
from serving.alerts.rules import load_rules
from serving.alerts.store import AlertStore, StoredAlert
from serving.alerts.webhook import WebhookConfig, WebhookDeliverer, sign, verify_signature
from serving.live.change import ScoreChange
from tests.retention.receiver import SECRET, Receiver, receiving

RULES = load_rules()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def detractor(cid: str) -> ScoreChange:
    at = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
    return ScoreChange(customer_id=cid, at=at, old_score=0.05, new_score=0.06, old_band="low",
                       new_band="low", events=({"customer_id": cid, "event_type": "survey_nps",
                                                "event_time": at.isoformat(), "score": 3},))


def wait_for(store: AlertStore, alert_id: int, states: tuple[str, ...],
             timeout: float = 15) -> StoredAlert:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alert = store.get(alert_id)
        if alert.delivery in states:
            return alert
        time.sleep(0.05)
    raise AssertionError(f"delivery still {store.get(alert_id).delivery} after {timeout} s")


def config(url: str, attempts: int = 5) -> WebhookConfig:
    return WebhookConfig(url=url, secret=SECRET, max_attempts=attempts, base_delay=0.2,
                         timeout=5)


def test_a_failing_receiver_gets_signed_retries_until_it_answers(
        tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.failures = 2
    store = AlertStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    webhook = WebhookDeliverer(store, config(receiver.url)).start()
    make_alert_subscriber(store, RULES, webhook)([detractor("C00042")])
    [pending] = store.list()
    assert pending.delivery == "pending"
    done = wait_for(store, pending.id, ("delivered", "failed"))
    webhook.close()
    assert (done.delivery, done.delivery_attempts, done.delivery_status) == ("delivered", 3, 200)
    assert [r["valid"] for r in receiver.requests] == [True, True, True]
    assert {r["delivery"] for r in receiver.requests} == {str(pending.id)}  # dedupe key
    alert = receiver.requests[-1]["body"]["alert"]
    assert receiver.requests[-1]["body"]["type"] == "alert.created"
    assert (alert["customer_id"], alert["rule_id"]) == ("C00042", "detractor_callback")
    assert alert["why"]["tr"].endswith("48 saat içinde geri arayın")
    gaps = [b["at"] - a["at"] for a, b in zip(receiver.requests, receiver.requests[1:],
                                              strict=False)]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.36  # 0.2 s, then twice that: exponential backoff
    assert SECRET not in caplog.text


def test_attempts_are_bounded_and_a_refusal_is_not_retried(tmp_path: Path,
                                                           receiver: Receiver) -> None:
    receiver.failures, receiver.fail_status = 100, 500
    store = AlertStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    webhook = WebhookDeliverer(store, config(receiver.url, attempts=3)).start()
    subscriber = make_alert_subscriber(store, RULES, webhook)
    subscriber([detractor("C1")])
    failed = wait_for(store, store.list()[0].id, ("failed", "delivered"))
    assert (failed.delivery, failed.delivery_attempts, failed.delivery_status) == (
        "failed", 3, 500)
    assert len(receiver.requests) == 3
    receiver.fail_status = 401  # the receiver refuses the request itself: retrying won't help
    subscriber([detractor("C2")])
    refused = wait_for(store, store.list(customer_id="C2")[0].id, ("failed", "delivered"))
    webhook.close()
    assert (refused.delivery_attempts, refused.delivery_status) == (1, 401)
    assert len(receiver.requests) == 4


def test_pending_deliveries_are_picked_up_after_a_restart(tmp_path: Path,
                                                          receiver: Receiver) -> None:
    url = f"sqlite:///{tmp_path / 'outcomes.db'}"
    before = AlertStore(url)
    # The service stopped after storing the alerts and before posting them.
    make_alert_subscriber(before, RULES, WebhookDeliverer(before, config(receiver.url)))(
        [detractor("C1"), detractor("C2")])
    before.dispose()
    assert receiver.requests == []
    after = AlertStore(url)
    webhook = WebhookDeliverer(after, config(receiver.url)).start()
    for alert in after.list():
        assert wait_for(after, alert.id, ("delivered",)).delivery_attempts == 1
    webhook.close()
    assert sorted(r["body"]["alert"]["customer_id"] for r in receiver.requests) == ["C1", "C2"]


def test_close_drains_what_is_due(tmp_path: Path, receiver: Receiver) -> None:
    store = AlertStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    webhook = WebhookDeliverer(store, config(receiver.url)).start()
    make_alert_subscriber(store, RULES, webhook)([detractor(f"C{i}") for i in range(5)])
    webhook.close()
    assert {a.delivery for a in store.list()} == {"delivered"}
    assert len(receiver.requests) == 5


def test_a_slow_receiver_never_slows_the_ingest(tmp_path: Path, receiver: Receiver) -> None:
    receiver.delay = 1.0
    store = AlertStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    webhook = WebhookDeliverer(store, config(receiver.url)).start()
    subscriber = make_alert_subscriber(store, RULES, webhook)
    started = time.perf_counter()
    subscriber([detractor(f"C{i}") for i in range(3)])
    took = time.perf_counter() - started
    assert took < 0.5, f"the ingest waited {took:.2f} s for the webhook"
    assert len(store.list()) == 3
    webhook.close(timeout=10)


def test_a_receiver_can_tell_a_forged_or_replayed_request() -> None:
    body = b'{"type":"alert.created"}'
    now = 1_750_000_000
    header = sign(SECRET, now, body)
    assert verify_signature(SECRET, header, body, now=now + 10)
    assert not verify_signature(SECRET, header, body + b" ", now=now)  # body changed
    assert not verify_signature("another-secret-0123456789", header, body, now=now)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # replayed later
    assert not verify_signature(SECRET, None, body) and not verify_signature(SECRET, "v1=x",
                                                                             body)


def test_the_retention_state_wires_rules_store_and_webhook_from_the_settings(
        tmp_path: Path, receiver: Receiver) -> None:
    from cxchurn.settings import Settings
    from serving.retention.state import RetentionState

    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: nps_low, kind: detractor, params: {max_score: 4},"
                     " due_hours: 24, severity: high}\n", encoding="utf-8")
    settings = Settings.from_env({
        "CXCHURN_HOME": str(tmp_path), "CXCHURN_ALERT_RULES": str(rules),
        "CXCHURN_ALERT_WEBHOOK": receiver.url, "CXCHURN_ALERT_WEBHOOK_SECRET": SECRET})
    state = RetentionState(runtime=None, settings=settings)
    assert state._alerts is None  # nothing opened until alerts are needed
    state.alerts.subscriber()([detractor("C1")])
    [alert] = AlertStore(f"sqlite:///{tmp_path / 'outcomes.db'}").list()  # the outcome DB
    assert (alert.rule_id, alert.due_at - alert.created_at) == ("nps_low",
                                                               timedelta(hours=24))
    assert receiver.wait(1)[0]["valid"]
    state.alerts.close()
    assert state.alerts.store.get(alert.id).delivery == "delivered"
