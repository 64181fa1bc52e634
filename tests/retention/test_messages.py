"""The EN/TR message catalogue is complete, the templates read only keys it has, and the page
escapes what it shows (Jinja autoescaping, no hand-written escaping)."""

from __future__ import annotations

import re
import string

import pytest
from starlette.requests import Request

from serving.messages import LANGUAGES, MESSAGES, for_lang, lang_or_default, text
from serving.retention.web import PAGE_DIR, error_response, templates


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_entry_has_both_languages_and_the_same_placeholders() -> None:
    for section, entries in MESSAGES.items():
        for key, entry in entries.items():
            assert set(entry) == set(LANGUAGES), (section, key)
            assert all(entry[lang].strip() for lang in LANGUAGES), (section, key)
            assert _fields(entry["en"]) == _fields(entry["tr"]), (section, key)


def test_no_key_hides_behind_a_dict_method_in_templates() -> None:
    # Jinja's msg.ui.items would be dict.items, not the entry "items".
    assert not {key for entries in MESSAGES.values() for key in entries} & set(dir(dict))
    assert not set(MESSAGES) & set(dir(dict))


def test_the_templates_read_only_keys_the_catalogue_has() -> None:
    used = set()
    for page in PAGE_DIR.glob("*.html"):
        used |= set(re.findall(r"\bmsg\.(\w+)\.(\w+)", page.read_text(encoding="utf-8")))
    assert used, "the templates read no messages"
    missing = {(s, k) for s, k in used
               if s not in MESSAGES or (k not in MESSAGES[s] and k != "get")}
    assert not missing


def test_an_unknown_language_reads_english() -> None:
    assert lang_or_default("de") == "en"
    assert text("ui", "title", "de") == text("ui", "title", "en") == "Customers at risk"
    assert for_lang("tr")["status"]["holdout"] == "kontrol grubu: iletişime geçmeyin"


def _request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": b"",
                    "headers": [], "scheme": "http", "server": ("test", 80)})


def test_html_templates_escape_and_the_error_page_too() -> None:
    env = templates().env
    assert env.autoescape("at_risk.html") if callable(env.autoescape) else env.autoescape
    page = error_response(_request("/customer/x"), 404, "customer '<script>' & co")
    body = page.body.decode()
    assert page.status_code == 404 and "<script>" not in body
    assert "&lt;script&gt;" in body and "&amp; co" in body


@pytest.mark.parametrize("path", ["/retention/at-risk", "/retention/outcomes"])
def test_api_errors_stay_json(path: str) -> None:
    page = error_response(_request(path), 404, "<nope>", "NotFoundError")
    assert page.media_type == "application/json" and b"<nope>" in page.body
