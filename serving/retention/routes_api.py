"""The retention JSON API: the ranked list, recommendations, recorded outcomes.

Same validation and auth as the scoring API: a malformed request is a 400 naming the field,
an unknown customer a 404, and with ``CXCHURN_API_KEY`` set every route needs
``Authorization: Bearer <key>``. Request and response bodies are the models of
``serving.retention.models``, so ``/docs`` lists every field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from cxchurn.errors import NotFoundError
from serving.retention.at_risk import MAX_SEARCH, display_records
from serving.retention.models import (
    ActionOption,
    AtRiskCustomer,
    AtRiskResponse,
    ErrorBody,
    Lang,
    OutcomeList,
    OutcomeRecord,
    OutcomeRequest,
    Recommendation,
    RecommendRequest,
    RecommendResponse,
    RiskBand,
    SortKey,
    StatusRequest,
    WorkList,
    WorkRequest,
    WorkState,
    action_detail,
    at_risk_row,
)
from serving.retention.policy import ranked_options
from serving.retention.provenance import option_ranges
from serving.retention.web import (
    StateDep,
    api_auth,
    change_work,
    list_query,
    reject_unknown_query,
    work_view,
)
from serving.retention.worklist import annotate

ERRORS = {
    400: "The request is malformed: a field, a value or a query parameter is wrong (named).",
    401: "No API key, or a wrong one (CXCHURN_API_KEY is set).",
    404: "The customer is not in the online store.",
    503: "No model or online store is loaded yet, or the outcome database is unreachable.",
}
WORK_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Another agent owns the customer (named)."},
    422: {"model": ErrorBody, "description": "The agent is empty or the status unknown."},
}
router = APIRouter(prefix="/retention", tags=["retention"],
                   dependencies=[Depends(api_auth), Depends(reject_unknown_query)],
                   responses={status: {"model": ErrorBody, "description": text}
                              for status, text in ERRORS.items()})


@router.get("/at-risk", response_model=AtRiskResponse)
def at_risk(
    state: StateDep, lang: Lang = "en", segment: str | None = None,
    risk_band: RiskBand | None = None,
    min_value: float | None = Query(None, ge=0), limit: int = Query(100, ge=1, le=10_000),
    sort: SortKey = "expected_net_value",
    descending: bool = True, only_actionable: bool = False,
    search: str | None = Query(None, max_length=MAX_SEARCH, description=(
        "part of a customer id or name; any case, Turkish letters or their plain Latin "
        "cousins")),
    show_contacted: bool = Query(False, description=(
        "also list customers contacted in the last CXCHURN_CONTACTED_DAYS days")),
    page: int = Query(1, ge=1, le=100_000, description="page of `limit` rows, 1 first"),
) -> AtRiskResponse:
    """Customers ranked by the expected net value of their suggested action."""
    book = state.book()
    query = list_query(segment, risk_band, min_value, limit, sort, descending, only_actionable,
                       search, show_contacted, page)
    view = work_view(state, book, query, lang)
    return AtRiskResponse(count=len(view.records), total=len(book.table),
                          matching=view.pages["total"], page=view.pages["page"],
                          pages=view.pages["pages"], hidden_contacted=view.hidden,
                          currency=state.catalogue.currency,
                          customers=[AtRiskCustomer(**at_risk_row(r)) for r in view.records])


@router.post("/recommend", response_model=RecommendResponse)
def recommend(state: StateDep, body: RecommendRequest) -> RecommendResponse:
    """The suggested action (and every other action worth its cost) for each id, each with
    where its effect comes from and the range of its expected saving."""
    book = state.book()
    index = {c: i for i, c in enumerate(book.customers["customer_id"])}
    known = [c for c in body.customer_ids if c in index]
    errors = {c: "unknown customer id: not in the online store; check the id"
              for c in body.customer_ids if c not in index}
    if not known:
        raise NotFoundError(f"none of the {len(body.customer_ids)} customer id(s) is in "
                            f"the online store; check the ids (GET /retention/at-risk "
                            f"lists known customers)")
    positions = [index[c] for c in known]
    weighed, mass = state.weighed(book).iloc[positions], book.mass.iloc[positions]
    options = option_ranges(weighed, mass, state.catalogue,
                            ranked_options(weighed, mass, state.catalogue))
    table = book.table.set_index("customer_id")
    rows = annotate(display_records(table.loc[known].reset_index(), book, state.catalogue,
                                    body.lang), state.contacts(), state.assignments.all(known))
    out = []
    for row, opts in zip(rows, options, strict=True):
        action = state.catalogue.get(row["action"]) if row["action"] else None
        out.append(Recommendation(**at_risk_row(row),
                                  action_detail=action_detail(action, body.lang),
                                  options=[ActionOption.model_validate(o) for o in opts]))
    return RecommendResponse(recommendations=out, errors=errors,
                             currency=state.catalogue.currency)


@router.post("/claim", response_model=WorkState, responses=WORK_ERRORS)
def claim(state: StateDep, body: WorkRequest) -> WorkState:
    """Take a customer: nobody else may work it until you release it (409 if taken)."""
    return WorkState.of(change_work(state, body.customer_id, "claim", body.agent))


@router.post("/release", response_model=WorkState, responses=WORK_ERRORS)
def release(state: StateDep, body: WorkRequest) -> WorkState:
    """Give a claimed customer back (only its owner may; the status stays)."""
    return WorkState.of(change_work(state, body.customer_id, "release", body.agent))


@router.post("/status", response_model=WorkState, responses=WORK_ERRORS)
def set_status(state: StateDep, body: StatusRequest) -> WorkState:
    """Set a customer's work status; claims it when nobody owns it (409 if another does)."""
    return WorkState.of(change_work(state, body.customer_id, "status", body.agent,
                                    body.status))


@router.get("/assignments", response_model=WorkList)
def assignments(state: StateDep, customer_id: str | None = Query(None, max_length=128),
                owner: str | None = Query(None, max_length=128),
                limit: int = Query(1000, ge=1, le=100_000)) -> WorkList:
    """Stored owners and statuses (of one customer, or of one owner), latest change first."""
    if customer_id is not None:
        found = [state.assignments.get(customer_id)]
    else:
        found = sorted(state.assignments.all().values(), reverse=True,
                       key=lambda a: a.updated_at or datetime.min.replace(tzinfo=UTC))
    if owner is not None:
        found = [a for a in found if a.owner == owner]
    return WorkList(count=len(found[:limit]),
                    assignments=[WorkState.of(a) for a in found[:limit]])


@router.post("/outcomes", status_code=201, response_model=OutcomeRecord,
             responses={422: {"model": ErrorBody, "description": (
                 "The outcome breaks a rule: unknown action, cost above "
                 "CXCHURN_MAX_ACTION_COST, action_time before 2000 or in the future.")}})
def record_outcome(state: StateDep, body: OutcomeRequest) -> OutcomeRecord:
    """Record an action taken and its result; kept in the outcome database."""
    when = body.action_time or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    saved = state.record(body.customer_id, body.action_type, body.result, body.recorded_by,
                         when, body.cost, body.note)
    return OutcomeRecord.of(saved)


@router.get("/outcomes", response_model=OutcomeList)
def list_outcomes(state: StateDep, customer_id: str | None = None,
                  limit: int = Query(100, ge=1, le=10_000)) -> OutcomeList:
    """Recorded outcomes, newest first (of one customer when customer_id is given)."""
    rows = state.outcomes.list(customer_id=customer_id, limit=limit)
    return OutcomeList(count=len(rows), outcomes=[OutcomeRecord.of(r) for r in rows])
