"""Request and response bodies of the retention JSON API, so ``/docs`` describes every field.

Field names and values are the API's contract (the tests, the page and the team's scripts read
them); the routes build these models from ``display_records`` rows with ``at_risk_row``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from serving.retention.at_risk import SORTABLE
from serving.retention.catalogue import Action
from serving.retention.outcomes import RESULTS, Outcome

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


# ---------------------------------------------------------------------------- responses
class ErrorBody(BaseModel):
    """Every 4xx/5xx of the retention API: what went wrong and how to fix it."""

    error: str = Field(description="the problem and what to change")
    type: str = Field(description="the error class, e.g. NotFoundError")


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
    expected_net_value: float = Field(description="expected value saved minus the cost, in "
                                                  "`currency`; the list's default order")
    status: str = Field(description="selected (contact), over_budget, no_positive_action or "
                                    "holdout (control group: do not contact)")
    rank: int = Field(description="position in the plan, 1 first")
    reasons: list[str] = Field(description="top risk-raising drivers in plain words, in `lang`")


class AtRiskResponse(BaseModel):
    """A filtered, sorted slice of the at-risk list."""

    count: int = Field(description="rows returned")
    total: int = Field(description="customers in the whole list")
    currency: str = Field(description="ISO code of every amount (the action catalogue's)")
    customers: list[AtRiskCustomer] = Field(description="the rows, in the requested order")


class ActionDetail(BaseModel):
    """The suggested action as the agent uses it."""

    name: str = Field(description="catalogue name")
    title: str = Field(description="title in `lang`")
    script: str = Field(description="what to say, in `lang`")
    channel: str = Field(description="how to reach the customer")
    cost: float = Field(description="cost per customer, in `currency`")


class ActionOption(BaseModel):
    """An action worth its cost for one customer."""

    action: str = Field(description="catalogue name")
    expected_saved: float = Field(description="expected drop in the churn probability")
    expected_net_value: float = Field(description="expected value saved minus the cost")


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
            "expected_net_value": round(float(r["expected_net_value"]), 2),
            "status": r["status"], "rank": int(r["rank"]), "reasons": r["reasons"]}


def action_detail(action: Action | None, lang: str) -> ActionDetail | None:
    if action is None:
        return None
    return ActionDetail(name=action.name, title=action.title(lang), script=action.script(lang),
                        channel=action.channel, cost=action.cost)
