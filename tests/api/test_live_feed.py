"""Live ingestion in process: random event streams posted as they come give the online rows a
batch materialisation over all the events gives, at the same cutoff, in every column (floats
to 1e-12: DuckDB may add the same numbers in another order).

The service's own objects (``ServingRuntime`` on a trained home, ``LiveFeed``) without HTTP,
so that Hypothesis can try many streams: each stream is posted in a few requests, then every
live-updated customer's online row is compared with ``latest_features`` (what ``cxchurn
online materialize`` runs) over the history before the store's cutoff plus every stored event,
at that row's cutoff. Customers a cancellation made ineligible must be gone from the store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import features.btyd_features as btyd_features
from cxchurn.settings import Settings
from features.schema import CHANNELS, CUSTOMER_ID, CUTOFF, EVENT_COLUMNS, SCORE_SCALES
from serving.api.online_store import latest_features
from serving.api.runtime import ServingRuntime
from serving.live.feed import LiveFeed
from tests.api.conftest import copy_home
from tests.api.live_home import materialize_at
from tests.api.trained_home import TrainedHome

CUTOFF_AT = pd.Timestamp("2025-06-01", tz="UTC")
TYPES = ("order", "delivery", "return", "support_ticket", "ticket_reopened", "complaint",
         "survey_nps", "survey_csat", "survey_ces", "session", "email_open", "price_change",
         "payment_failed", "feedback", "cancellation")
WORDS = ("late again, very disappointed", "great service, thank you", "kargo gecikti",
         "harika", "ok")


@pytest.fixture(scope="module")
def live(trained_home: TrainedHome, default_world: object, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[LiveFeed, object]:
    return _started(trained_home, default_world, tmp_path_factory)


def _started(trained_home: TrainedHome, default_world: object,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[LiveFeed, object]:
    home = copy_home(trained_home, tmp_path_factory.mktemp("live") / "home")
    materialize_at(home, default_world, CUTOFF_AT)
    config = Settings.from_env({"CXCHURN_HOME": str(home)})
    runtime = ServingRuntime(home=home, tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
                             settings=config)
    assert runtime.start()["ready"]
    feed = LiveFeed(runtime, config)
    feed.start()
    return feed, default_world


def _event(draw: st.DrawFn, customer: str) -> dict[str, object]:
    kind = draw(st.sampled_from(TYPES))
    offset = draw(st.integers(min_value=-5 * 86400, max_value=40 * 86400))
    event: dict[str, object] = {
        "customer_id": customer, "event_type": kind, "channel": draw(st.sampled_from(CHANNELS)),
        "event_time": (CUTOFF_AT + pd.Timedelta(seconds=offset)).isoformat()}
    if kind in SCORE_SCALES:
        low, high = SCORE_SCALES[kind]
        event["score"] = draw(st.integers(int(low), int(high)))
    if kind in ("order", "return", "price_change", "payment_failed"):
        event["amount"] = draw(st.floats(-30, 300, allow_nan=False).map(lambda x: round(x, 2)))
    if kind in ("delivery", "support_ticket", "session"):
        event["duration"] = draw(st.floats(-2, 200, allow_nan=False).map(lambda x: round(x, 3)))
    if kind == "feedback":
        event["text"] = draw(st.sampled_from(WORDS))
    return event


@st.composite
def streams(draw: st.DrawFn, customers: list[str]) -> list[list[dict[str, object]]]:
    """A few requests of events for a few customers, times around the store's cutoff."""
    who = draw(st.lists(st.sampled_from(customers), min_size=1, max_size=4, unique=True))
    batches = draw(st.integers(1, 3))
    return [[_event(draw, draw(st.sampled_from(who))) for _ in range(draw(st.integers(1, 6)))]
            for _ in range(batches)]


def _batch_rows(feed: LiveFeed, world: object, ids: list[str], cutoff: pd.Timestamp
                ) -> pd.DataFrame:
    """A batch materialisation over every customer's events (the BG/NBD figures are fitted
    on all buyers), these customers' rows."""
    customers = world.customers  # type: ignore[attr-defined]
    history = world.events  # type: ignore[attr-defined]
    stored = feed.store.events()[list(EVENT_COLUMNS)]
    before = history[history["event_time"] < CUTOFF_AT]
    events = pd.concat([before, stored], ignore_index=True)
    table = latest_features(customers, events, cutoff)
    return table[table[CUSTOMER_ID].isin(ids)]


def assert_online_equals_batch(feed: LiveFeed, world: object,
                               only: set[str] | None = None) -> int:
    """Every customer with stored events (of ``only``, when given): the online row equals
    the batch row (or both lack it); returns how many rows were compared."""
    table = feed.runtime.online_features()
    ids = sorted(set(feed.store.events()[CUSTOMER_ID]) & (only or set(table[CUSTOMER_ID])))
    online = table[table[CUSTOMER_ID].isin(ids)]
    compared = 0
    for cutoff in sorted(set(online[CUTOFF])) or [feed.live_cutoff()]:
        at = online[online[CUTOFF] == cutoff].sort_values(CUSTOMER_ID).reset_index(drop=True)
        group = sorted(at[CUSTOMER_ID]) or ids
        batch = _batch_rows(feed, world, group, pd.Timestamp(cutoff))
        batch = batch.sort_values(CUSTOMER_ID).reset_index(drop=True)
        # floats to 1e-12: DuckDB may add the same numbers in another order
        pd.testing.assert_frame_equal(at, batch[at.columns] if len(batch) else batch,
                                      check_exact=False, rtol=1e-12, atol=1e-12)
        compared += len(at)
    gone = set(ids) - set(online[CUSTOMER_ID])
    for cid in gone:  # not in the store: the batch rule must agree they are not customers
        assert len(_batch_rows(feed, world, [cid], feed.live_cutoff())) == 0, cid
    return compared


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_live_rows_equal_a_batch_build_over_random_streams(live, data) -> None:
    feed, world = live
    pool = sorted(feed.runtime.online_features()[CUSTOMER_ID])[:40]
    for request in data.draw(streams(pool)):
        answer = feed.ingest(request)
        assert answer["rejected"] == 0, answer["errors"]
    assert assert_online_equals_batch(feed, world) >= 0


def test_a_late_purchase_reaches_the_rows_kept_before_it(live) -> None:
    """A CRM that uploads yesterday's orders today: a purchase three days old changes the
    BG/NBD population fit of rows already kept, which must follow (as a batch build would)."""
    feed, world = live
    store_ids = set(feed.runtime.online_features()[CUSTOMER_ID])
    events = world.events
    buyers = set(events.loc[events["event_type"] == "order", CUSTOMER_ID])
    buyers |= set(feed.store.events(event_types=["order"])[CUSTOMER_ID])
    new_buyer = sorted(store_ids - buyers)[0]  # a first purchase always refits
    first = sorted(store_ids - {new_buyer})[5]
    at = max(feed.live_cutoff(), CUTOFF_AT + pd.Timedelta(days=60)) + pd.Timedelta(hours=1)
    feed.ingest([{"customer_id": first, "event_type": "complaint", "channel": "web",
                  "event_time": at.isoformat()}])
    late = at - pd.Timedelta(days=3)
    feed.ingest([{"customer_id": new_buyer, "event_type": "order", "channel": "web",
                  "event_time": late.isoformat(), "amount": 25.0}])
    assert assert_online_equals_batch(feed, world) >= 2


def test_a_late_purchase_the_fit_does_not_see_rebuilds_no_row_kept_at_its_cutoff(
        trained_home, default_world, tmp_path_factory, monkeypatch  # type: ignore[no-untyped-def]
        ) -> None:
    """A population larger than the fit's sample: a late purchase by a buyer the sample
    leaves out keeps the fit, so the rows kept at the cutoff stand as they are (no rebuild of
    every kept row, which on a large store is seconds); one by a sampled buyer refits and
    rebuilds them. Both ways the rows equal a batch build."""
    monkeypatch.setattr(btyd_features, "MAX_FIT_CUSTOMERS", 25)
    feed, world = _started(trained_home, default_world, tmp_path_factory)  # its fits are its own
    rebuilt: list[list[str]] = []
    rebuild = feed._rebuild

    def spy(ids, cutoff):  # type: ignore[no-untyped-def]
        rebuilt.append(list(ids))
        rebuild(ids, cutoff)

    monkeypatch.setattr(feed, "_rebuild", spy)
    pool = sorted(feed.runtime.online_features()[CUSTOMER_ID])
    at = max(feed.live_cutoff(), CUTOFF_AT + pd.Timedelta(days=70)) + pd.Timedelta(hours=1)
    feed.ingest([{"customer_id": c, "event_type": "complaint", "channel": "web",
                  "event_time": at.isoformat()} for c in pool[10:14]])
    population = feed._features.population.summaries("order")
    sampled = set(btyd_features._fit_sample(population)[CUSTOMER_ID])
    buyers = set(population[CUSTOMER_ID]) & set(pool) - set(pool[10:14])
    late = (at - pd.Timedelta(days=3)).isoformat()

    def order(customer: str) -> None:
        feed.ingest([{"customer_id": customer, "event_type": "order", "channel": "web",
                      "event_time": late, "amount": 30.0}])

    # (rows kept by earlier tests were fitted on every buyer: compare this test's own)
    outside, inside = sorted(buyers - sampled)[0], sorted(buyers & sampled)[0]
    order(outside)
    assert rebuilt == [[]]  # the four rows kept at this cutoff stand
    assert assert_online_equals_batch(feed, world, {*pool[10:14], outside}) == 5
    order(inside)
    assert set(pool[10:14]) <= set(rebuilt[-1])
    assert assert_online_equals_batch(feed, world, {*pool[10:14], outside, inside}) == 6


def test_a_cancellation_takes_the_customer_out_of_the_store(live) -> None:
    feed, world = live
    cid = sorted(feed.runtime.online_features()[CUSTOMER_ID])[-1]
    when = (CUTOFF_AT + pd.Timedelta(days=3)).isoformat()
    answer = feed.ingest([{"customer_id": cid, "event_time": when, "event_type": "cancellation",
                           "channel": "web"}])
    (update,) = answer["customers"]
    assert update["status"] == "not_eligible" and update["new_p_churn"] is None
    assert cid not in set(feed.runtime.online_features()[CUSTOMER_ID])
    assert_online_equals_batch(feed, world)


def test_a_new_complaint_is_in_the_row_the_score_and_the_words(live) -> None:
    feed, _ = live
    table = feed.runtime.online_features()
    cid = str(table.sort_values("complaints_90d")[CUSTOMER_ID].iloc[0])
    when = feed.live_cutoff() - pd.Timedelta(hours=2)
    # first bring the row to the live cutoff, so that only the complaint and the answer differ
    feed.ingest([{"customer_id": cid, "event_time": (when - pd.Timedelta(hours=1)).isoformat(),
                  "event_type": "email_open", "channel": "email"}])
    before = feed.runtime.online_features().set_index(CUSTOMER_ID).loc[cid]
    events = [{"customer_id": cid, "event_time": when.isoformat(), "event_type": "complaint",
               "channel": "call_centre"},
              {"customer_id": cid, "event_time": when.isoformat(), "event_type": "survey_nps",
               "channel": "email", "score": 1}]
    answer = feed.ingest(events, lang="en")
    (update,) = answer["customers"]
    row = feed.runtime.online_features().set_index(CUSTOMER_ID).loc[cid]
    assert row["complaints_30d"] == before["complaints_30d"] + 1 and row["nps_last"] == 1
    # the answer is the served score of the new row, and complaints never lower it
    scored, _ = feed.runtime.score_ids([cid])
    assert update["new_p_churn"] == pytest.approx(float(scored["p_churn"].iloc[0]), abs=1e-12)
    assert update["new_p_churn"] >= update["old_p_churn"]
    assert update["summary"].startswith("risk ")
    assert "Complaint" in update["summary"] and "score 1" in update["summary"]
    tr = feed.ingest([{**events[0], "event_time": (when - pd.Timedelta(minutes=5)).isoformat()}],
                     lang="tr")
    assert "Şikâyet" in tr["customers"][0]["summary"]
    assert np.isfinite(update["new_p_churn"])


def test_subscribers_hear_changes_and_a_failing_one_changes_nothing(live) -> None:
    feed, _ = live
    heard: list[object] = []

    def broken(changes: object) -> None:
        raise RuntimeError("boom")

    feed.bus.subscribe(broken)
    feed.bus.subscribe(heard.extend)
    try:
        cid = sorted(feed.runtime.online_features()[CUSTOMER_ID])[5]
        when = (feed.live_cutoff() - pd.Timedelta(hours=1)).isoformat()
        answer = feed.ingest([{"customer_id": cid, "event_time": when, "event_type": "complaint",
                               "channel": "web"}])
        assert answer["stored"] == 1
        assert feed.bus.flush(10)
    finally:
        feed.bus.unsubscribe(broken)
        feed.bus.unsubscribe(heard.extend)
    (change,) = heard
    assert change.customer_id == cid and change.events[0]["event_type"] == "complaint"
    assert change.new_score == answer["customers"][0]["new_p_churn"]


def _worker(feed: LiveFeed) -> ServingRuntime:
    """Another worker process on the same home: its own runtime over the same files."""
    home = Path(feed.runtime.home)
    runtime = ServingRuntime(home=home, tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
                             settings=feed.settings)
    assert runtime.start()["ready"]
    return runtime


def test_a_worker_serves_kept_live_rows_before_its_history_is_loaded(live) -> None:
    feed, _ = live
    ids = sorted(feed.runtime.online_features()[CUSTOMER_ID])[10:12]
    when = (feed.live_cutoff() - pd.Timedelta(hours=1)).isoformat()
    first = feed.ingest([{"customer_id": ids[0], "event_time": when, "event_type": "complaint",
                          "channel": "web"}])["customers"][0]
    other = _worker(feed)
    LiveFeed(other, feed.settings).attach()  # what a worker does before it answers as ready
    scored, _ = other.score_ids([ids[0]])
    assert float(scored["p_churn"].iloc[0]) == pytest.approx(first["new_p_churn"], abs=1e-12)
    # and it follows rows kept from then on, however close together they are
    for cid in ids:
        update = feed.ingest([{"customer_id": cid, "event_time": when, "event_type": "survey_nps",
                               "channel": "email", "score": 0}])["customers"][0]
        scored, _ = other.score_ids([cid])
        assert float(scored["p_churn"].iloc[0]) == pytest.approx(update["new_p_churn"],
                                                                 abs=1e-12)


def test_after_a_live_update_only_the_changed_rows_are_explained_again(live, monkeypatch
                                                                       ) -> None:
    feed, _ = live
    runtime = feed.runtime
    runtime.explained_store()  # the whole store explained once
    cid = sorted(runtime.online_features()[CUSTOMER_ID])[20]
    when = (feed.live_cutoff() - pd.Timedelta(hours=1)).isoformat()
    feed.ingest([{"customer_id": cid, "event_time": when, "event_type": "complaint",
                  "channel": "web"}])
    fast = runtime.fast_model()
    explained: list[int] = []
    real = fast.shap_values

    def counted(matrix: np.ndarray) -> tuple[np.ndarray, float]:
        explained.append(len(matrix))
        return real(matrix)

    monkeypatch.setattr(fast, "shap_values", counted)
    table, scored, values = runtime.explained_store()
    assert explained == [1]  # the patched row only
    assert list(scored[CUSTOMER_ID]) == list(table[CUSTOMER_ID].astype(str))
    full, _ = real(fast.matrix(table))
    np.testing.assert_allclose(values, full, rtol=0, atol=1e-12)


def test_history_comes_from_the_files_the_store_recorded(live) -> None:
    feed, _ = live
    history = feed.history
    assert history.store_cutoff == CUTOFF_AT
    assert history.events_file.name == "events.parquet"
    assert Path(history.customers_file).name == "customers.parquet"


def test_each_bad_event_gets_its_reason_and_fix_and_the_good_ones_pass(default_world) -> None:
    from serving.live.validate import check_posted

    customers = default_world.customers  # type: ignore[attr-defined]
    cid = str(customers[CUSTOMER_ID].iloc[0])
    good = {"customer_id": cid, "event_time": "2025-06-02T10:00:00+03:00",
            "event_type": "survey_nps", "channel": "web", "score": 3}
    items = [good, {**good, "score": 11}, {**good, "event_time": "02.06.2025"},
             {**good, "customer_id": "NOBODY"}, {**good, "event_time": "2099-01-01"},
             {**good, "amount": 1e300}, {**good, "mood": "bad"}, {**good, "event_id": ""},
             {**good, "text": ["a", "list"]}, {**good, "event_id": "x-1"}]
    checked = check_posted(items, customers)
    assert list(checked.accepted["index"]) == [0, 9]
    assert checked.accepted["event_id"].iloc[1] == "x-1"
    assert checked.accepted["event_time"].iloc[0] == pd.Timestamp("2025-06-02 07:00", tz="UTC")
    by_index = {e["index"]: e for e in checked.errors}
    assert sorted(by_index) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "scale" in by_index[1]["reason"] and by_index[2]["column"] == "event_time"
    assert "unknown customer" in by_index[3]["reason"] and "future" in by_index[4]["reason"]
    assert by_index[5]["column"] == "amount" and by_index[6]["column"] == "mood"
    assert all(e["fix"] and "quarantine" not in e["fix"] for e in checked.errors)
