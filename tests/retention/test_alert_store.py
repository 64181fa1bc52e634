"""The alert store keeps alerts, their owner and resolution, and their webhook delivery in a
real database (SQLite and PostgreSQL), across restarts and across processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxchurn.errors import ConfigError, NotFoundError
from serving.alerts.desk import make_alert_subscriber
from serving.alerts.rules import evaluate, load_rules
from serving.alerts.store import AlertStateError, AlertStore
from serving.live.change import ScoreChange

AT = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
RULES = load_rules()


def detractor(cid: str, score: float = 2, at: datetime = AT) -> ScoreChange:
    return ScoreChange(customer_id=cid, at=at, old_score=0.05, new_score=0.06, old_band="low",
                       new_band="low", events=({"customer_id": cid, "event_type": "survey_nps",
                                                "event_time": at.isoformat(), "score": score},))


def jump(cid: str, at: datetime = AT) -> ScoreChange:
    return ScoreChange(customer_id=cid, at=at, old_score=0.1, new_score=0.5, old_band="medium",
                       new_band="high")


def _lifecycle(url: str) -> None:
    store = AlertStore(url)
    subscriber = make_alert_subscriber(store, RULES)
    subscriber([detractor("C1"), jump("C2"), detractor("C1", score=4)])  # one batch
    subscriber([detractor("C1", score=0)])  # same rule, same customer, still open: no new one
    assert sorted((a.customer_id, a.rule_id) for a in store.list()) == [
        ("C1", "detractor_callback"), ("C2", "high_risk"), ("C2", "risk_jump")]
    c1 = store.list(customer_id="C1")[0]
    assert c1.state == "open" and c1.due_at == AT + timedelta(hours=48)
    assert c1.reason("tr").startswith("2025-06-03 tarihinde NPS yanıtı 2")
    store.assign(c1.id, "ayse")
    high = next(a for a in store.list() if a.rule_id == "high_risk")
    store.resolve(high.id, "called, offered a voucher", by="mehmet")
    store.dispose()

    again = AlertStore(url)  # what a restarted service opens
    c1_again = again.get(c1.id)
    assert (c1_again.state, c1_again.owner) == ("assigned", "ayse")
    assert c1_again.assigned_at is not None and c1_again.assigned_at.tzinfo is not None
    done = again.get(high.id)
    assert (done.state, done.resolution, done.resolved_by) == (
        "resolved", "called, offered a voucher", "mehmet")
    assert [a.id for a in again.list(("resolved",))] == [high.id]
    assert {a.id for a in again.list()} == {c1.id, next(
        a.id for a in again.list() if a.rule_id == "risk_jump")}
    # resolved: the rule may fire again for the customer; assigned: still de-duplicated
    make_alert_subscriber(again, RULES)([jump("C2", AT + timedelta(days=1)),
                                         detractor("C1", 1, AT + timedelta(days=1))])
    fresh = [a for a in again.list() if a.rule_id == "high_risk"]
    assert len(fresh) == 1 and fresh[0].id != high.id and fresh[0].state == "open"
    assert len(again.list(customer_id="C1")) == 1
    with pytest.raises(AlertStateError, match="already resolved"):
        again.resolve(high.id, "twice")
    with pytest.raises(AlertStateError, match="only open or assigned"):
        again.assign(high.id, "ayse")
    with pytest.raises(NotFoundError, match="no alert with id 99999"):
        again.assign(99999, "ayse")
    with pytest.raises(ConfigError, match="resolution note"):
        again.resolve(c1.id, "   ")
    with pytest.raises(ConfigError, match="owner must be a name"):
        again.assign(c1.id, "")
    again.dispose()


def test_sqlite_alerts_survive_a_restart(tmp_path: Path) -> None:
    _lifecycle(f"sqlite:///{tmp_path / 'outcomes.db'}")


def test_postgres_alerts_survive_a_restart(postgres_url: str) -> None:
    _lifecycle(postgres_url)


def _racing_claims(url: str) -> None:
    first = AlertStore(url)
    first.add([a for c in (detractor("C1"), detractor("C2"), detractor("C3"))
               for a in evaluate(c, RULES)], deliver=True)
    second = AlertStore(url)  # another worker process
    got_first = first.claim_due()
    got_second = second.claim_due()
    assert len(got_first) == 3 and got_second == []  # leased: nobody posts an alert twice
    first.record_delivery(got_first[0].id, "pending", 1, 503, "HTTP 503",
                          next_at=datetime.now(UTC) + timedelta(hours=1))
    later = datetime.now(UTC) + timedelta(minutes=5)  # the other leases ran out (a crash)
    assert {a.id for a in second.claim_due(now=later)} == {a.id for a in got_first[1:]}
    assert first.get(got_first[0].id).delivery_status == 503
    first.dispose()
    second.dispose()


def test_sqlite_two_processes_never_claim_the_same_delivery(tmp_path: Path) -> None:
    _racing_claims(f"sqlite:///{tmp_path / 'outcomes.db'}")


def test_postgres_two_processes_never_claim_the_same_delivery(postgres_url: str) -> None:
    _racing_claims(postgres_url)


def test_a_database_failure_never_fails_the_ingest(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    store = AlertStore(f"sqlite:///{tmp_path / 'o.db'}")
    store.engine.dispose()
    (tmp_path / "o.db").unlink()
    (tmp_path / "o.db").mkdir()  # the file is gone and cannot be created again
    subscriber: Callable = make_alert_subscriber(store, RULES)
    subscriber([detractor("C00077")])  # returns: the events are stored, the alert waits
    assert "alert(s) not stored" in caplog.text
    assert "C00077" not in caplog.text  # no customer data in logs


def test_an_unreachable_database_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="CXCHURN_OUTCOMES_URL"):
        AlertStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")
