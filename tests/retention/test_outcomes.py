"""Outcomes are stored in a real database, survive restarts and come back as contract rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cxchurn.errors import ConfigError, DataContractError
from cxchurn.settings import Settings
from features.contract import check_actions
from serving.retention.outcomes import Outcome, OutcomeStore, default_url


def _outcome(cid: str = "C00001", **kw) -> Outcome:
    base = {"customer_id": cid, "action_type": "apology_voucher",
            "action_time": datetime(2025, 6, 3, 10, 0, tzinfo=UTC), "result": "accepted",
            "recorded_by": "agent-7", "cost": 5.0, "note": "called, happy"}
    return Outcome(**{**base, **kw})


def _roundtrip(url: str) -> None:
    first = OutcomeStore(url)
    first.record(_outcome("C00001"))
    first.record(_outcome("C00002", action_type="loyalty_offer", result="retained",
                          action_time=datetime(2025, 6, 2, 9, 0, tzinfo=UTC), cost=None))
    first.dispose()
    again = OutcomeStore(url)  # a new process would open it the same way
    stored = again.list()
    assert [o.customer_id for o in stored] == ["C00001", "C00002"]  # newest first
    assert stored[0].note == "called, happy" and stored[0].id is not None
    assert again.list(customer_id="C00002")[0].result == "retained"
    actions = again.as_actions()
    assert list(actions["customer_id"]) == ["C00002", "C00001"]  # oldest first
    customers = pd.DataFrame({"customer_id": ["C00001", "C00002"],
                              "signup_date": ["2024-01-01", "2024-01-01"]})
    checked = check_actions(actions.astype({"action_time": "str"}), customers, strict=True)
    assert len(checked.rejected) == 0 and len(checked.accepted) == 2
    again.dispose()


def test_sqlite_store_keeps_outcomes_across_restarts(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path))
    monkeypatch.delenv("CXCHURN_OUTCOMES_URL", raising=False)
    _roundtrip(OutcomeStore(default_url(Settings.from_env())).url)
    assert (tmp_path / "outcomes.db").exists()


def test_export_writes_an_actions_file_the_loaders_accept(tmp_path: Path) -> None:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'o.db'}")
    store.record(_outcome())
    csv = store.export_actions(tmp_path / "actions.csv")
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["customer_id", "action_time", "action_type", "cost",
                                   "outcome"]
    assert frame.loc[0, "outcome"] == "accepted"
    assert pd.read_parquet(store.export_actions(tmp_path / "a.parquet")).shape == (1, 5)


@pytest.mark.parametrize(("change", "message"), [
    ({"result": "maybe"}, "result must be one of"),
    ({"action_type": "free_car"}, "not in the catalogue"),
    ({"recorded_by": " "}, "recorded_by is empty"),
    ({"cost": -1.0}, "cost must be >= 0"),
    ({"action_time": datetime.now(UTC) + timedelta(days=2)}, "in the future"),
])
def test_bad_records_are_refused_and_nothing_is_stored(tmp_path: Path, change: dict,
                                                         message: str) -> None:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'o.db'}")
    with pytest.raises(DataContractError, match=message):
        store.record(_outcome(**change), action_types=["apology_voucher"])
    assert store.list() == []


def test_an_unusable_url_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="CXCHURN_OUTCOMES_URL") as err:
        OutcomeStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")
    assert "secret" not in str(err.value)


def test_postgresql_store_when_a_url_is_given(postgres_url: str) -> None:
    _roundtrip(postgres_url)
