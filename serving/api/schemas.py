"""Request and response models of the scoring API (pydantic, documented in the OpenAPI).

A request names customers (features looked up in the online store) or carries feature rows,
either as a list of objects or, cheaper for big batches, as a table of column names plus row
lists (pandas' 'split' orient, the same shape ``mlflow models serve`` takes as
``dataframe_split``). Structural limits (one input kind, 1..max batch items, top_k range,
lang) are declared here; checks that need the model's feature schema live in
``serving/api/payload.py``. The batch limit is ``Settings.max_batch`` (``CXCHURN_MAX_BATCH``):
the service sets it when it starts (``set_max_batch``) and each request is checked against
it when it is validated (a ``max_batch`` in pydantic's validation context overrides it).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.config import JsonValue

from cxchurn.settings import DEFAULT_MAX_BATCH

_max_batch = DEFAULT_MAX_BATCH


def set_max_batch(limit: int) -> None:
    """The most customer ids or rows a request may carry from now on (the service's start)."""
    global _max_batch
    if limit < 1:
        raise ValueError(f"the batch limit must be >= 1, got {limit}")
    _max_batch = limit


def max_batch() -> int:
    """The batch limit requests are checked against now."""
    return _max_batch

# Cells are checked against the model's schema in serving/api/payload.py (numbers for numeric
# features, text for categorical ones, null for no data); typing them ``Any`` here lets the
# JSON parser skip a per-cell union check that tripled the parse time of a 1,000-row batch.
Cell = Annotated[Any, Field(description="A number, text (categorical features) or null.")]
CustomerId = Annotated[str, Field(min_length=1, max_length=200)]

EXAMPLE_IDS: list[JsonValue] = ["C00000002", "C00000007"]
EXAMPLE_ROW: dict[str, JsonValue] = {
    "customer_id": "C00000002", "tenure_days": 400.0, "plan": "basic",
    "late_deliveries_90d": 2.0, "nps_last": None}


class Table(BaseModel):
    """Rows as column names + one list of values per row (null = no data)."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=1, description="Feature names (plus optional "
                               "customer_id), each once, in the order of the row values.")
    data: list[list[Cell]] = Field(min_length=1, description="One list of values per row.")


class ScoreInput(BaseModel):
    """Exactly one of customer_ids, rows or table."""

    model_config = ConfigDict(extra="forbid")

    customer_ids: list[CustomerId] | None = Field(
        default=None, min_length=1,
        description="Customers to score from the online store.",
        json_schema_extra={"example": EXAMPLE_IDS})
    rows: list[dict[str, Cell]] | None = Field(
        default=None, min_length=1,
        description="Feature rows as objects: every model feature (GET /metadata lists them), "
                    "optional customer_id, null for no data.",
        json_schema_extra={"example": [EXAMPLE_ROW]})
    table: Table | None = Field(default=None, description="Feature rows as a table "
                                "(cheapest for big batches).")

    @model_validator(mode="after")
    def _one_input(self) -> ScoreInput:
        given = [k for k in ("customer_ids", "rows", "table") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'customer_ids', 'rows' or 'table'; got "
                f"{given or 'none of them'}")
        return self

    @model_validator(mode="after")
    def _within_batch_limit(self, info: ValidationInfo) -> ScoreInput:
        limit = (info.context or {}).get("max_batch") or _max_batch
        sizes = {"customer_ids": self.customer_ids, "rows": self.rows,
                 "table.data": self.table.data if self.table is not None else None}
        for name, items in sizes.items():
            if items is not None and len(items) > limit:
                raise ValueError(
                    f"{name}: list should have at most {limit} items (CXCHURN_MAX_BATCH), not "
                    f"{len(items)}; split the request into batches")
        return self


class Timing(BaseModel):
    """When the customer is likely to leave and by when to act (``serving/timing.py``)."""

    horizons: dict[str, float] | None = Field(default=None, description=(
        "P(churn within N days) per horizon in days, e.g. {\"30\": 0.08, \"60\": 0.15, "
        "\"90\": 0.21}; never lower for a longer horizon. They come from the champion's "
        "horizon model (trained on cutoffs whose 90 days were observed), so the 30-day value "
        "can differ a little from p_churn. Null when the served model has no horizon model "
        "(trained before it existed)."))
    leave_within_days: int | None = Field(default=None, description=(
        "The shortest horizon whose probability reaches the high risk band; null when none "
        "does (or no horizon model)."))
    act_by: date | None = Field(default=None, description=(
        "Latest date to act: the day cumulative risk is expected to reach the high risk band, "
        "minus a 7-day lead time, never before the date the features describe (the online "
        "store's cutoff for ids, today for posted rows). Null when leave_within_days is."))


class Score(Timing):
    customer_id: str | None = Field(description="The id (null for rows posted without one).")
    row: int = Field(description="Position of the customer/row in the request.")
    p_churn: float = Field(description="Calibrated probability of churn within the horizon.")
    risk_band: Literal["low", "medium", "high"]


class ItemError(BaseModel):
    customer_id: str
    row: int
    error: str


class ItemWarning(BaseModel):
    row: int = Field(description="Position of the posted row (-1: a summary line).")
    feature: str
    warning: str


class ModelRef(BaseModel):
    name: str
    version: str | None
    source: str | None = Field(description="'registry', or 'cache' when the registry could not "
                               "be reached and the last good model is served.")


class ScoreOutput(BaseModel):
    model: ModelRef
    results: list[Score]
    errors: list[ItemError] = Field(description="One entry per unknown customer id; the rest "
                                    "of the batch is still scored.")
    warnings: list[ItemWarning] = Field(default_factory=list, description=(
        "Posted rows only: cells whose category the model never saw (scored as missing)."))


class Driver(BaseModel):
    feature: str
    value: float | str | None = Field(description="The customer's value (null = no data).")
    shap: float = Field(description="TreeSHAP contribution in log-odds.")
    direction: Literal["raises", "lowers"]
    family: str
    reason: str = Field(description="The driver in plain words, in the requested language.")


class Explanation(Timing):
    customer_id: str | None
    row: int
    p_churn: float
    risk_band: Literal["low", "medium", "high"]
    base_value: float = Field(description="SHAP expected value (log-odds); base_value plus "
                              "all SHAP values equals the model's raw score.")
    drivers: list[Driver]


class ExplainOutput(BaseModel):
    model: ModelRef
    lang: str
    results: list[Explanation]
    errors: list[ItemError]
    warnings: list[ItemWarning] = Field(default_factory=list, description=(
        "Posted rows only: cells whose category the model never saw (scored as missing)."))


class ReloadOutput(BaseModel):
    ready: bool
    model: dict[str, Any] | None
    online_store: dict[str, Any]
