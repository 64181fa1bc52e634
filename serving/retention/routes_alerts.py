"""The alerts inbox: ``GET /alerts`` and its assign/resolve actions as JSON, and the page tab.

The JSON routes take the API key like the rest of the retention API; the page (``/inbox``,
tab "Alerts" / "Uyarılar") takes the browser session and posts plain forms, so it works
without JavaScript. "Assign to me" uses the name the person typed once, remembered in a
cookie on this browser (the project has API keys, not user accounts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from cxchurn.errors import ConfigError
from serving.alerts.store import ACTIVE, MAX_NOTE, MAX_OWNER, STATES, AlertStateError, StoredAlert
from serving.auth import AuthError
from serving.messages import lang_or_default
from serving.retention.models import ErrorBody, Lang
from serving.retention.web import (
    StateDep,
    api_auth,
    page_auth,
    page_context,
    reject_unknown_query,
    templates,
)

StateFilter = Literal["active", "open", "assigned", "resolved", "all"]
FILTERS: dict[str, tuple[str, ...]] = {"active": ACTIVE, "all": STATES,
                                       **{s: (s,) for s in STATES}}
# Names: something besides spaces, no control characters; notes may hold line breaks but no
# NUL (PostgreSQL cannot store it). Checked here so the schema says what the store accepts.
NAME = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
OPTIONAL_NAME = r"^[^\x00-\x1f\x7f]*$"
NOTE = r"^[^\x00]*[^\s\x00][^\x00]*$"
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The alert's id.")]
ME_COOKIE = "cxchurn_me"  # the name "assign to me" uses; not a credential

ERRORS = {
    400: "The request is malformed: a field or query parameter is wrong (named).",
    401: "No API key, or a wrong one (CXCHURN_API_KEY is set).",
    404: "No alert has this id.",
    409: "The alert is resolved already: it cannot be assigned or resolved again.",
    503: "The alert database (the outcome database) is unreachable.",
}
router = APIRouter(prefix="/alerts", tags=["alerts"],
                   dependencies=[Depends(api_auth), Depends(reject_unknown_query)],
                   responses={status: {"model": ErrorBody, "description": text}
                              for status, text in ERRORS.items()})
page_router = APIRouter(include_in_schema=False)


class Delivery(BaseModel):
    """The webhook delivery of one alert (``state`` None: no webhook was configured)."""

    state: Literal["pending", "delivered", "failed"] | None
    attempts: int
    last_status: int | None = Field(description="HTTP status of the last attempt.")
    last_error: str | None
    delivered_at: datetime | None


class AlertRecord(BaseModel):
    """One alert: what fired, for whom, why, by when, and where it stands."""

    id: int
    rule_id: str
    kind: str
    severity: str
    customer_id: str
    reason: str = Field(description="Why, in the requested language.")
    why: dict[str, str] = Field(description="Why, in every language.")
    details: list[str] = Field(description="What changed, as the ingest summarised it.")
    old_score: float | None
    new_score: float | None
    new_band: str | None
    state: Literal["open", "assigned", "resolved"]
    owner: str | None
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    due_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    overdue: bool
    delivery: Delivery

    @classmethod
    def of(cls, alert: StoredAlert, lang: str, now: datetime) -> AlertRecord:
        data = {k: v for k, v in alert.to_dict().items() if not k.startswith("deliver")}
        return cls(**data, reason=alert.reason(lang), overdue=alert.overdue(now),
                   delivery=Delivery(state=alert.delivery, attempts=alert.delivery_attempts,  # type: ignore[arg-type]
                                     last_status=alert.delivery_status,
                                     last_error=alert.delivery_error,
                                     delivered_at=alert.delivered_at))


class AlertList(BaseModel):
    count: int
    alerts: list[AlertRecord]


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"owner": "ayse"}})

    owner: str = Field(min_length=1, max_length=MAX_OWNER, pattern=NAME,
                       description="Who takes the alert.")


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "example": {"note": "called back, offered a voucher", "by": "ayse"}})

    note: str = Field(min_length=1, max_length=MAX_NOTE, pattern=NOTE,
                      description="What was done.")
    by: str | None = Field(None, max_length=MAX_OWNER, pattern=OPTIONAL_NAME,
                           description="Who resolved it.")


# ---------------------------------------------------------------------------- JSON API
@router.get("", response_model=AlertList)
def list_alerts(state: StateDep,
                status: Annotated[StateFilter, Query(alias="state")] = "active",
                customer_id: str | None = None, lang: Lang = "en",
                limit: int = Query(500, ge=1, le=10_000)) -> AlertList:
    """Alerts in a state (``active``: open and assigned, soonest due first)."""
    rows = state.alerts.store.list(FILTERS[status], customer_id=customer_id, limit=limit)
    now = datetime.now(UTC)
    return AlertList(count=len(rows), alerts=[AlertRecord.of(a, lang, now) for a in rows])


@router.post("/{alert_id}/assign", response_model=AlertRecord)
def assign_alert(state: StateDep, alert_id: AlertId, body: AssignRequest, lang: Lang = "en"
                 ) -> AlertRecord:
    """Give an open or assigned alert to someone."""
    alert = state.alerts.store.assign(alert_id, body.owner)
    return AlertRecord.of(alert, lang, datetime.now(UTC))


@router.post("/{alert_id}/resolve", response_model=AlertRecord)
def resolve_alert(state: StateDep, alert_id: AlertId, body: ResolveRequest, lang: Lang = "en"
                  ) -> AlertRecord:
    """Close an alert with what was done; the rule may fire again for this customer."""
    alert = state.alerts.store.resolve(alert_id, body.note, body.by)
    return AlertRecord.of(alert, lang, datetime.now(UTC))


# ---------------------------------------------------------------------------- the page
def _signed_in(request: Request) -> Response | None:
    try:
        page_auth(request)
    except AuthError:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return None


def _inbox(request: Request, state: Any, lang: str, show: str, error: str | None = None,
           status_code: int = 200) -> Response:
    show = show if show in ("active", "all") else "active"
    alerts = state.alerts.store.list(FILTERS[show])
    now = datetime.now(UTC)
    rows = [{"alert": a, "reason": a.reason(lang), "overdue": a.overdue(now)} for a in alerts]
    return templates().TemplateResponse(request, "alerts.html", page_context(
        request, state, lang, rows=rows, show=show, error=error,
        overdue=sum(r["overdue"] for r in rows), me=unquote(request.cookies.get(ME_COOKIE, "")),
        lang_link="?" + urlencode({"lang": "tr" if lang == "en" else "en", "show": show}),
    ), status_code=status_code)


@page_router.get("/inbox")
def inbox_page(request: Request, state: StateDep, lang: str = "en", show: str = "active"
               ) -> Response:
    if (redirect := _signed_in(request)) is not None:
        return redirect
    return _inbox(request, state, lang_or_default(lang), show)


def _after(request: Request, state: Any, lang: str, show: str, action: Any) -> Response:
    """Run a form's action; back to the inbox, or the inbox with the error (4xx)."""
    lang = lang_or_default(lang)
    try:
        action()
    except (ConfigError, AlertStateError) as err:
        return _inbox(request, state, lang, show, str(err), err.http_status)
    return RedirectResponse("/inbox?" + urlencode({"lang": lang, "show": show}),
                            status_code=303)


@page_router.post("/inbox/{alert_id}/assign")
def assign_from_page(request: Request, state: StateDep, alert_id: AlertId,
                     owner: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = "en",
                     show: Annotated[str, Form()] = "active") -> Response:
    if (redirect := _signed_in(request)) is not None:
        return redirect
    response = _after(request, state, lang, show,
                      lambda: state.alerts.store.assign(alert_id, owner))
    if response.status_code == 303:
        response.set_cookie(ME_COOKIE, quote(owner.strip()[:MAX_OWNER]), max_age=365 * 86400,
                            httponly=True, samesite="strict")
    return response


@page_router.post("/inbox/{alert_id}/resolve")
def resolve_from_page(request: Request, state: StateDep, alert_id: AlertId,
                      note: Annotated[str, Form()] = "", by: Annotated[str, Form()] = "",
                      lang: Annotated[str, Form()] = "en",
                      show: Annotated[str, Form()] = "active") -> Response:
    if (redirect := _signed_in(request)) is not None:
        return redirect
    return _after(request, state, lang, show,
                  lambda: state.alerts.store.resolve(alert_id, note, by or None))
