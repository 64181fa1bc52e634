"""The customer timeline reads the events file: one customer, before the snapshot, in words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serving.retention.history import customer_history, event_detail


def test_timeline_shows_one_customers_events_before_the_snapshot(tmp_path: Path) -> None:
    events = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B"],
        "event_time": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-06", "2025-02-01",
                                      "2025-01-03"], utc=True),
        "event_type": ["delivery", "session", "survey_nps", "complaint", "order"],
        "channel": ["web", "app", "email", "call_centre", "web"],
        "amount": [None, None, None, None, 20.0],
        "score": [None, None, 3.0, None, None],
        "duration": [4.0, 12.0, None, None, None],
        "text": [None, None, None, None, None],
    })
    for path in (tmp_path / "events.parquet", tmp_path / "events.csv"):
        if path.suffix == ".parquet":
            events.to_parquet(path)
        else:
            events.to_csv(path, index=False)
        got = customer_history(path, "A", "tr", before=pd.Timestamp("2025-01-31", tz="UTC"))
        # newest first, sessions left out, the complaint after the snapshot not shown
        assert [e["event_type"] for e in got] == ["survey_nps", "delivery"]
        assert got[0]["label"] == "NPS anketi" and got[0]["detail"] == "puan 3"
        assert got[1]["detail"] == "4 gün gecikti" and got[1]["kind"] == "delivery"
        assert str(got[1]["time"].tz) == "UTC"
    assert customer_history(tmp_path / "absent.parquet", "A") == []


def test_amounts_are_written_the_languages_way() -> None:
    order = {"event_type": "order", "amount": 1149.9}
    assert event_detail(order, "en") == "1,149.90"
    assert event_detail(order, "tr") == "1.149,90"
    assert event_detail({"event_type": "price_change", "amount": 2.5}, "tr") == "+2,50"
