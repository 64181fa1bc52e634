"""``GET /drivers``: the key drivers of churn risk and NPS / CSAT, as ``cxchurn drivers`` wrote.

Read from ``<home>/reports/drivers/drivers.json`` (``drivers_view``), the same file the
Experience tab's Drivers section shows; a missing file is a 404 that says which command makes
it. API auth (``Authorization: Bearer <key>`` when a key is set) and the API's error bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from serving.messages import section
from serving.retention.drivers_view import load_drivers
from serving.retention.models import ErrorBody, Lang
from serving.retention.web import StateDep, api_auth

router = APIRouter()


class ChurnDriver(BaseModel):
    """One driver family at one cutoff of the churn model's scoring population."""

    cutoff: str = Field(description="feature cutoff, YYYY-MM-DD")
    family: str = Field(description="driver family (features.families)")
    n: int = Field(description="customers scored at the cutoff")
    share: float | None = Field(description="share of the total |SHAP| mass, 0..1")
    share_ci_low: float | None = Field(description="95% bootstrap interval, low end")
    share_ci_high: float | None = Field(description="95% bootstrap interval, high end")
    raising_share: float | None = Field(description="share of the risk-raising SHAP mass")
    mean_abs_shap: float | None = Field(description="mean |SHAP| per customer, log-odds")
    mean_shap: float | None = Field(description="mean signed SHAP per customer, log-odds")


class SurveyFamily(BaseModel):
    """One experience family's weight in a survey's answers."""

    rank: int = Field(description="1 = the family that moves the answers most")
    family: str = Field(description="driver family")
    weight: float | None = Field(description="variance explained (chance-adjusted), 0..1")
    share: float | None = Field(description="share of the explained variance, 0..1")
    share_ci_low: float | None = Field(description="95% bootstrap interval (by customer)")
    share_ci_high: float | None = Field(description="95% bootstrap interval (by customer)")
    top_feature: str | None = Field(description="the family's strongest feature")
    direction: str | None = Field(description="'lowers': more of that feature goes with a "
                                              "lower score; 'raises': a higher one")
    label: str = Field(description="the family's name in `lang`")


class SurveyDrivers(BaseModel):
    """A survey's driver analysis (relative weights, Johnson 2000)."""

    survey: str = Field(description="nps or csat")
    n_answers: int = Field(description="answers analysed")
    n_customers: int = Field(description="customers who gave them")
    r2: float | None = Field(description="variance of the answers the experiences explain")
    r2_ci_low: float | None = Field(description="95% bootstrap interval of r2")
    r2_ci_high: float | None = Field(description="95% bootstrap interval of r2")
    families: list[SurveyFamily] = Field(description="experience families, strongest first")


class DriversResponse(BaseModel):
    """What ``cxchurn drivers`` computed, when, for which model and period."""

    generated_at: str | None = Field(description="when the analysis ran (UTC, ISO 8601)")
    model_uri: str | None = Field(description="the churn model explained; null without it")
    period: dict[str, str | None] = Field(description="months of survey answers analysed")
    churn: list[ChurnDriver] = Field(description="one row per (cutoff, family); empty when "
                                                 "the command ran with --no-churn")
    surveys: list[SurveyDrivers] = Field(description="one driver analysis per survey")


@router.get("/drivers", response_model=DriversResponse, tags=["drivers"],
            dependencies=[Depends(api_auth)],
            responses={s: {"model": ErrorBody} for s in (400, 401, 404)})
def drivers(state: StateDep, lang: Lang = "en") -> DriversResponse:
    """Key drivers: each family's share of the churn model's SHAP mass per cutoff, and of the
    explained variance of NPS and CSAT answers, with 95% bootstrap intervals."""
    doc = load_drivers(Path(state.runtime.home))
    labels = section("family", lang)
    surveys: list[dict[str, Any]] = []
    for survey in doc.get("surveys") or []:
        families = [{**f, "label": labels.get(f["family"], f["family"])}
                    for f in survey.get("families") or []]
        surveys.append({**survey, "families": families})
    return DriversResponse.model_validate({
        "generated_at": doc.get("generated_at"), "model_uri": doc.get("model_uri"),
        "period": doc.get("period") or {}, "churn": doc.get("churn") or [],
        "surveys": surveys})
