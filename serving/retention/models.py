"""Request and response bodies of the retention JSON API, so ``/docs`` describes every field.

Field names and values are the API's contract (the tests, the page and the team's scripts read
them); the routes build these models from ``display_records`` rows with ``at_risk_row``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from serving.retention.assignments import STATUSES, Assignment
from serving.retention.at_risk import SORTABLE
from serving.retention.catalogue import Action
from serving.retention.outcomes import RESULTS, Outcome
from serving.retention.provenance import effect_source

Lang = Literal["en", "tr"]
RiskBand = Literal["low", "medium", "high"]
SortKey = Literal[SORTABLE]  # type: ignore[valid-type]
MAX_IDS = 1000


# ---------------------------------------------------------------------------- requests
class RecommendRequest(BaseModel):
    """Customers to get an action for."""

    model_config = ConfigDict(extra="forbid")
    customer_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        min_length=1, max_length=MAX_IDS, description="customer ids from the online store")
    lang: Lang = "en"


class OutcomeRequest(BaseModel):
    """An action the retention team took and what happened."""

    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=128)
    action_type: str = Field(min_length=1, max_length=64,
                             description="an action name from the catalogue")
    result: Literal[RESULTS] = Field(description="what happened")  # type: ignore[valid-type]
    recorded_by: str = Field(min_length=1, max_length=128, description="who took the action")
    action_time: datetime | None = Field(None, description=(
        "when (ISO 8601, UTC unless it carries a zone), from 2000-01-01 to one day ahead of "
        "now; default now"))
    cost: float | None = Field(None, ge=0, allow_inf_nan=False, description=(
        "a finite number from 0 to CXCHURN_MAX_ACTION_COST (default 10000); default: the "
        "catalogue's cost"))
    note: str | None = Field(None, max_length=2000)


class WorkRequest(BaseModel):
    """An agent claiming, releasing or setting the status of a customer."""

    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=128)
    agent: str = Field(min_length=1, max_length=128, description="who acts (name or login)")


class StatusRequest(WorkRequest):
    """An agent setting a customer's work status (claims an unowned customer)."""

    status: Literal[STATUSES] = Field(  # type: ignore[valid-type]
        description="new, contacted, won_back or lost")


# ---------------------------------------------------------------------------- responses
class ErrorBody(BaseModel):
    """Every 4xx/5xx of the retention API: what went wrong and how to fix it."""

    error: str = Field(description="the problem and what to change")
    type: str = Field(description="the error class, e.g. NotFoundError")


class EffectSource(BaseModel):
    """Where an action's effect comes from, and its interval."""

    source: Literal["assumed", "learned"] = Field(description=(
        "assumed: the shipped catalogue's value, not tested on this company's customers; "
        "learned: estimated from this company's randomised outcomes (learn-effects)"))
    treated: int = Field(description="randomly treated customers the estimate rests on "
                                     "(0 when assumed)")
    effect: float = Field(description="share of the answered families' log-odds removed")
    effect_95: list[float] = Field(description="[low, high]: the 95% interval when learned; "
                                               "the prior's +-1.96 sd (0.5) when assumed")
    general_effect: float = Field(description="share of the other experience log-odds removed")
    general_95: list[float] = Field(description="[low, high], as effect_95")


class Contact(BaseModel):
    """Contact details from the customers table (columns named in CXCHURN_CONTACT_COLUMNS)."""

    name: str | None = Field(None, description="the customer's name, as the table says")
    phone: str | None = Field(None, description="phone number, as the table says")
    email: str | None = Field(None, description="e-mail address, as the table says")
    channel: str | None = Field(None, description="preferred channel, as the table says")


class WorkState(BaseModel):
    """Who works a customer and how far they got."""

    customer_id: str = Field(description="customer id in the online store")
    owner: str | None = Field(description="the agent who claimed it; null: free to claim")
    status: str = Field(description="new, contacted, won_back or lost")
    updated_at: str | None = Field(description="last change (ISO 8601)")
    updated_by: str | None = Field(description="who made the last change")
    contacted_at: str | None = Field(description="when a status last said somebody spoke to "
                                                 "the customer (ISO 8601)")

    @classmethod
    def of(cls, assignment: Assignment) -> WorkState:
        return cls(**assignment.to_dict())


class WorkList(BaseModel):
    """Stored owners and statuses."""

    count: int = Field(description="assignments returned")
    assignments: list[WorkState] = Field(description="owner and status per customer")


class AtRiskCustomer(BaseModel):
    """One row of the ranked at-risk list."""

    customer_id: str = Field(description="customer id in the online store")
    segment: str = Field(description="customer segment")
    p_churn: float = Field(description="calibrated probability of churning")
    risk_band: str = Field(description="low, medium or high (CXCHURN_RISK_BANDS)")
    value: float = Field(description="customer value the policy weighs, in `currency`")
    action: str | None = Field(description="suggested action (catalogue name); null when no "
                                           "action is worth its cost")
    action_title: str | None = Field(description="the suggested action's title in `lang`")
    cost: float = Field(description="cost of the suggested action, in `currency`")
    expected_saved: float = Field(description="expected drop in the churn probability the "
                                              "action brings")
    expected_saved_low: float = Field(description="expected_saved at the low end of the "
                                                  "action's effect interval")
    expected_saved_high: float = Field(description="expected_saved at the high end")
    expected_net_value: float = Field(description="expected value saved minus the cost, in "
                                                  "`currency`; the list's default order")
    effect_source: EffectSource | None = Field(description="where the suggested action's "
                                                           "effect comes from")
    status: str = Field(description="selected (contact), over_budget, no_positive_action or "
                                    "holdout (control group: do not contact)")
    rank: int = Field(description="position in the plan, 1 first")
    reasons: list[str] = Field(description="top risk-raising drivers in plain words, in `lang`")
    contact: Contact = Field(description="contact details the customers table carries")
    owner: str | None = Field(description="agent working the customer; null: nobody")
    work_status: str = Field(description="new, contacted, won_back or lost")


class AtRiskResponse(BaseModel):
    """A filtered, sorted slice of the at-risk list."""

    count: int = Field(description="rows returned")
    total: int = Field(description="customers in the whole list")
    matching: int = Field(description="customers the filters keep (all pages)")
    page: int = Field(description="this page, 1 first (clamped to the last page)")
    pages: int = Field(description="pages of `limit` rows")
    hidden_contacted: int = Field(description="customers left out because they were "
                                              "contacted lately (show_contacted=true shows "
                                              "them)")
    currency: str = Field(description="ISO code of every amount (the action catalogue's)")
    customers: list[AtRiskCustomer] = Field(description="the rows, in the requested order")


class ActionDetail(BaseModel):
    """The suggested action as the agent uses it."""

    name: str = Field(description="catalogue name")
    title: str = Field(description="title in `lang`")
    script: str = Field(description="what to say, in `lang`")
    channel: str = Field(description="how to reach the customer")
    cost: float = Field(description="cost per customer, in `currency`")
    effect_source: EffectSource = Field(description="where the action's effect comes from")


class ActionOption(BaseModel):
    """An action worth its cost for one customer."""

    action: str = Field(description="catalogue name")
    expected_saved: float = Field(description="expected drop in the churn probability")
    expected_saved_low: float = Field(description="at the low end of the effect interval")
    expected_saved_high: float = Field(description="at the high end of the effect interval")
    expected_net_value: float = Field(description="expected value saved minus the cost")
    effect_source: EffectSource = Field(description="where the action's effect comes from")


class Recommendation(AtRiskCustomer):
    """A customer's row of the list plus the action's details and every alternative."""

    action_detail: ActionDetail | None = Field(description="the suggested action; null when "
                                                           "none is worth its cost")
    options: list[ActionOption] = Field(description="every action worth its cost, best "
                                                    "expected net value first (no budget)")


class RecommendResponse(BaseModel):
    """Recommendations for the known ids; the unknown ones in ``errors``."""

    recommendations: list[Recommendation] = Field(description="in the order of the request")
    errors: dict[str, str] = Field(description="customer id -> why it got no recommendation")
    currency: str = Field(description="ISO code of every amount")


class OutcomeRecord(BaseModel):
    """A recorded action and its result."""

    customer_id: str = Field(description="customer id in the online store")
    action_type: str = Field(description="catalogue action name")
    action_time: str = Field(description="when the action was taken (ISO 8601)")
    result: str = Field(description=f"one of {', '.join(RESULTS)}")
    recorded_by: str = Field(description="who took the action")
    cost: float | None = Field(description="what the action cost")
    note: str | None = Field(description="free text")
    id: int | None = Field(description="row id in the outcome database")
    recorded_at: str | None = Field(description="when it was recorded (ISO 8601)")

    @classmethod
    def of(cls, outcome: Outcome) -> OutcomeRecord:
        return cls(**outcome.to_dict())


class OutcomeList(BaseModel):
    """Recorded outcomes, newest first."""

    count: int = Field(description="outcomes returned")
    outcomes: list[OutcomeRecord] = Field(description="newest first")


# ---------------------------------------------------------------------------- builders
def at_risk_row(r: dict[str, Any]) -> dict[str, Any]:
    """A ``display_records`` row as the API's fields (plain floats, money to the cent)."""
    return {"customer_id": r["customer_id"], "segment": r["segment"],
            "p_churn": float(r["p_churn"]), "risk_band": r["risk_band"],
            "value": round(float(r["value"]), 2), "action": r["action"],
            "action_title": r["action_title"], "cost": float(r["cost"]),
            "expected_saved": float(r["expected_saved"]),
            "expected_saved_low": float(r["expected_saved_low"]),
            "expected_saved_high": float(r["expected_saved_high"]),
            "expected_net_value": round(float(r["expected_net_value"]), 2),
            "effect_source": r.get("effect_source"),
            "status": r["status"], "rank": int(r["rank"]), "reasons": r["reasons"],
            "contact": Contact(**r.get("contact", {})), "owner": r.get("owner"),
            "work_status": r.get("work_status", "new")}


def action_detail(action: Action | None, lang: str) -> ActionDetail | None:
    if action is None:
        return None
    return ActionDetail(name=action.name, title=action.title(lang), script=action.script(lang),
                        channel=action.channel, cost=action.cost,
                        effect_source=EffectSource(**effect_source(action)))
