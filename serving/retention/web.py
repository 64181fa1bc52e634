"""What the page routes and the API routes share: state, auth, filters, templates, errors.

Routes receive everything as FastAPI dependencies (``StateDep``, ``api_auth``, ``PageQuery``),
so a router module holds no state of its own and the app factory only wires them together.
Templates are Jinja with autoescaping on for ``.html``: values are escaped when rendered,
never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import numpy as np
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxchurn.errors import ConfigError, NotFoundError
from serving.auth import AuthError, check_api_key
from serving.messages import for_lang, lang_or_default
from serving.reasons.numbers import number_text, percent_text
from serving.reasons.turkish import value_tr
from serving.retention.assignments import Assignment
from serving.retention.at_risk import (
    MAX_SEARCH,
    SORTABLE,
    AtRiskBook,
    ListQuery,
    display_records,
    filter_rows,
)
from serving.retention.state import RetentionState
from serving.retention.worklist import annotate, list_kpis, page_info

PAGE_DIR = Path(__file__).with_name("page")
PageBand = Literal["", "low", "medium", "high"]  # "" from the page's "all bands" option
# the page's number field: digits with an optional decimal part, or empty (no limit); stated in
# the OpenAPI, so a client knows "6*" is refused before sending it
MIN_VALUE_PATTERN = r"^\s*([0-9]+(\.[0-9]+)?)?\s*$"
PageSort = Literal[SORTABLE]  # type: ignore[valid-type]
COOKIE = "cxchurn_session"  # a random session id (serving/retention/sessions.py), never the key


# ---------------------------------------------------------------------------- dependencies
def get_state(request: Request) -> RetentionState:
    """The app's ``RetentionState`` (``make_retention_app`` puts it on ``app.state``)."""
    return request.app.state.retention


StateDep = Annotated[RetentionState, Depends(get_state)]


def api_auth(request: Request) -> None:
    """API calls: ``Authorization: Bearer <key>`` when ``CXCHURN_API_KEY`` is set."""
    check_api_key(request.headers.get("authorization"), get_state(request).settings.api_key)


def page_auth(request: Request) -> None:
    """Browser requests: the header, or the session the sign-in form put in a cookie."""
    state = get_state(request)
    header = request.headers.get("authorization")
    if header or not state.settings.api_key:
        check_api_key(header, state.settings.api_key)
    elif not state.sessions.valid(request.cookies.get(COOKIE)):
        raise AuthError("not signed in, or the session has expired: sign in at /login, or "
                        "send the header 'Authorization: Bearer <key>'")


def safe_next(text: str | None) -> str:
    """``text`` when it is a path on this site, else ``/``: the only redirect targets.

    Refused: anything with a scheme or host (``https://x``, ``//x``), backslashes (browsers
    read ``/\\x`` as ``//x``), control characters, and overlong values.
    """
    if not text or len(text) > 2000 or not text.startswith("/") or text.startswith("//"):
        return "/"
    if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "/"
    parts = urlsplit(text)
    return "/" if parts.scheme or parts.netloc else text


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route's dependency tree declares."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """400 for a query parameter the route does not take (a typo would silently do nothing)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _QUERY_NAMES.get(id(route))
    if known is None:
        known = frozenset(_query_names(dependant))
        _QUERY_NAMES[id(route)] = known
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ConfigError(f"unknown query parameter(s) {[u[:40] for u in unknown[:5]]}: this "
                          f"route takes {sorted(known)}; check the spelling")


def optional_number(text: str | None, name: str) -> float | None:
    """A form field that may be left empty: '' -> None, else a number >= 0."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number such as 250 or left empty; "
                          f"got {text[:40]!r}.") from None
    if not np.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0 or left empty; got {text[:40]!r}.")
    return value


def list_query(segment: str | None, risk_band: str | None, min_value: float | None, limit: int,
               sort: str, descending: bool, only_actionable: bool = False,
               search: str | None = None, show_contacted: bool = False, page: int = 1
               ) -> ListQuery:
    """A ``ListQuery`` where an empty segment, band or search means "all"."""
    return ListQuery(segment=segment or None, risk_band=risk_band or None, min_value=min_value,
                     limit=limit, sort=sort, descending=descending,
                     only_actionable=only_actionable,
                     search=(search or "").strip() or None, show_contacted=show_contacted,
                     page=page)


def page_query(
    segment: str | None = None, risk_band: PageBand | None = None,
    min_value: str | None = Query(None, max_length=20, pattern=MIN_VALUE_PATTERN, description=(
        "lowest customer value to list, e.g. 250 or 99.5; empty: no limit")),
    limit: int = Query(100, ge=1, le=10_000), sort: PageSort = "expected_net_value",
    descending: bool = True, only_actionable: bool = False,
    search: str | None = Query(None, max_length=MAX_SEARCH),
    show_contacted: bool = False, page: int = Query(1, ge=1, le=100_000),
) -> ListQuery:
    """The page's and the exports' filters (a FastAPI dependency): form fields may be empty."""
    return list_query(segment, risk_band, optional_number(min_value, "min_value"), limit, sort,
                      descending, only_actionable, search, show_contacted, page)


PageQuery = Annotated[ListQuery, Depends(page_query)]


@dataclass(frozen=True)
class WorkView:
    """One request's slice of the list: the query (page clamped to the last one), the
    visible rows with contacts, owner and status, the cards over every kept row, the page
    position and how many recently contacted customers the default hides."""

    query: ListQuery
    records: list[dict[str, Any]]
    kpis: dict[str, Any]
    pages: dict[str, Any]
    hidden: int


def work_view(state: RetentionState, book: AtRiskBook, query: ListQuery, lang: str) -> WorkView:
    """What the page, the exports and ``GET /retention/at-risk`` show for ``query``."""
    marks = state.marks(book)
    kept = filter_rows(book, query, marks)
    hidden = 0
    if not query.show_contacted and marks.contacted:
        hidden = len(filter_rows(book, replace(query, show_contacted=True), marks)) - len(kept)
    pages = page_info(len(kept), query)
    query = replace(query, page=pages["page"])
    rows = kept.iloc[query.offset:query.offset + query.limit].reset_index(drop=True)
    records = display_records(rows, book, state.catalogue, lang)
    records = annotate(records, state.contacts(),
                       state.assignments.all(rows["customer_id"].tolist()))
    return WorkView(query=query, records=records, kpis=list_kpis(kept, state.policy.budget),
                    pages=pages, hidden=hidden)


WORK_CHANGES = ("claim", "release", "status")


def change_work(state: RetentionState, customer_id: str, do: str, agent: str,
                status: str | None = None) -> Assignment:
    """Claim, release or set the status of a listed customer (page form and JSON API)."""
    if do not in WORK_CHANGES:
        raise ConfigError(f"do must be one of {list(WORK_CHANGES)}; got {do[:40]!r}")
    if not (state.book().table["customer_id"] == customer_id).any():
        raise NotFoundError(f"customer {customer_id!r} is not in the online store; check the "
                            f"id or pick one from the at-risk list")
    if do == "claim":
        return state.assignments.claim(customer_id, agent)
    if do == "release":
        return state.assignments.release(customer_id, agent)
    if not status:
        raise ConfigError("status is missing: give one of new, contacted, won_back, lost")
    return state.assignments.set_status(customer_id, status, agent)


# ---------------------------------------------------------------------------- rendering
@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The page's templates; autoescaping on for HTML (and only there)."""
    env = Environment(loader=FileSystemLoader(PAGE_DIR),
                      autoescape=select_autoescape(["html"]))
    return Jinja2Templates(env=env)


def money(value: float, lang: str = "en") -> str:
    """An amount in whole units with the language's separators (1,234 / 1.234)."""
    return number_text(value, lang, 0)


def value_label(value: str, lang: str) -> str:
    """A category value (a channel, a segment) as the page shows it: Turkish where it is a
    known word, else the value with spaces for underscores."""
    shown = value_tr(value) if lang == "tr" else value
    return shown.replace("_", " ")


def page_context(request: Request, state: RetentionState, lang: str, **extra: Any
                 ) -> dict[str, Any]:
    """What every page template reads: ``msg`` (the message catalogue in ``lang``), the
    runtime's metadata, the currency and helpers (``money``, ``num``, ``pct`` in ``lang``'s
    number format)."""
    lang = lang_or_default(lang)
    return {"request": request, "lang": lang, "msg": for_lang(lang),
            "meta": state.runtime.metadata(), "auth_required": bool(state.settings.api_key),
            "other_lang": "tr" if lang == "en" else "en",
            "money": lambda v: money(v, lang),
            "num": lambda v, decimals=1: number_text(v, lang, decimals),
            "pct": lambda share: percent_text(share, lang),
            "label": lambda value: value_label(str(value), lang),
            "currency": state.catalogue.currency, **extra}


def is_api_path(path: str) -> bool:
    """JSON errors for the API; the exports are links on the page, so they get HTML."""
    return (path in ("/kpis", "/drivers", "/alerts", "/events") or path.startswith("/alerts/")
            or (path.startswith("/retention/") and not path.startswith("/retention/export")))


def error_response(request: Request, status: int, message: str, kind: str = "") -> Response:
    """The API's ``{"error", "type"}`` body, or a small HTML page for the browser."""
    if is_api_path(request.url.path):
        return JSONResponse({"error": message, "type": kind}, status_code=status)
    html = templates().get_template("error.html").render(status=status, message=message)
    return HTMLResponse(html, status_code=status)


def validation_message(err: RequestValidationError) -> str:
    """Pydantic's errors in one line: each field and what is wrong with it."""
    parts = []
    for e in err.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts[:10]) + (
        "; see GET /docs for the expected fields" if parts else "")
