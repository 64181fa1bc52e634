"""``POST /events``: events in the data contract's shape in, new scores and reasons out.

Mounted with the retention app (same auth, same ``{"error", "type"}`` error bodies). A body
that is not a list of event objects is a 400; more events than ``CXCHURN_MAX_EVENTS`` a 413
naming the limit; no model, store or history a 503 saying which. Everything about one event
(a bad value, an unknown customer, a field the contract lacks) is that event's own entry in
``errors`` and the others are still stored: the answer is a 200 whenever the request itself
was well formed.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonValue

from serving.api.schemas import Driver
from serving.live.feed import LiveFeed, LiveUnavailableError
from serving.retention.models import ErrorBody
from serving.retention.web import api_auth, reject_unknown_query

EXAMPLE_EVENT: dict[str, JsonValue] = {"event_id": "crm-20250701-0001", "customer_id": "C00000002",
                 "event_time": "2025-07-01T09:30:00+03:00", "event_type": "complaint",
                 "channel": "call_centre"}


class PostedEvent(BaseModel):
    """One event in the contract's shape; every field is checked by the contract, per event."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": EXAMPLE_EVENT})

    event_id: Any = Field(None, description="Your id of the event (retries with the same id "
                          "store it once); left out: a hash of the event's content.")
    customer_id: Any = Field(None, description="A customer the service knows.")
    event_time: Any = Field(None, description="ISO 8601; naive = UTC, offsets converted.")
    event_type: Any = Field(None, description="order, delivery, complaint, survey_nps, ... "
                            "(features/schema.py EVENT_TYPES).")
    channel: Any = Field(None, description="web, app, store, call_centre, email or chat.")
    amount: Any = Field(None, description="Number or null (order value, refund, price change).")
    score: Any = Field(None, description="Survey answer: NPS 0-10, CSAT 1-5, CES 1-7.")
    duration: Any = Field(None, description="Delivery delay in days, ticket hours, minutes.")
    text: Any = Field(None, description="Free-text feedback, any language.")


class EventsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "example": {"events": [EXAMPLE_EVENT], "lang": "en"}})

    events: list[PostedEvent] = Field(min_length=1, description="One or many events.")
    lang: Literal["en", "tr"] = Field("en", description="Language of summaries and reasons.")


class EventResult(BaseModel):
    index: int = Field(description="Position of the event in the request.")
    event_id: str = Field(description="The id the event is stored under.")
    customer_id: str
    status: Literal["stored", "duplicate"] = Field(description="'duplicate': already stored "
                                                   "(a retry); not counted again.")


class EventError(BaseModel):
    index: int = Field(description="Position of the event in the request.")
    column: str = Field(description="The field at fault.")
    reason: str = Field(description="Why the event was refused (the contract's reason).")
    fix: str = Field(description="What to change.")


class CustomerUpdate(BaseModel):
    customer_id: str
    status: Literal["updated", "not_eligible"] = Field(
        description="'not_eligible': no longer scored at the cutoff (e.g. cancelled).")
    cutoff: str = Field(description="The instant the features are computed at.")
    old_p_churn: float | None = Field(description="Null for a customer not scored before.")
    new_p_churn: float | None
    old_risk_band: Literal["low", "medium", "high"] | None
    new_risk_band: Literal["low", "medium", "high"] | None
    new_events: int = Field(description="Events of this request stored for the customer.")
    summary: str = Field(description="e.g. 'risk 0.08 -> 0.31: Complaint today, NPS survey "
                         "score 2 today', in the requested language.")
    what_changed: list[str] = Field(description="The new events and the drivers that moved.")
    drivers: list[Driver] = Field(description="The new top SHAP drivers with reasons.")


class IngestResponse(BaseModel):
    stored: int
    duplicates: int
    rejected: int
    events: list[EventResult]
    errors: list[EventError] = Field(description="One entry per refused event; the others "
                                     "are stored.")
    customers: list[CustomerUpdate]


ERRORS = {
    400: "The body is not a list of event objects, or lang is not en/tr.",
    401: "No API key, or a wrong one (CXCHURN_API_KEY is set).",
    413: "More events than CXCHURN_MAX_EVENTS in one request: split it.",
    503: "No model, online store or event history is loaded, or the event database is "
         "unreachable (the message says which).",
}
router = APIRouter(tags=["events"], dependencies=[Depends(api_auth),
                                                  Depends(reject_unknown_query)],
                   responses={status: {"model": ErrorBody, "description": text}
                              for status, text in ERRORS.items()})


def get_feed(request: Request) -> LiveFeed:
    feed = getattr(request.app.state, "live", None)
    if feed is None:
        raise LiveUnavailableError("live ingestion is not configured in this app")
    return feed


@router.post("/events", response_model=IngestResponse)
def post_events(request: Request, body: EventsRequest) -> IngestResponse:
    """Store events durably, recompute the customers' features and answer their new scores."""
    items = [e.model_dump(exclude_unset=True) for e in body.events]
    out = get_feed(request).ingest(items, body.lang)
    return IngestResponse.model_validate(out)
