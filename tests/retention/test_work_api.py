"""The list as a day's work, over the retention JSON API (in-process): search, contacts, owner
and status, the recently contacted left out, pages, and where each action's effect comes from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from features.schema import CHANNELS
from serving.retention.app import make_retention_app
from serving.retention.catalogue import catalogue_data, load_catalogue, write_catalogue
from serving.retention.outcomes import OutcomeStore

pytestmark = pytest.mark.slow  # trains a small model once per session


def _client(runtime: Any, url: str, **kwargs: Any) -> TestClient:
    return TestClient(make_retention_app(runtime, outcomes=OutcomeStore(url), **kwargs))


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'outcomes.db'}"


@pytest.fixture()
def client(runtime: Any, db_url: str) -> TestClient:
    return _client(runtime, db_url)


def _rows(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/retention/at-risk", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_rows_carry_contact_details_that_the_model_never_sees(client: TestClient,
                                                              runtime: Any) -> None:
    rows = _rows(client, limit=20)["customers"]
    assert all(r["contact"]["name"] and r["contact"]["phone"].startswith("+90")
               and r["contact"]["email"].endswith("@example.com")
               and r["contact"]["channel"] in CHANNELS for r in rows)
    features = set(runtime.model.feature_names_)
    assert not features & {"name", "phone", "email"}


def test_search_finds_a_customer_by_id_or_by_name_in_any_case_and_spelling(
        client: TestClient) -> None:
    everyone = _rows(client, limit=10_000, show_contacted=True)["customers"]
    target = next(r for r in everyone if "IŞIKLAR" in r["contact"]["name"])
    by_id = _rows(client, search=target["customer_id"][-5:].lower(), limit=10_000)
    assert target["customer_id"] in [r["customer_id"] for r in by_id["customers"]]
    assert by_id["matching"] < len(everyone)
    # typed on an English keyboard, lower case: 'Şükrü IŞIKLAR' -> 'sukru isiklar'
    plain = (target["contact"]["name"].lower().replace("ş", "s").replace("ü", "u")
             .replace("ı", "i").replace("ç", "c").replace("ğ", "g").replace("ö", "o")
             .replace("i̇", "i"))
    found = _rows(client, search=plain.upper(), limit=10_000)["customers"]
    assert target["customer_id"] in [r["customer_id"] for r in found]
    assert {r["contact"]["name"] for r in found} == {target["contact"]["name"]}
    assert _rows(client, search="no such customer")["customers"] == []


def test_claims_statuses_and_conflicts_over_http(client: TestClient, runtime: Any,
                                                 db_url: str) -> None:
    cid = _rows(client, limit=1)["customers"][0]["customer_id"]
    claimed = client.post("/retention/claim", json={"customer_id": cid, "agent": "ayse"})
    assert claimed.status_code == 200
    assert claimed.json()["owner"] == "ayse" and claimed.json()["status"] == "new"
    taken = client.post("/retention/claim", json={"customer_id": cid, "agent": "mehmet"})
    assert taken.status_code == 409 and "'ayse'" in taken.json()["error"]
    assert client.post("/retention/status", json={
        "customer_id": cid, "agent": "mehmet", "status": "contacted"}).status_code == 409
    assert client.post("/retention/release", json={
        "customer_id": cid, "agent": "mehmet"}).status_code == 409
    done = client.post("/retention/status", json={"customer_id": cid, "agent": "ayse",
                                                   "status": "won_back"})
    assert done.status_code == 200 and done.json()["status"] == "won_back"
    assert done.json()["contacted_at"]
    released = client.post("/retention/release", json={"customer_id": cid, "agent": "ayse"})
    assert released.json()["owner"] is None and released.json()["status"] == "won_back"
    assert client.post("/retention/claim", json={"customer_id": cid, "agent": "mehmet"}
                       ).json()["owner"] == "mehmet"
    # a new service on the same database (a restart) sees the same owner and status
    again = _client(runtime, db_url)
    stored = again.get("/retention/assignments", params={"customer_id": cid}).json()
    assert [(a["owner"], a["status"]) for a in stored["assignments"]] == [("mehmet",
                                                                           "won_back")]
    assert again.get("/retention/assignments", params={"owner": "ayse"}).json()["count"] == 0
    row = next(r for r in _rows(again, search=cid, show_contacted=True)["customers"]
               if r["customer_id"] == cid)
    assert (row["owner"], row["work_status"]) == ("mehmet", "won_back")


@pytest.mark.parametrize("body, status, word", [
    ({"customer_id": "NOPE", "agent": "a"}, 404, "NOPE"),
    ({"customer_id": "C1", "agent": ""}, 400, "agent"),
    ({"customer_id": "C1", "agent": "a", "colour": 1}, 400, "colour"),
])
def test_bad_claims_get_a_4xx_naming_the_problem(client: TestClient, body: dict, status: int,
                                                 word: str) -> None:
    response = client.post("/retention/claim", json=body)
    assert response.status_code == status and word in response.json()["error"]


def test_a_bad_status_is_a_400_naming_the_allowed_ones(client: TestClient) -> None:
    cid = _rows(client, limit=1)["customers"][0]["customer_id"]
    response = client.post("/retention/status", json={"customer_id": cid, "agent": "a",
                                                      "status": "maybe"})
    assert response.status_code == 400 and "status" in response.json()["error"]


def test_recently_contacted_customers_are_hidden_unless_asked_for(client: TestClient) -> None:
    first = _rows(client, limit=3)
    called, outcome = (r["customer_id"] for r in first["customers"][:2])
    client.post("/retention/status", json={"customer_id": called, "agent": "a",
                                           "status": "contacted"})
    assert client.post("/retention/outcomes", json={
        "customer_id": outcome, "action_type": "apology_voucher", "result": "no_answer",
        "recorded_by": "b"}).status_code == 201
    after = _rows(client, limit=3)
    shown = [r["customer_id"] for r in after["customers"]]
    assert called not in shown and outcome not in shown
    assert after["hidden_contacted"] == 2 and after["matching"] == first["matching"] - 2
    everyone = _rows(client, limit=3, show_contacted=True)
    assert [r["customer_id"] for r in everyone["customers"]][:2] == [called, outcome]
    assert everyone["hidden_contacted"] == 0


def test_pages_continue_the_ranking_and_clamp_at_the_end(client: TestClient) -> None:
    one, two = _rows(client, limit=50, page=1), _rows(client, limit=50, page=2)
    assert one["pages"] == two["pages"] == -(-one["matching"] // 50) > 2
    assert [r["rank"] for r in two["customers"]] == [r["rank"] for r in _rows(
        client, limit=100)["customers"]][50:]
    last = _rows(client, limit=50, page=10_000)
    assert last["page"] == last["pages"] and 0 < last["count"] <= 50


def test_the_page_shows_cards_over_the_filtered_rows_and_the_rows_position(
        client: TestClient) -> None:
    def cards(**params: Any) -> dict[str, str]:
        html = client.get("/", params={"limit": 100, **params}).text
        return dict(re.findall(r'id="(kpi-[a-z-]+|rows-of)">([^<]+)<', html))

    everyone = cards()
    high = cards(risk_band="high")
    assert int(high["kpi-customers"].replace(",", "")) < int(
        everyone["kpi-customers"].replace(",", ""))
    assert high["kpi-risk"] != everyone["kpi-risk"]
    total = everyone["kpi-customers"]
    assert everyone["rows-of"] == f"rows 1 to 100 of {total}"
    assert cards(page=2)["rows-of"] == f"rows 101 to 200 of {total}"
    low, high_end = re.findall(r"range ([\d.,]+) to ([\d.,]+)", everyone["kpi-saves-range"])[0]
    assert float(low.replace(",", "")) <= float(everyone["kpi-saves"].replace(",", "")) <= \
        float(high_end.replace(",", ""))
    turkish = client.get("/", params={"lang": "tr"}).text
    assert re.search(r'id="rows-of">[\d.]+ satırdan 1 ile 100 arası<', turkish)


def test_recommend_says_where_each_effect_comes_from_with_a_range(client: TestClient,
                                                                  runtime: Any,
                                                                  tmp_path: Path) -> None:
    ids = [r["customer_id"] for r in _rows(client, limit=3)["customers"]]
    shipped = client.post("/retention/recommend", json={"customer_ids": ids}).json()
    first = shipped["recommendations"][0]
    assert first["action_detail"]["effect_source"]["source"] == "assumed"
    assert first["action_detail"]["effect_source"]["treated"] == 0
    for option in first["options"]:
        assert option["expected_saved_low"] <= option["expected_saved"] \
            <= option["expected_saved_high"]
        assert option["expected_saved_low"] < option["expected_saved_high"]
    assert first["expected_saved_low"] <= first["expected_saved"] <= first["expected_saved_high"]
    # the same actions with learned effects and narrow intervals: the range narrows
    data = catalogue_data(load_catalogue())
    for action in data["actions"]:
        e, g = action["effect"], action["general_effect"]
        action["learned"] = {"treated": 412, "effect_95": [max(0, e - 0.05), e + 0.05],
                             "general_95": [max(0, g - 0.05), g + 0.05]}
    learned_file = tmp_path / "actions.learned.yaml"
    from serving.retention.catalogue import parse_catalogue

    write_catalogue(parse_catalogue(data, "learned"), learned_file)
    learned = _client(runtime, f"sqlite:///{tmp_path / 'other.db'}",
                      catalogue=load_catalogue(learned_file))
    body = learned.post("/retention/recommend", json={"customer_ids": ids}).json()
    detail = body["recommendations"][0]["action_detail"]["effect_source"]
    assert detail["source"] == "learned" and detail["treated"] == 412
    assert detail["effect_95"][1] - detail["effect_95"][0] == pytest.approx(0.1, abs=1e-6)
    narrow = body["recommendations"][0]
    assert narrow["expected_saved_high"] - narrow["expected_saved_low"] < \
        first["expected_saved_high"] - first["expected_saved_low"]
