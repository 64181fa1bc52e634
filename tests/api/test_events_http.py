"""POST /events against the real service over HTTP (two workers, API key).

What a CRM relies on: an ingest answers the new score with reasons, and the served score is
the one a batch materialisation at the same time gives; a malformed event is refused on its
own; a retried POST is not counted twice; and a ``kill -9`` while a stream is running loses no
event the service acknowledged (after a restart every acknowledged event is stored and every
customer's row includes it).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cxchurn.settings import Settings
from features.schema import CUSTOMER_ID, EVENT_COLUMNS
from serving.api.online_store import latest_features
from serving.api.runtime import ServingRuntime
from serving.live.event_store import EventStore, default_url
from serving.live.replay import as_posted
from tests.api.conftest import API_KEY, copy_home
from tests.api.live_home import later_events, materialize_at
from tests.api.server import Service, launch_ready, start_service, stop
from tests.api.trained_home import TrainedHome

CUTOFF_AT = pd.Timestamp("2025-06-01", tz="UTC")
ENV = {"CXCHURN_API_KEY": API_KEY, "CXCHURN_WORKERS": "2", "CXCHURN_LIVE_REFRESH_SECONDS": "0"}


def _home(trained: TrainedHome, world: object, folder: Path) -> Path:
    home = copy_home(trained, folder / "home")
    materialize_at(home, world, CUTOFF_AT)
    return home


@pytest.fixture(scope="module")
def live_home(trained_home: TrainedHome, default_world: object,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _home(trained_home, default_world, tmp_path_factory.mktemp("events_http"))


@pytest.fixture(scope="module")
def live_service(live_home: Path) -> Iterator[Service]:
    with start_service(live_home, env=ENV) as svc:
        yield svc


def _store(home: Path) -> EventStore:
    return EventStore(default_url(Settings(home=home)))


def _customer_events(world: object, n_customers: int, skip: int = 0) -> pd.DataFrame:
    """Later events of customers the store holds who do not cancel in them."""
    later = later_events(world, CUTOFF_AT)
    events = world.events  # type: ignore[attr-defined]
    gone = set(events.loc[events["event_type"] == "cancellation", CUSTOMER_ID])
    customers = world.customers  # type: ignore[attr-defined]
    joined = set(customers.loc[customers["signup_date"] < CUTOFF_AT, CUSTOMER_ID])
    counts = later[CUSTOMER_ID].value_counts()
    ids = sorted(c for c in counts[counts >= 3].index if c in joined and c not in gone)
    ids = ids[skip:skip + n_customers]
    return later[later[CUSTOMER_ID].isin(ids)].groupby(CUSTOMER_ID).head(4)


def test_an_ingest_answers_the_new_score_with_reasons(live_service: Service,
                                                      default_world: object) -> None:
    events = _customer_events(default_world, 1)
    cid = str(events[CUSTOMER_ID].iloc[0])
    before = live_service.post("/score", {"customer_ids": [cid]}).json()["results"][0]
    answer = live_service.post("/events", {"events": as_posted(events), "lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stored"] == len(events) and body["errors"] == []
    (update,) = body["customers"]
    assert update["customer_id"] == cid and update["status"] == "updated"
    assert update["old_p_churn"] == pytest.approx(before["p_churn"], abs=1e-12)
    assert update["summary"].startswith("risk ") and update["what_changed"]
    assert update["drivers"] and all(d["reason"] for d in update["drivers"])
    # either worker now serves the new score
    for _ in range(4):
        now = live_service.post("/score", {"customer_ids": [cid]}).json()["results"][0]
        assert now["p_churn"] == pytest.approx(update["new_p_churn"], abs=1e-12)
    tr = live_service.post("/events", {"events": as_posted(events.head(1)), "lang": "tr"}).json()
    assert tr["duplicates"] == 1 and tr["customers"] == []


def test_the_at_risk_list_follows_live_scores(live_service: Service,
                                             default_world: object) -> None:
    events = _customer_events(default_world, 1, skip=45)  # customers no other test posts
    cid = str(events[CUSTOMER_ID].iloc[0])
    query = {"search": cid, "show_contacted": "true"}

    def listed() -> float:
        (row,) = live_service.get("/retention/at-risk", params=query).json()["customers"]
        assert row["customer_id"] == cid
        return float(row["p_churn"])

    before = [listed() for _ in range(4)]  # both workers have built their list
    answer = live_service.post("/events", {"events": as_posted(events)}).json()
    (update,) = answer["customers"]
    assert update["new_p_churn"] != pytest.approx(before[0], abs=1e-9)
    for _ in range(4):  # whichever worker answers lists the new score
        assert listed() == pytest.approx(update["new_p_churn"], abs=1e-12)


def test_the_served_row_equals_a_batch_build_at_the_same_time(
        live_service: Service, live_home: Path, default_world: object) -> None:
    events = _customer_events(default_world, 5, skip=10)
    body = live_service.post("/events", {"events": as_posted(events)}).json()
    assert body["stored"] == len(events)
    ids = sorted(u["customer_id"] for u in body["customers"] if u["status"] == "updated")
    cutoff = pd.Timestamp(body["customers"][0]["cutoff"])
    assert all(pd.Timestamp(u["cutoff"]) == cutoff for u in body["customers"])
    world = default_world
    # a batch materialisation over every customer's events (BG/NBD is fitted on all buyers)
    stored = _store(live_home).events()[list(EVENT_COLUMNS)]
    history = world.events[world.events["event_time"] < CUTOFF_AT]  # type: ignore[attr-defined]
    batch = latest_features(world.customers, pd.concat([history, stored]),  # type: ignore[attr-defined]
                            cutoff)
    batch = batch[batch[CUSTOMER_ID].isin(ids)].sort_values(CUSTOMER_ID).reset_index(drop=True)
    # the rows the service keeps, every column
    kept = {r["customer_id"]: r for r in _store(live_home).rows_since(0)}
    import json

    for i, cid in enumerate(batch[CUSTOMER_ID]):
        row = json.loads(kept[cid]["features"])
        for column in batch.columns:
            expected = batch[column].iloc[i]
            if isinstance(expected, float) and pd.isna(expected):
                assert row[column] is None, column
            elif isinstance(expected, float):
                assert row[column] == pytest.approx(expected, rel=1e-12, abs=1e-12), column
            else:
                assert str(row[column]) == str(expected if not isinstance(
                    expected, pd.Timestamp) else expected.isoformat()), column
    # and the served scores are the batch rows' scores by the same model
    runtime = ServingRuntime(home=live_home, tracking_uri=f"sqlite:///{live_home / 'mlflow.db'}",
                             settings=Settings(home=live_home))
    runtime.start()
    expected = runtime.score_columns(batch, list(batch[CUSTOMER_ID]))
    served = live_service.post("/score", {"customer_ids": ids}).json()["results"]
    assert [s["p_churn"] for s in served] == pytest.approx(list(expected["p_churn"]), abs=1e-12)
    # ... and so are their chances of leaving within 30/60/90 days (the act-by date's input)
    found = runtime.horizons_of_columns(batch)
    assert found is not None
    for s, want in zip(served, found[1], strict=True):
        got = [s["horizons"][str(h)] for h in found[0]]
        assert got == pytest.approx(list(want), abs=1e-12)


def test_a_malformed_event_gets_its_own_error_and_the_rest_are_stored(
        live_service: Service, live_home: Path, default_world: object) -> None:
    good = as_posted(_customer_events(default_world, 2, skip=20))
    bad = [{**good[0], "event_time": "31.12.2025"}, {**good[0], "event_type": "teleport"},
           {**good[0], "customer_id": "NOBODY"}, {**good[0], "score": "high"}, {"colour": 1}]
    body = {"events": [bad[0], *good[:2], bad[1], bad[2], *good[2:], bad[3], bad[4]]}
    before = _store(live_home).count()
    answer = live_service.post("/events", body)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["stored"] == len(good) and out["rejected"] == 5
    by_index = {e["index"]: e for e in out["errors"]}
    assert by_index[0]["column"] == "event_time" and "ISO 8601" in by_index[0]["fix"]
    assert by_index[3]["column"] == "event_type" and "unknown event_type" in by_index[3]["reason"]
    assert by_index[4]["column"] == "customer_id" and "unknown customer" in by_index[4]["reason"]
    assert by_index[len(body["events"]) - 2]["column"] == "score"
    assert by_index[len(body["events"]) - 1]["column"] == "colour"
    assert "NOBODY" not in answer.text  # no value echoed back
    assert _store(live_home).count() == before + len(good)


def test_a_retried_post_is_not_counted_twice(live_service: Service, live_home: Path,
                                             default_world: object) -> None:
    events = as_posted(_customer_events(default_world, 3, skip=30))
    with_ids = [{**e, "event_id": f"crm-{i}"} for i, e in enumerate(events)]
    first = live_service.post("/events", {"events": with_ids}).json()
    count = _store(live_home).count()
    again = live_service.post("/events", {"events": with_ids}).json()
    assert first["stored"] == len(events) and again["stored"] == 0
    assert again["duplicates"] == len(events) and again["customers"] == []
    assert _store(live_home).count() == count
    # without ids the content decides (a client id and a content id are different ids, so
    # the first post of these two counts them once more, documented); a retry is a duplicate
    assert live_service.post("/events", {"events": events[:2]}).json()["stored"] == 2
    assert live_service.post("/events", {"events": events[:2]}).json()["duplicates"] == 2


def test_limits_and_bad_bodies_are_client_errors(live_service: Service) -> None:
    too_many = live_service.post("/events", {"events": [{}] * 1001})
    assert too_many.status_code == 413 and "1000" in too_many.json()["error"]
    assert live_service.post("/events", {"events": []}).status_code == 400
    assert live_service.post("/events", {"events": [1, 2]}).status_code == 400
    assert live_service.post("/events", {"events": [{}]}, key=None).status_code == 401


def test_kill_9_during_a_stream_loses_no_acknowledged_event(
        trained_home: TrainedHome, default_world: object, tmp_path: Path) -> None:
    home = _home(trained_home, default_world, tmp_path)
    later = later_events(default_world, CUTOFF_AT).head(3000)
    posted = as_posted(later)
    acknowledged: list[str] = []
    service = launch_ready(home, env=ENV)
    stop_at = threading.Event()

    def stream() -> None:
        for i in range(0, len(posted), 50):
            part = [{**e, "event_id": f"k{i + j}"} for j, e in enumerate(posted[i:i + 50])]
            try:
                answer = service.post("/events", {"events": part})
            except Exception:  # the server died mid-request: that batch was never acknowledged
                return
            if answer.status_code != 200:
                return
            acknowledged.extend(e["event_id"] for e in answer.json()["events"])
            if stop_at.is_set():
                return

    client = threading.Thread(target=stream)
    client.start()
    try:
        deadline = pd.Timestamp.now() + pd.Timedelta(seconds=120)
        while len(acknowledged) < 200 and client.is_alive() and pd.Timestamp.now() < deadline:
            threading.Event().wait(0.05)
        os.killpg(os.getpgid(service.process.pid), signal.SIGKILL)
        service.process.wait(timeout=30)
    finally:
        stop_at.set()
        client.join(timeout=130)
        stop(service)
    assert len(acknowledged) >= 200
    restarted = launch_ready(home, env=ENV)
    try:
        # one more (duplicate) post waits until the live feed has started and caught up
        again = restarted.post("/events", {"events": [{**posted[0], "event_id": "k0"}]})
        assert again.status_code == 200 and again.json()["duplicates"] == 1
        store = _store(home)
        stored = set(store.events()["event_id"])
        assert set(acknowledged) <= stored
        assert store.stale_customers() == {}  # every customer's row includes its events
    finally:
        stop(restarted)


def test_replay_streams_later_events_and_refuses_to_count_them_twice(
        live_service: Service, live_home: Path) -> None:
    import subprocess
    import sys

    from serving.live.replay import ReplayError, replay

    lines: list[str] = []
    start = CUTOFF_AT + pd.Timedelta(days=10)
    progress = replay(live_service.url, live_home / "world", start, batch=40, max_events=120,
                      api_key=API_KEY, report=lines.append)
    assert progress.sent == 120 and progress.requests == 3 and progress.rejected == 0
    assert progress.stored + progress.duplicates == 120 and progress.customers > 0
    assert lines[0].startswith("replaying 120 events") and lines[-1].startswith("done: ")
    with pytest.raises(ReplayError, match="count twice"):
        replay(live_service.url, live_home / "world", CUTOFF_AT - pd.Timedelta(days=1),
               api_key=API_KEY, report=lines.append)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cxchurn")), "replay", "--world",
         str(live_home / "world"),
         "--from", str(start.date()), "--url", live_service.url, "--max-events", "30"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "CXCHURN_API_KEY": API_KEY, "CXCHURN_HOME": str(live_home),
             "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "done: 30 events sent" in done.stdout and "30 duplicates" in done.stdout


def _alerts(service: Service, cid: str) -> list[dict]:
    response = service.get("/alerts", params={"customer_id": cid, "state": "all"})
    assert response.status_code == 200, response.text
    return response.json()["alerts"]


def test_a_detractor_answer_posted_live_opens_a_call_back_alert_and_a_session_does_not(
        live_service: Service, default_world: object) -> None:
    ids = _customer_events(default_world, 2, skip=20)[CUSTOMER_ID].unique()
    detractor, browsing = str(ids[0]), str(ids[1])
    at = (CUTOFF_AT + pd.Timedelta(hours=10)).isoformat()
    posted = pd.DataFrame([
        {"customer_id": detractor, "event_time": at, "event_type": "survey_nps",
         "channel": "email", "score": 2.0},
        {"customer_id": browsing, "event_time": at, "event_type": "session",
         "channel": "app", "duration": 4.0},
    ]).reindex(columns=list(EVENT_COLUMNS))
    answer = live_service.post("/events", {"events": as_posted(posted)})
    if answer.status_code != 200:
        time.sleep(3)
    assert answer.status_code == 200, live_service.log_text()[-6000:]
    assert answer.json()["stored"] == 2, answer.text
    deadline = time.monotonic() + 30  # alerts are raised off the ingest path
    while time.monotonic() < deadline and not _alerts(live_service, detractor):
        time.sleep(0.2)
    kinds = {a["kind"]: a for a in _alerts(live_service, detractor)}
    assert "detractor" in kinds, kinds
    call_back = kinds["detractor"]
    hours = (pd.Timestamp(call_back["due_at"]) - pd.Timestamp(call_back["created_at"])
             ).total_seconds() / 3600
    assert hours == pytest.approx(48) and "NPS answer 2" in call_back["reason"]
    assert "detractor" not in {a["kind"] for a in _alerts(live_service, browsing)}
