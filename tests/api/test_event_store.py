"""The event store keeps what it acknowledged, once, on SQLite and on a real PostgreSQL.

Idempotency is what lets a client retry a POST after a timeout: the same events (by the
client's id, or by content when there is none) are stored once. The kept live rows never
go back to an older computation when two workers race.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxchurn.settings import Settings
from serving.live.event_store import EventStore, content_id, default_url


def _events(n: int, customer: str = "C1", start: str = "2025-06-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq="h", tz="UTC").astype("datetime64[us, UTC]")
    frame = pd.DataFrame({
        "customer_id": customer, "event_time": times, "event_type": "survey_nps",
        "channel": "web", "amount": float("nan"), "score": [float(i % 11) for i in range(n)],
        "duration": float("nan"), "text": pd.Series([None] * n, dtype="str")})
    frame.insert(0, "event_id", [content_id(r) for r in frame.to_dict(orient="records")])
    return frame

@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EventStore:
    if request.param == "sqlite":
        return EventStore(default_url(Settings(home=tmp_path)))
    return EventStore(request.getfixturevalue("postgres_url"))

def test_a_retry_stores_nothing_twice(store: EventStore) -> None:
    events = _events(5)
    assert store.append(events) == [True] * 5
    assert store.append(events) == [False] * 5
    assert store.append(pd.concat([events.iloc[[0]], _events(1, "C2")])) == [False, True]
    assert store.count() == 6

def test_a_repeat_inside_one_request_is_a_duplicate(store: EventStore) -> None:
    events = _events(2)
    assert store.append(pd.concat([events, events.iloc[[1]]])) == [True, True, False]
    assert store.count() == 2

def test_events_come_back_as_contract_rows_in_arrival_order(store: EventStore) -> None:
    store.append(_events(3, "C1"))
    store.append(_events(2, "C2", "2025-05-01"))
    back = store.events(["C2"])
    assert list(back["customer_id"]) == ["C2", "C2"]
    assert str(back["event_time"].dtype) == "datetime64[us, UTC]"
    assert back["event_time"].iloc[0] == pd.Timestamp("2025-05-01", tz="UTC")
    assert list(store.events()["seq"]) == sorted(store.events()["seq"])
    assert store.newest_event_time() == pd.Timestamp("2025-06-01 02:00", tz="UTC")
    since = store.events(after_seq=int(store.events()["seq"].iloc[2]))
    assert list(since["customer_id"]) == ["C2", "C2"]
    none = store.events(["nobody"])
    assert len(none) == 0 and none.dtypes.equals(back.dtypes)
    assert back["text"].isna().all() and back["amount"].isna().all()

def test_content_ids_ignore_how_the_time_was_written() -> None:
    row = {"customer_id": "C1", "event_type": "order", "channel": "web", "amount": 12.5,
           "score": None, "duration": float("nan"), "text": None}
    a = content_id({**row, "event_time": pd.Timestamp("2025-01-01T10:00:00+03:00")})
    b = content_id({**row, "event_time": pd.Timestamp("2025-01-01T07:00:00", tz="UTC")})
    assert a == b and a != content_id({**row, "amount": 12.6, "event_time": pd.Timestamp(
        "2025-01-01T07:00:00", tz="UTC")})

def test_an_older_computation_never_replaces_a_newer_kept_row(store: EventStore) -> None:
    cutoff = pd.Timestamp("2025-06-02", tz="UTC")
    row = pd.DataFrame({"customer_id": ["C1"], "x": [1.0]})
    store.save_rows(row, [], {"C1": 5}, cutoff)
    store.save_rows(row.assign(x=0.5), [], {"C1": 3}, cutoff)  # a slower worker, fewer events
    (kept,) = store.rows_since(0)
    assert kept["through_seq"] == 5 and '"x": 1.0' in kept["features"]
    store.save_rows(row.assign(x=2.0), ["C9"], {"C1": 6, "C9": 1}, cutoff)
    kept_rows = {r["customer_id"]: r for r in store.rows_since(0)}
    assert '"x": 2.0' in kept_rows["C1"]["features"] and kept_rows["C9"]["removed"]

def test_stale_customers_are_those_with_events_newer_than_their_row(store: EventStore) -> None:
    store.append(_events(2, "C1"))
    store.append(_events(1, "C2"))
    seqs = store.events().groupby("customer_id")["seq"].max()
    store.save_rows(pd.DataFrame({"customer_id": ["C1"]}), [], {"C1": int(seqs["C1"])},
                    pd.Timestamp("2025-06-02", tz="UTC"))
    assert store.stale_customers() == {"C2": int(seqs["C2"])}


def test_a_store_made_before_the_time_index_gets_it_when_opened(store: EventStore) -> None:
    """Every ingest asks for the newest event time; without the index that reads every row."""
    from sqlalchemy import inspect, text

    def indexed() -> bool:
        return any(i["column_names"] == ["event_time"]
                   for i in inspect(store.engine).get_indexes("live_events"))

    assert indexed()
    with store.engine.begin() as con:
        name = next(i["name"] for i in inspect(con).get_indexes("live_events")
                    if i["column_names"] == ["event_time"])
        con.execute(text(f'DROP INDEX "{name}"'))
    assert not indexed()
    again = EventStore(store.url)
    assert any(i["column_names"] == ["event_time"]
               for i in inspect(again.engine).get_indexes("live_events"))
