"""The body of ``GET /kpis``: KPI rows per month and group, each value with its interval and n.

Definitions are those of ``features.kpis`` (stated once there); ``kpi_rows`` only renames the
table's columns into nested values, so every number equals a ``kpi_table`` row.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field

from features.kpis import MONTH

By = Literal["month", "segment", "region", "channel", "touchpoint"]
# KPI name -> (value, interval low, interval high, n, small flag) columns of kpi_table
KPI_COLUMNS: dict[str, tuple[str, str, str, str, str]] = {
    "nps": ("nps", "nps_ci_low", "nps_ci_high", "n_nps", "small_nps"),
    "csat": ("csat", "csat_ci_low", "csat_ci_high", "n_csat", "small_csat"),
    "ces": ("ces_mean", "ces_ci_low", "ces_ci_high", "n_ces", "small_ces"),
    "high_effort": ("high_effort", "high_effort_ci_low", "high_effort_ci_high", "n_ces",
                    "small_ces"),
    "response_rate": ("response_rate", "response_ci_low", "response_ci_high", "n_active",
                      "small_response"),
    "churn_rate": ("churn_rate", "churn_ci_low", "churn_ci_high", "n_at_risk", "small_churn"),
}


class KpiValue(BaseModel):
    """One KPI in one cell: the value, its two-sided 95% interval and the sample behind it."""

    value: float | None = Field(description="the KPI; null when the cell has no answers")
    ci_low: float | None = Field(description="lower end of the 95% interval")
    ci_high: float | None = Field(description="upper end of the 95% interval")
    n: int | None = Field(description="answers (NPS, CSAT, CES), active customers (response "
                                      "rate) or customers at risk (churn rate) in the cell; "
                                      "null where the KPI has no meaning for the grouping "
                                      "(response and churn by channel or touchpoint)")
    small: bool = Field(description="n < min_n: shown greyed on the page, read with care")


class KpiRow(BaseModel):
    """Every KPI of one month (and one level of ``by``)."""

    month: str = Field(description="calendar month, YYYY-MM (UTC)")
    group: str | None = Field(description="the level of `by` (e.g. the segment); null when "
                                          "by=month")
    nps: KpiValue = Field(description="Net Promoter Score in points, -100..100")
    csat: KpiValue = Field(description="share of CSAT answers scoring 4 or 5, 0..1")
    ces: KpiValue = Field(description="mean Customer Effort Score, 1..7 (higher = harder)")
    high_effort: KpiValue = Field(description="share of CES answers >= 5, 0..1")
    response_rate: KpiValue = Field(description="share of active customers who answered a "
                                                "survey in the month, 0..1")
    churn_rate: KpiValue = Field(description="share of customers at risk at the month start "
                                              "who churned in the month, 0..1")
    promoters: float | None = Field(description="share of NPS answers scoring 9-10")
    passives: float | None = Field(description="share of NPS answers scoring 7-8")
    detractors: float | None = Field(description="share of NPS answers scoring 0-6")


class KpiResponse(BaseModel):
    """CX KPIs per month and group, computed from the files behind the online store."""

    by: By = Field(description="the grouping besides the month")
    segment: str | None = Field(description="the one segment the rows cover, if filtered")
    min_n: int = Field(description="cells with n below this are flagged small")
    churn: str = Field(description="churn definition: contractual (cancellations)")
    latest_complete_month: str | None = Field(
        description="the last month that ends before the data does (YYYY-MM)")
    labels: dict[str, str] = Field(description="KPI name -> its label in the asked language")
    count: int = Field(description="number of rows")
    rows: list[KpiRow] = Field(description="one row per month and group, month first")


def finite_or_none(value: Any) -> float | None:
    """A float for JSON and the page; None for NA, NaN or infinity."""
    return None if value is None or pd.isna(value) or not math.isfinite(float(value)) \
        else float(value)


def kpi_value(row: pd.Series, kpi: str) -> KpiValue:
    value, low, high, n, small = KPI_COLUMNS[kpi]
    return KpiValue(value=finite_or_none(row[value]), ci_low=finite_or_none(row[low]),
                    ci_high=finite_or_none(row[high]),
                    n=None if pd.isna(row[n]) else int(row[n]), small=bool(row[small]))


def kpi_rows(table: pd.DataFrame, by: str) -> list[KpiRow]:
    """The API's rows of a ``kpi_table`` grouped by (month[, by])."""
    rows = []
    for _, row in table.iterrows():
        fields: dict[str, Any] = {kpi: kpi_value(row, kpi) for kpi in KPI_COLUMNS}
        fields.update({part: finite_or_none(row[part])
                       for part in ("promoters", "passives", "detractors")})
        rows.append(KpiRow(month=row[MONTH].strftime("%Y-%m"),
                           group=None if by == MONTH else str(row[by]), **fields))
    return rows
