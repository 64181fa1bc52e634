"""The at-risk page as a retention agent works from it all day, in headless Chromium against
the real service: Turkish without English words, reasons without the spec's internals,
search, cards that follow the filters, pages, and a status that survives a restart.

One test, two service starts (like ``test_retention_page``): the status set in the first
service must still be there in the second, a new process on the same home.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from serving.messages import MESSAGES
from serving.reasons.turkish import VALUES
from tests.browser.conftest import running_service

pytestmark = pytest.mark.slow

WORD = re.compile(r"[^\W\d_]+")
PLACEHOLDER = re.compile(r"\{[^}]*\}")
EMAIL = re.compile(r"\S+@\S+")
# What a feature spec is made of, which an agent must never read in a reason.
INTERNALS = re.compile(r"\b(half[- ]?life|power|cap|capped|decay\w*|yarı ömür|üs)\b",
                       re.IGNORECASE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(EMAIL.sub(" ", PLACEHOLDER.sub(" ", text)))
            if len(w) > 1}


def english_only_words() -> set[str]:
    """Words of the catalogue's English side that its Turkish side never uses (so "segment",
    "model", "NPS" or "CSV", the same in both, do not count), plus the English category
    values the page translates (segments, plans, channels: ``serving.reasons.turkish``)."""
    english: set[str] = set()
    turkish: set[str] = set()
    for entries in MESSAGES.values():
        for entry in entries.values():
            english |= _words(entry["en"])
            turkish |= _words(entry["tr"])
    for value, translated in VALUES.items():
        english |= _words(value.replace("_", " "))
        turkish |= _words(translated)
    return english - turkish


def _visible_text(page: Any) -> str:
    """The list page's text nodes (as written, before CSS upper-cases a label) without the
    customers' own contact data (names, e-mails and phones are data as the company wrote
    it, not words of the page)."""
    return page.evaluate("""() => {
        const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('.cval').forEach(e => e.remove());
        main.querySelectorAll('select option:not([selected])').forEach(e => e.remove());
        const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
        const parts = [];
        while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
        return parts.join(' '); }""")


def _ids(page: Any) -> list[str]:
    return page.locator("#at-risk tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.customer)")


def _card(page: Any, name: str) -> str:
    return page.locator(f"#kpi-{name}").inner_text().strip()


def check_turkish_has_no_english_word(page: Any, url: str) -> None:
    english = english_only_words()
    assert {"customers", "expected", "rows", "previous", "contact", "consumer"} <= english
    assert "segment" not in english and "nps" not in english
    page.goto(url + "/?lang=tr&limit=100&show_contacted=true")
    assert page.locator("#at-risk tbody tr").count() == 100
    found = _words(_visible_text(page)) & english
    assert not found, f"English words on the Turkish page: {sorted(found)}"
    page.goto(url + "/?lang=tr&limit=100&page=3&risk_band=high")  # other rows, other words
    found = _words(_visible_text(page)) & english
    assert not found, f"English words on the Turkish page: {sorted(found)}"
    page.locator("#at-risk a.cid").first.click()  # a customer's timeline and action, too
    page.wait_for_url("**/customer/**")
    shown = page.locator("#timeline").inner_text() + page.locator("#work").inner_text()
    found = _words(EMAIL.sub(" ", shown)) & english
    assert not found, f"English words on the Turkish customer page: {sorted(found)}"


def check_reasons_are_plain(page: Any, url: str) -> None:
    for lang in ("en", "tr"):
        page.goto(f"{url}/?lang={lang}&limit=200&show_contacted=true")
        reasons = page.locator("#at-risk ul.reasons").all_inner_texts()
        assert len(reasons) == 200 and all(r.strip() for r in reasons[:50])
        leaks = [r for r in reasons if INTERNALS.search(r)]
        assert not leaks, leaks[:3]
        page.locator("#at-risk a.cid").first.click()
        page.wait_for_url("**/customer/**")
        chart = page.locator("#explanation").inner_text()
        assert chart.strip() and not INTERNALS.search(chart), chart[:300]


def check_search_finds_a_customer(page: Any, url: str) -> None:
    page.goto(url + "/?limit=1000&show_contacted=true")
    names = page.locator("#at-risk td.contact .cname").all_inner_texts()
    ids = _ids(page)
    index = next(i for i, n in enumerate(names) if "Ş" in n or "IŞ" in n)
    target, name = ids[index], names[index]
    page.goto(url + "/?show_contacted=true")
    # typed the way an agent on an English keyboard types it
    typed = name.translate(str.maketrans("ŞşİıĞğÜüÖöÇç", "SsIiGgUuOoCc")).lower()
    page.fill("#f-search", typed)
    page.click("#f-apply")
    page.wait_for_url("**search=**")
    assert target in _ids(page)
    shown = page.locator("#at-risk td.contact .cname").all_inner_texts()
    assert shown and set(shown) == {name}
    assert int(_card(page, "customers").replace(",", "")) == len(shown)
    page.fill("#f-search", target.lower())  # by id, any case
    page.click("#f-apply")
    page.wait_for_load_state()
    assert _ids(page) == [target]


def check_cards_follow_the_filters(page: Any, url: str) -> None:
    page.goto(url + "/?show_contacted=true")
    before = {k: _card(page, k) for k in ("customers", "risk", "saves", "cost", "actions")}
    assert "range" in page.locator("#kpi-saves-range").inner_text().lower()
    page.select_option("#f-band", "high")  # the page submits the filter on change
    page.wait_for_url("**risk_band=high**")
    after = {k: _card(page, k) for k in before}
    assert int(after["customers"].replace(",", "")) < int(before["customers"].replace(",", ""))
    assert after["risk"] != before["risk"] and after["saves"] != before["saves"]
    assert set(page.locator("#at-risk tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.band)")) == {"high"}


def check_pages_move(page: Any, url: str) -> None:
    page.goto(url + "/?limit=100&show_contacted=true")
    total = _card(page, "customers")
    first = _ids(page)
    assert page.locator("#rows-of").inner_text() == f"rows 1 to 100 of {total}"
    page.click("#page-next")
    page.wait_for_url("**page=2**")
    assert page.locator("#rows-of").inner_text() == f"rows 101 to 200 of {total}"
    second = _ids(page)
    assert len(second) == 100 and not set(first) & set(second)
    ranks = page.locator("#at-risk tbody tr td:first-child").all_inner_texts()
    assert [int(r) for r in ranks] == list(range(101, 201))
    assert _card(page, "customers") == total  # the cards count every page
    page.click("#page-prev")
    page.wait_for_url("**page=1**")
    assert _ids(page) == first


def set_status_in_the_page(page: Any, url: str) -> str:
    page.goto(url + "/?limit=5&page=2")
    page.locator("#at-risk a.cid").first.click()
    page.wait_for_url("**/customer/**")
    customer = page.locator("#customer-id").inner_text().strip()
    assert page.locator("#contact-name").inner_text().strip()
    assert page.locator("#effect-source").get_attribute("data-source") == "assumed"
    page.fill("#w-agent", "agent-zeynep")
    page.select_option("#w-status", "won_back")
    page.click("#w-set")
    page.wait_for_url("**claimed=1**")
    assert page.locator("#work-status").get_attribute("data-status") == "won_back"
    assert page.locator("#owner").inner_text() == "agent-zeynep"
    page.fill("#w-agent", "agent-mehmet")  # a second agent may not take it over
    page.click("#w-claim")
    assert "agent-zeynep" in page.locator("#work-error").inner_text()
    return customer


def check_status_after_restart(page: Any, url: str, customer: str) -> None:
    page.goto(f"{url}/customer/{customer}")
    assert page.locator("#work-status").get_attribute("data-status") == "won_back"
    assert page.locator("#owner").inner_text() == "agent-zeynep"
    page.goto(f"{url}/?search={customer}")  # won back = contacted lately: hidden by default
    assert customer not in _ids(page)
    page.click("#show-contacted")
    page.wait_for_url("**show_contacted=true**")
    row = page.locator(f'#at-risk tr[data-customer="{customer}"]')
    assert "won back" in row.inner_text() and "agent-zeynep" in row.inner_text()


def check_claim_api_over_http(url: str, customer: str) -> None:
    request = urllib.request.Request(
        url + "/retention/claim", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"customer_id": customer, "agent": "agent-mehmet"}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 409
    assert "agent-zeynep" in json.load(refused.value)["error"]
    with urllib.request.urlopen(f"{url}/retention/assignments?customer_id={customer}",
                                timeout=30) as r:
        stored = json.load(r)["assignments"]
    assert [(a["owner"], a["status"]) for a in stored] == [("agent-zeynep", "won_back")]


def test_work_page_in_chromium(browser: Any, retention_home: Path) -> None:
    with running_service(retention_home) as url:
        page = browser.new_page()
        check_turkish_has_no_english_word(page, url)
        check_reasons_are_plain(page, url)
        check_search_finds_a_customer(page, url)
        check_cards_follow_the_filters(page, url)
        check_pages_move(page, url)
        customer = set_status_in_the_page(page, url)
        page.close()
    with running_service(retention_home) as url:  # a new process on the same home
        page = browser.new_page()
        check_status_after_restart(page, url, customer)
        page.close()
        check_claim_api_over_http(url, customer)
    # nothing about customers reached the service's logs: ids, names, phones, agents
    logs = " ".join(p.read_text(encoding="utf-8", errors="replace")
                    for p in retention_home.glob("service-*.log"))
    assert logs.strip()
    for secret in (customer, "agent-zeynep", "IŞIKLAR", "Şükrü", "@example.com", "+90 532"):
        assert secret not in logs, secret
