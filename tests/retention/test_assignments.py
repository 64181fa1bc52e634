"""Owner and status per customer in a real database (SQLite and PostgreSQL): one owner at a
time, statuses that survive a restart, and the "contacted lately" set built from them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from cxchurn.errors import DataContractError
from serving.retention.assignments import AssignmentStore, ClaimConflictError
from serving.retention.outcomes import Outcome
from serving.retention.worklist import recently_contacted


def _store(url: str) -> AssignmentStore:
    return AssignmentStore(create_engine(url))


def _one_owner_and_restarts(url: str) -> None:
    first = _store(url)
    assert first.get("C1").owner is None and first.get("C1").status == "new"
    assert first.claim("C1", " ayse ").owner == "ayse"
    assert first.claim("C1", "ayse").owner == "ayse"  # claiming again is harmless
    with pytest.raises(ClaimConflictError, match="'ayse'"):
        first.claim("C1", "mehmet")
    with pytest.raises(ClaimConflictError):
        first.set_status("C1", "contacted", "mehmet")
    contacted = first.set_status("C1", "contacted", "ayse")
    assert contacted.contacted_at is not None and contacted.updated_by == "ayse"
    assert first.set_status("C2", "lost", "mehmet").owner == "mehmet"  # unowned: claims it
    first.engine.dispose()
    again = _store(url)  # a restarted service
    stored = again.all()
    assert {c: (a.owner, a.status) for c, a in stored.items()} == {
        "C1": ("ayse", "contacted"), "C2": ("mehmet", "lost")}
    assert stored["C1"].contacted_at is not None and stored["C1"].contacted_at.tzinfo
    assert set(again.all(["C2", "C9"])) == {"C2"}
    released = again.release("C1", "ayse")
    assert released.owner is None and released.status == "contacted"
    assert again.claim("C1", "mehmet").owner == "mehmet"
    again.engine.dispose()


def test_sqlite_keeps_one_owner_and_survives_a_restart(tmp_path: Path) -> None:
    _one_owner_and_restarts(f"sqlite:///{tmp_path / 'outcomes.db'}")


def test_postgresql_keeps_one_owner_and_survives_a_restart(postgres_url: str) -> None:
    _one_owner_and_restarts(postgres_url)


def test_two_agents_claiming_at_once_on_postgresql_get_one_owner(postgres_url: str) -> None:
    store = _store(postgres_url)
    store.get("warm-up")  # tables exist before the race
    results: dict[str, str] = {}

    def claim(agent: str) -> None:
        try:
            store.claim("C7", agent)
            results[agent] = "owner"
        except ClaimConflictError:
            results[agent] = "refused"

    threads = [threading.Thread(target=claim, args=(f"agent{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("owner") == 1
    assert store.get("C7").owner == next(a for a, r in results.items() if r == "owner")


@pytest.mark.parametrize("call, word", [
    (lambda s: s.claim("C1", "  "), "agent is empty"),
    (lambda s: s.set_status("C1", "maybe", "a"), "status must be one of"),
    (lambda s: s.claim("C1", "x" * 200), "longer than"),
])
def test_bad_changes_are_refused_and_nothing_is_stored(tmp_path: Path, call, word: str) -> None:
    store = _store(f"sqlite:///{tmp_path / 'o.db'}")
    with pytest.raises(DataContractError, match=word):
        call(store)
    assert store.all() == {}


def test_recently_contacted_reads_outcomes_and_statuses(tmp_path: Path) -> None:
    store = _store(f"sqlite:///{tmp_path / 'o.db'}")
    store.set_status("C1", "contacted", "a")
    store.set_status("C2", "new", "a")  # claimed, not yet called
    now = datetime.now(UTC)
    outcomes = [Outcome("C3", "apology_voucher", now - timedelta(days=2), "no_answer", "b"),
                Outcome("C4", "apology_voucher", now - timedelta(days=40), "retained", "b")]
    assert recently_contacted(outcomes, store.all(), now, 14) == {"C1", "C3"}
    assert recently_contacted(outcomes, store.all(), now, 60) == {"C1", "C3", "C4"}
    assert recently_contacted(outcomes, store.all(), now, 0) == frozenset()
