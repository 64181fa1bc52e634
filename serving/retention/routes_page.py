"""The browser side: sign-in, the at-risk list at ``/``, one customer's view, the exports.

HTML routes stay out of the OpenAPI document (``include_in_schema=False``); the CSV and Excel
exports are listed there, under the ``retention`` tag, because scripts download them too.
Every page takes ``?lang=en|tr``; its words come from the message catalogue (``msg``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxchurn.errors import ConfigError, DataContractError, NotFoundError
from serving.auth import AuthError, check_api_key
from serving.messages import lang_or_default, text
from serving.retention.assignments import STATUSES, ClaimConflictError
from serving.retention.at_risk import (
    SORTABLE,
    ListQuery,
    display_records,
    export_frame,
    horizon_texts,
    segment_label,
    short_reason,
    to_csv_bytes,
    to_xlsx_bytes,
)
from serving.retention.history import customer_history
from serving.retention.models import Lang
from serving.retention.monitor_view import monitor_panel
from serving.retention.outcomes import RESULTS
from serving.retention.policy import ranked_options
from serving.retention.provenance import effect_source, option_ranges
from serving.retention.sessions import SESSION_TTL
from serving.retention.state import RetentionState
from serving.retention.web import (
    COOKIE,
    PageQuery,
    StateDep,
    change_work,
    error_response,
    page_auth,
    page_context,
    reject_unknown_query,
    safe_next,
    templates,
    work_view,
)

router = APIRouter()

BANDS = ("high", "medium", "low")
AGENT_COOKIE = "cxchurn_agent"
# Both formats take the page's own filters, so an export holds exactly the visible rows.
EXPORT_FORMATS = {
    "csv": (to_csv_bytes, "text/csv; charset=utf-8"),
    "xlsx": (to_xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _guarded(request: Request, state: RetentionState) -> Response | None:
    """A redirect to the sign-in page, a 503 page when no model is loaded, or None: go on."""
    try:
        page_auth(request)
    except AuthError:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    if not state.runtime.ready:
        return error_response(request, 503, f"{text('ui', 'not_ready', 'en')}: "
                              f"{state.runtime.metadata().get('reason')}")
    return None


def _chart(drivers: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars for the explanation chart (drawn by the template), largest first."""
    top = max((abs(float(d["shap"])) for d in drivers), default=1.0) or 1.0
    return {"bars": [{"reason": short_reason(str(d.get("reason") or d["feature"])),
                      "feature": d["feature"],
                      "shap": float(d["shap"]), "width": abs(float(d["shap"])) / top,
                      "raises": float(d["shap"]) > 0} for d in drivers]}


# ---------------------------------------------------------------------------- sign-in
@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, state: StateDep, lang: str = "en", next: str = "/"
               ) -> Response:
    return templates().TemplateResponse(request, "login.html", page_context(
        request, state, lang, next=safe_next(next), error=None))


@router.post("/login", include_in_schema=False)
def login(request: Request, state: StateDep, key: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/", lang: Annotated[str, Form()] = "en") -> Response:
    try:
        check_api_key(f"Bearer {key}", state.settings.api_key)
    except AuthError as err:
        return templates().TemplateResponse(request, "login.html", page_context(
            request, state, lang, next=safe_next(next), error=str(err)), status_code=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    if state.settings.api_key:
        response.set_cookie(COOKIE, state.sessions.create(),
                            max_age=int(SESSION_TTL.total_seconds()), httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, state: StateDep) -> Response:
    """End the browser's session (everywhere: sessions live in the database)."""
    if state.settings.api_key:
        state.sessions.end(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response


# ---------------------------------------------------------------------------- the list
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def at_risk_page(request: Request, state: StateDep, query: PageQuery, lang: str = "en"
                 ) -> Response:
    if (redirect := _guarded(request, state)) is not None:
        return redirect
    lang = lang_or_default(lang)
    book = state.book()
    view = work_view(state, book, query, lang)
    query, params = view.query, view.query.params()
    sort_links = {
        key: "?" + urlencode({**params, "lang": lang, "sort": key, "page": 1,
                              "descending": str(not (query.sort == key
                                                     and query.descending)).lower()})
        for key in SORTABLE}
    present = set(book.table["risk_band"])

    def link(**changes: Any) -> str:
        return "?" + urlencode({**params, "lang": lang, **changes})

    return templates().TemplateResponse(request, "at_risk.html", page_context(
        request, state, lang, query=query, rows=view.records, total=len(book.table),
        segments=book.segments(), bands=[b for b in BANDS if b in present],
        segment_labels={s: segment_label(s, lang) for s in book.segments()},
        sort_links=sort_links,
        export_query=urlencode({**params, "lang": lang}),
        lang_link="?" + urlencode({**params, "lang": "tr" if lang == "en" else "en"}),
        kpis=view.kpis, pages=view.pages, link=link, hidden=view.hidden,
        contacted_days=state.settings.contacted_days,
        effects=[{"title": a.title(lang), **effect_source(a)} for a in state.catalogue
                 if a.effect > 0 or a.general_effect > 0],
        plan={"budget": state.policy.budget, "objective": state.policy.objective},
        monitor=monitor_panel(Path(state.runtime.home), lang),
    ))


# ---------------------------------------------------------------------------- one customer
@router.get("/customer/{customer_id}", response_class=HTMLResponse, include_in_schema=False)
def customer_page(request: Request, state: StateDep, customer_id: str, lang: str = "en",
                  recorded: int = 0, back: str = "/", claimed: int = 0) -> Response:
    if (redirect := _guarded(request, state)) is not None:
        return redirect
    return _customer_view(request, state, customer_id, lang_or_default(lang), bool(recorded),
                          safe_next(back), claimed=bool(claimed))


@router.post("/customer/{customer_id}/work", include_in_schema=False)
def work_from_form(
    request: Request, state: StateDep, customer_id: str,
    agent: Annotated[str, Form()] = "", do: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = "en",
    back: Annotated[str, Form()] = "/",
) -> Response:
    """Claim, release or set the status from the customer page (the JSON API's twins)."""
    if (redirect := _guarded(request, state)) is not None:
        return redirect
    lang, back = lang_or_default(lang), safe_next(back)
    try:
        change_work(state, customer_id, do, agent, status or None)
    except (DataContractError, ClaimConflictError, ConfigError) as err:
        return _customer_view(request, state, customer_id, lang, False, back,
                              status_code=err.http_status, work_error=str(err))
    target = f"/customer/{customer_id}?" + urlencode({"lang": lang, "claimed": 1,
                                                       "back": back})
    response = RedirectResponse(target, status_code=303)
    # the agent's name, so the next form is filled in (not a secret: it is shown to all)
    response.set_cookie(AGENT_COOKIE, agent.strip()[:128], max_age=90 * 24 * 3600,
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def _customer_view(request: Request, state: RetentionState, customer_id: str, lang: str,
                   recorded: bool, back: str, error: str | None = None,
                   form: dict[str, Any] | None = None, status_code: int = 200,
                   claimed: bool = False, work_error: str | None = None) -> Response:
    book = state.book()
    match = book.table[book.table["customer_id"] == customer_id]
    if match.empty:
        raise NotFoundError(f"customer {customer_id!r} is not in the online store; check "
                            f"the id or pick one from the at-risk list")
    row = display_records(match, book, state.catalogue, lang)[0]
    drivers, _ = state.runtime.explain_ids([customer_id], top_k=8, lang=lang)
    cutoff = state.runtime.store_cutoff()
    history = customer_history(state.events_path(), customer_id, lang,
                               pd.Timestamp(cutoff) if cutoff else None)
    position = int(np.flatnonzero(book.customers["customer_id"] == customer_id)[0])
    weighed, mass = state.weighed(book).iloc[[position]], book.mass.iloc[[position]]
    options = option_ranges(weighed, mass, state.catalogue,
                            ranked_options(weighed, mass, state.catalogue))[0]
    action = state.catalogue.get(row["action"]) if row["action"] else None
    assignment = state.assignments.get(customer_id)
    default_form = {"action_type": row["action"] or state.catalogue.names()[0],
                    "action_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                    "result": "pending", "recorded_by": "", "cost": "", "note": ""}
    return templates().TemplateResponse(request, "customer.html", page_context(
        request, state, lang, row=row, action=action,
        horizons=horizon_texts(book.timing.get(customer_id), lang),
        contact=state.contacts().of(customer_id), assignment=assignment,
        statuses=STATUSES, agent=request.cookies.get(AGENT_COOKIE, ""),
        claimed=claimed, effect=effect_source(action) if action else None,
        chart=_chart(drivers.get(customer_id, [])), history=history,
        options=[{**o, "title": state.catalogue.get(str(o["action"])).title(lang)}
                 for o in options],
        catalogue=state.catalogue, results=RESULTS,
        outcomes=state.outcomes.list(customer_id=customer_id, limit=50), recorded=recorded,
        back=back, error=error, form=form or default_form, work_error=work_error,
        lang_link="?" + urlencode({"lang": "tr" if lang == "en" else "en", "back": back}),
    ), status_code=status_code)


@router.post("/customer/{customer_id}/outcome", include_in_schema=False)
def record_from_form(
    request: Request, state: StateDep, customer_id: str,
    action_type: Annotated[str, Form()] = "", result: Annotated[str, Form()] = "",
    recorded_by: Annotated[str, Form()] = "", action_time: Annotated[str, Form()] = "",
    cost: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "en", back: Annotated[str, Form()] = "/",
) -> Response:
    if (redirect := _guarded(request, state)) is not None:
        return redirect
    lang, back = lang_or_default(lang), safe_next(back)
    form = {"action_type": action_type, "result": result, "recorded_by": recorded_by,
            "action_time": action_time, "cost": cost, "note": note}
    try:
        when = (pd.Timestamp(action_time).tz_localize("UTC").to_pydatetime()
                if action_time else datetime.now(UTC))
        amount = float(cost) if cost.strip() else None
    except (ValueError, TypeError):
        return _customer_view(request, state, customer_id, lang, False, back,
                              "cannot read the time or the cost: use the date picker and "
                              "a number such as 12.5", form, 422)
    try:
        state.record(customer_id, action_type, result, recorded_by, when, amount, note or None)
    except DataContractError as err:
        return _customer_view(request, state, customer_id, lang, False, back, str(err), form,
                              422)
    target = f"/customer/{customer_id}?" + urlencode({"lang": lang, "recorded": 1,
                                                       "back": back})
    return RedirectResponse(target, status_code=303)


# ---------------------------------------------------------------------------- exports
def _export(request: Request, state: RetentionState, ext: str, lang: str, query: ListQuery
            ) -> Response:
    page_auth(request)
    frame = export_frame(work_view(state, state.book(), query, lang).records, lang)
    to_bytes, media_type = EXPORT_FORMATS[ext]
    filename = f"at-risk-{datetime.now(UTC).strftime('%Y%m%d-%H%M')}.{ext}"
    return Response(to_bytes(frame), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _export_responses(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    error = {"content": {"text/html": {"schema": {"type": "string"}}}}
    return {
        200: {"description": f"The rows as {what}, as an attachment.",
              "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}},
        400: {**error, "description": "A filter or query parameter is invalid (the page says "
                                      "which)."},
        401: {**error, "description": "No API key or session (CXCHURN_API_KEY is set)."},
        503: {**error, "description": "No model or online store is loaded yet."},
    }


@router.get("/retention/export.csv", tags=["retention"], response_class=Response,
            dependencies=[Depends(reject_unknown_query)],
            responses=_export_responses("text/csv", "CSV (UTF-8 with BOM)"))
def export_csv(request: Request, state: StateDep, query: PageQuery, lang: Lang = "en"
               ) -> Response:
    """The at-risk rows the page shows for the same filters, as CSV (UTF-8)."""
    return _export(request, state, "csv", lang, query)


@router.get("/retention/export.xlsx", tags=["retention"], response_class=Response,
            dependencies=[Depends(reject_unknown_query)],
            responses=_export_responses(EXPORT_FORMATS["xlsx"][1], "an Excel workbook"))
def export_xlsx(request: Request, state: StateDep, query: PageQuery, lang: Lang = "en"
                ) -> Response:
    """The at-risk rows the page shows for the same filters, as an Excel workbook."""
    return _export(request, state, "xlsx", lang, query)
