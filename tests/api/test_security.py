"""The serving layer's security and reliability defects, each checked over HTTP on the real
service (two worker processes, API key required): redirects, the sign-in cookie, what needs
the key, what the log holds, request size limits, outcome bounds and the documented answers.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import API_KEY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cid(service):
    body = service.get("/retention/at-risk", params={"limit": 1}).json()
    return body["customers"][0]["customer_id"]


def _login(service, next_: str = "/") -> httpx.Response:
    return httpx.post(service.url + "/login", data={"key": API_KEY, "next": next_},
                      follow_redirects=False, timeout=60)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example",
                                    "/\t/evil.example", "javascript:alert(1)", "evil.example"])
def test_sign_in_redirects_only_to_paths_of_this_site(service, target):
    response = _login(service, target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_sign_in_keeps_a_local_next_and_the_customer_page_drops_a_foreign_back(service, cid):
    assert _login(service, "/?lang=tr").headers["location"] == "/?lang=tr"
    page = service.get(f"/customer/{cid}", params={"back": "//evil.example/x"})
    assert page.status_code == 200
    assert "evil.example" not in page.text


def test_the_cookie_holds_a_session_not_the_key_and_sign_out_ends_it(service):
    response = _login(service)
    cookie = response.headers["set-cookie"]
    assert API_KEY not in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain HTTP here; HTTPS requests get Secure
    session = response.cookies["cxchurn_session"]
    with httpx.Client(base_url=service.url, cookies={"cxchurn_session": session},
                      timeout=60) as browser:
        # several requests: the two workers must both know the session
        assert [browser.get("/retention/export.csv").status_code for _ in range(6)] == [200] * 6
        assert browser.post("/logout", follow_redirects=False).status_code == 303
        browser.cookies.set("cxchurn_session", session)
        assert browser.get("/retention/export.csv").status_code == 401
        assert browser.get("/", follow_redirects=False).headers["location"].startswith("/login")
    forged = httpx.get(service.url + "/retention/export.csv", timeout=60,
                       cookies={"cxchurn_session": API_KEY})
    assert forged.status_code == 401  # the key itself is no longer a valid cookie


@pytest.mark.parametrize("tab", ["/", "/experience", "/inbox"])
def test_every_page_tab_opens_with_a_session_and_sends_strangers_to_sign_in(service, tab):
    stranger = httpx.get(service.url + tab, follow_redirects=False, timeout=60)
    assert stranger.status_code == 303
    assert stranger.headers["location"].startswith("/login")
    session = _login(service).cookies["cxchurn_session"]
    signed_in = httpx.get(service.url + tab, cookies={"cxchurn_session": session}, timeout=60)
    # the page itself answers (this home has no events file, so the Experience tab says so)
    assert signed_in.status_code != 401, signed_in.text[:200]
    assert signed_in.headers["content-type"].startswith("text/html")
    assert signed_in.status_code == 200 or "no events file" in signed_in.text


def test_metrics_need_the_key_and_the_probes_and_descriptions_do_not(service):
    assert service.get("/metrics", key=None).status_code == 401
    assert service.get("/metrics").status_code == 200
    for path in ("/health", "/livez", "/readyz", "/docs.json"):
        assert service.get(path, key=None).status_code == 200, path


def test_the_access_log_names_route_templates_not_customer_ids(service, cid):
    assert service.get(f"/customer/{cid}").status_code == 200
    assert service.get("/customers/C99999991", key=None).status_code in (401, 404)
    log = service.log_text()
    assert cid not in log and "C99999991" not in log
    assert "GET /customer/{customer_id} 200" in log


def test_client_errors_are_one_warning_line_without_a_traceback(service):
    bodies = [b'{"customer_ids": ["a"', b'{"customer_ids": []}', b"{}", b'{"top_k": "x"}',
              b"[1, 2]", b'{"customer_ids": [17]}']
    for body in bodies:
        for path in ("/score", "/explain"):
            response = httpx.post(service.url + path, content=body, timeout=60, headers={
                **service.headers(), "Content-Type": "application/json"})
            assert response.status_code == 400, response.text
            out = response.json()
            assert isinstance(out["error"], str) and out["type"] == "RequestValidationError"
    log = service.log_text()
    assert "Traceback" not in log
    assert "client error on /explain [POST]" in log
    assert "[ERROR]" not in log


def test_a_too_big_explanation_is_refused_with_how_to_split_it(service, cid):
    ids = [cid] * 2001
    response = service.post("/explain", {"customer_ids": ids, "top_k": 10})
    assert response.status_code == 413, response.text
    message = response.json()["error"]
    assert "CXCHURN_MAX_EXPLAIN_CELLS" in message and "at most 2000 customers" in message
    assert service.post("/explain", {"customer_ids": ids[:2000], "top_k": 10}).status_code == 200


def test_the_service_runs_two_workers(service):
    for _ in range(20):
        service.get("/health", key=None)
    workers = set(re.findall(r"entry_service:cxchurn:(\d+)", service.log_text()))
    assert len(workers) == 2, workers


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"cost": 1e309}, 400, "cost"),
    ({"cost": 10_000.01}, 422, "cost"),
    ({"action_time": "1900-05-01T10:00:00Z"}, 422, "action_time"),
    ({"action_time": "2999-01-01T10:00:00Z"}, 422, "action_time"),
])
def test_outcomes_refuse_nonsense_costs_and_times_by_field(service, cid, change, status, field):
    body = {"customer_id": cid, "action_type": "apology_voucher", "result": "accepted",
            "recorded_by": "agent-1", **change}
    raw = httpx.post(service.url + "/retention/outcomes", timeout=60, headers={
        **service.headers(), "Content-Type": "application/json"},
        content=_json_with_big_numbers(body))
    assert raw.status_code == status, raw.text
    assert field in raw.json()["error"]


def _json_with_big_numbers(body: dict) -> bytes:
    import json

    return json.dumps(body).replace("Infinity", "1e309").encode()


@pytest.mark.parametrize("path", ["/retention/at-risk", "/retention/outcomes",
                                  "/retention/export.csv"])
def test_unknown_query_parameters_are_refused_by_name(service, path):
    response = service.get(path, params={"limitt": 3})
    assert response.status_code == 400
    assert "limitt" in response.text


def test_the_openapi_document_says_what_the_service_answers(service):
    spec = service.get("/docs.json", key=None).json()
    score = spec["paths"]["/score"]["post"]
    assert {"400", "401", "415", "422", "503"} <= set(score["responses"])
    assert "413" in spec["paths"]["/explain"]["post"]["responses"]
    body = score["requestBody"]["content"]["application/json"]["schema"]
    assert {tuple(o["required"]) for o in body["oneOf"]} == {("customer_ids",), ("rows",),
                                                             ("table",)}
    error = spec["components"]["schemas"]["InvalidArgument"]["properties"]
    assert error["error"]["type"] == "string" and "detail" not in error
    assert "401" in spec["paths"]["/metrics"]["get"]["responses"]
    export = spec["paths"]["/retention/export.csv"]["get"]["responses"]
    assert "text/csv" in export["200"]["content"] and {"400", "401"} <= set(export)
    assert {"400", "401", "404"} <= set(spec["paths"]["/retention/recommend"]["post"]["responses"])
