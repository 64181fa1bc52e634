"""The retention API and page in-process (no server): ranking, validation, auth, exports."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.retention.app import make_retention_app
from serving.retention.outcomes import OutcomeStore

pytestmark = pytest.mark.slow  # trains a small model once per session


@pytest.fixture()
def client(runtime: Any, tmp_path: Path) -> TestClient:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    return TestClient(make_retention_app(runtime, outcomes=store))


def test_at_risk_list_is_ranked_filtered_and_actionable(client: TestClient) -> None:
    body = client.get("/retention/at-risk", params={"limit": 300}).json()
    rows = body["customers"]
    assert body["count"] == len(rows) == 300 and body["total"] > 300
    env = [r["expected_net_value"] for r in rows]
    assert env == sorted(env, reverse=True)
    acted = [r for r in rows if r["action"]]
    assert acted and all(r["expected_net_value"] > 0 and r["reasons"] for r in acted)
    assert all(r["expected_net_value"] == 0 for r in rows if not r["action"])
    segment = rows[0]["segment"]
    narrowed = client.get("/retention/at-risk", params={
        "segment": segment, "min_value": 200, "limit": 10000, "sort": "p_churn"}).json()
    assert narrowed["count"] < body["total"]
    assert all(r["segment"] == segment and r["value"] >= 200 for r in narrowed["customers"])
    p = [r["p_churn"] for r in narrowed["customers"]]
    assert p == sorted(p, reverse=True)


@pytest.mark.parametrize("params", [{"sort": "nonsense"}, {"limit": 0}, {"limit": 10**6},
                                    {"risk_band": "purple"}, {"min_value": -1},
                                    {"lang": "de"}])
def test_bad_list_requests_get_a_400_that_names_the_field(client: TestClient,
                                                          params: dict) -> None:
    response = client.get("/retention/at-risk", params=params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["error"]


def test_recommend_gives_each_known_id_its_action_and_reports_unknown_ones(
        client: TestClient) -> None:
    top = client.get("/retention/at-risk", params={"limit": 2}).json()["customers"]
    ids = [r["customer_id"] for r in top]
    en = client.post("/retention/recommend", json={"customer_ids": [*ids, "NOPE"]}).json()
    assert [r["customer_id"] for r in en["recommendations"]] == ids
    assert set(en["errors"]) == {"NOPE"}
    first = en["recommendations"][0]
    assert first["action"] == top[0]["action"]
    assert first["options"][0]["action"] == first["action"]
    assert first["action_detail"]["script"]
    tr = client.post("/retention/recommend", json={"customer_ids": ids, "lang": "tr"}).json()
    assert tr["recommendations"][0]["action_detail"]["title"] != first["action_detail"]["title"]
    assert tr["recommendations"][0]["reasons"] != first["reasons"]
    assert client.post("/retention/recommend", json={"customer_ids": ["NOPE"]}).status_code \
        == 404
    for bad in ({"customer_ids": []}, {"customer_ids": ids, "colour": 1}, {"ids": ids}):
        response = client.post("/retention/recommend", json=bad)
        assert response.status_code == 400, bad
    broken = client.post("/retention/recommend", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400


def test_outcomes_are_validated_stored_and_listed(client: TestClient) -> None:
    cid = client.get("/retention/at-risk", params={"limit": 1}).json()["customers"][0][
        "customer_id"]
    ok = client.post("/retention/outcomes", json={
        "customer_id": cid, "action_type": "apology_voucher", "result": "accepted",
        "recorded_by": "agent-1", "action_time": "2025-06-02T09:30:00Z"})
    assert ok.status_code == 201
    assert ok.json()["cost"] == 5.0  # from the catalogue
    cases = [
        ({"result": "maybe"}, 400),
        ({"action_type": "free_car"}, 422),
        ({"customer_id": "NOPE"}, 404),
        ({"cost": -3}, 400),
        ({"recorded_by": ""}, 400),
    ]
    base = {"customer_id": cid, "action_type": "apology_voucher", "result": "accepted",
            "recorded_by": "agent-1"}
    for change, status in cases:
        response = client.post("/retention/outcomes", json={**base, **change})
        assert response.status_code == status, (change, response.json())
        assert response.json()["error"]
    listed = client.get("/retention/outcomes", params={"customer_id": cid}).json()
    assert [o["result"] for o in listed["outcomes"]] == ["accepted"]


def test_exports_hold_the_rows_of_the_list(client: TestClient) -> None:
    params = {"limit": 40, "risk_band": "medium", "lang": "tr"}
    listed = client.get("/retention/at-risk", params=params).json()["customers"]
    csv = client.get("/retention/export.csv", params=params)
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.content.decode("utf-8-sig")))
    assert list(frame["Müşteri"]) == [r["customer_id"] for r in listed]
    # Turkish throughout: the band and the known segment names, not only the headers
    assert set(frame["Risk grubu"]) == {"orta"}
    assert not set(frame["Segment"]) & {"family", "business", "consumer"}
    # a call list: who to call, how to reach them, who owns them, how far the work got
    assert frame["Ad"].str.len().gt(0).all() and frame["Telefon"].str.startswith("+90").all()
    assert set(frame["İş durumu"]) <= {"yeni", "arandı", "geri kazanıldı", "kaybedildi"}
    xlsx = client.get("/retention/export.xlsx", params=params)
    sheet = pd.read_excel(io.BytesIO(xlsx.content))
    assert list(sheet["Müşteri"]) == [r["customer_id"] for r in listed]


def test_pages_render_and_explain_bad_input(client: TestClient) -> None:
    page = client.get("/", params={"min_value": ""})  # an empty form field is no filter
    assert page.status_code == 200 and 'id="at-risk"' in page.text
    assert client.get("/", params={"min_value": "lots"}).status_code == 400
    cid = client.get("/retention/at-risk", params={"limit": 1}).json()["customers"][0][
        "customer_id"]
    view = client.get(f"/customer/{cid}", params={"lang": "tr"})
    assert view.status_code == 200 and 'id="explanation"' in view.text
    assert "Aksiyonu ve sonucu kaydet" in view.text
    assert client.get("/customer/NOPE").status_code == 404
    bad_form = client.post(f"/customer/{cid}/outcome", data={
        "action_type": "apology_voucher", "result": "accepted", "recorded_by": "",
        "lang": "en"}, follow_redirects=False)
    assert bad_form.status_code == 422 and "recorded_by is empty" in bad_form.text


def test_api_key_guards_the_api_and_the_page(runtime: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXCHURN_API_KEY", "s3cret")  # read when the app starts, as in serving
    store = OutcomeStore(f"sqlite:///{tmp_path / 'outcomes.db'}")
    client = TestClient(make_retention_app(runtime, outcomes=store))
    assert client.get("/retention/at-risk").status_code == 401
    assert client.get("/retention/at-risk",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/retention/at-risk",
                      headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.post("/retention/recommend", json={"customer_ids": ["x"]}).status_code == 401
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get("/retention/export.csv").status_code == 401
    assert client.post("/login", data={"key": "nope"}).status_code == 401
    signed = client.post("/login", data={"key": "s3cret", "next": "/"}, follow_redirects=False)
    assert signed.status_code == 303
    assert client.get("/").status_code == 200  # the cookie now carries the key
    assert client.get("/retention/export.csv").status_code == 200


def test_cli_writes_the_same_list(runtime: Any, tmp_path: Path, client: TestClient) -> None:
    from cxchurn.settings import Settings
    from serving.retention.commands import write_at_risk
    from serving.retention.state import RetentionState

    path, n, hidden = write_at_risk(tmp_path / "at_risk.csv", runtime, limit=30)
    frame = pd.read_csv(path, encoding="utf-8-sig")
    listed = client.get("/retention/at-risk", params={"limit": 30}).json()["customers"]
    assert n == 30 and list(frame["Customer"]) == [r["customer_id"] for r in listed]
    # a customer the team just called is left off the call list, as on the page
    own = Settings(home=tmp_path / "home")
    first = str(frame["Customer"].iloc[0])
    RetentionState(runtime, own).assignments.set_status(first, "contacted", "ayse")
    path, n, hidden = write_at_risk(tmp_path / "after.csv", runtime, limit=30, settings=own)
    after = pd.read_csv(path, encoding="utf-8-sig")
    assert hidden == 1 and first not in set(after["Customer"]) and n == 30
    path, _, hidden = write_at_risk(tmp_path / "all.csv", runtime, limit=30, settings=own,
                                    show_contacted=True)
    assert hidden == 0 and first in set(pd.read_csv(path, encoding="utf-8-sig")["Customer"])


def test_the_list_is_prebuilt_in_the_background_and_reused(runtime: Any, tmp_path: Path) -> None:
    """A start or reload warms the at-risk list, so the first page view does not build it."""
    app = make_retention_app(runtime, outcomes=OutcomeStore(f"sqlite:///{tmp_path / 'o.db'}"))
    state = app.state.retention
    assert state._book is None
    state.warm().join(timeout=120)
    built = state._book
    assert built is not None and len(built.table) > 0
    assert state.book() is built  # same model and store: no rebuild


def test_the_objective_comes_from_the_environment_and_a_typo_is_refused(
        runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxchurn.errors import ConfigError
    from serving.retention.state import RetentionState

    monkeypatch.setenv("CXCHURN_POLICY_OBJECTIVE", "customers")
    state = RetentionState(runtime)
    assert state.policy.objective == "customers"
    weighed = state.weighed(state.book())
    assert weighed["value"].nunique() == 1  # every customer weighs the list's average
    monkeypatch.setenv("CXCHURN_POLICY_OBJECTIVE", "profit")
    with pytest.raises(ConfigError, match="CXCHURN_POLICY_OBJECTIVE must be"):
        RetentionState(runtime)


def test_the_page_says_the_budget_and_the_aim_in_the_chosen_language(runtime: Any,
                                                                      tmp_path: Path) -> None:
    store = OutcomeStore(f"sqlite:///{tmp_path / 'o.db'}")
    limited = TestClient(make_retention_app(runtime, outcomes=store, budget=500.0))
    page = limited.get("/", params={"lang": "en"}).text
    assert "of a 500 EUR budget" in page and "aim: most value saved" in page
    assert "500 EUR bütçeden" in limited.get("/", params={"lang": "tr"}).text
    open_ended = TestClient(make_retention_app(runtime, outcomes=store)).get("/").text
    assert "no budget limit" in open_ended


def test_exports_say_what_to_do_with_each_row_and_keep_the_control_group_out(
        runtime: Any, tmp_path: Path) -> None:
    import io

    import pandas as pd

    store = OutcomeStore(f"sqlite:///{tmp_path / 'o.db'}")
    app = TestClient(make_retention_app(runtime, outcomes=store, budget=300.0, holdout=0.2))
    for lang, status, control in (("en", "Status", "control group: do not contact"),
                                  ("tr", "Durum", "kontrol grubu: iletişime geçmeyin")):
        raw = app.get("/retention/export.csv", params={"lang": lang, "limit": 2000}).content
        frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
        assert control in set(frame[status])
    en = pd.read_csv(io.BytesIO(app.get("/retention/export.csv",
                                        params={"limit": 2000}).content), encoding="utf-8-sig")
    contacted = en[en["Status"] == "contact"]
    assert contacted["Cost"].sum() <= 300.0
    assert "over budget" in set(en["Status"])
    page = app.get("/").text
    assert "control group: do not contact" in page


def test_a_number_setting_that_is_not_a_number_is_refused_by_name(
        runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxchurn.errors import ConfigError
    from serving.retention.state import RetentionState

    for name in ("CXCHURN_RETENTION_BUDGET", "CXCHURN_HOLDOUT_SHARE"):
        monkeypatch.setenv(name, "lots")
        with pytest.raises(ConfigError, match=name):
            RetentionState(runtime)
        monkeypatch.delenv(name)
    monkeypatch.setenv("CXCHURN_RETENTION_BUDGET", "750")
    monkeypatch.setenv("CXCHURN_HOLDOUT_SHARE", "0.1")
    state = RetentionState(runtime)
    assert (state.policy.budget, state.policy.holdout) == (750.0, 0.1)
