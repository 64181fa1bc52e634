"""Customer-experience KPIs: ``GET /kpis`` (JSON) and the page's Experience tab.

Both read the tables of ``kpi_data`` (``features.kpis`` over the files behind the online store,
cached per files' mtime and parameters), so the tab and the API always agree. ``/kpis`` has
the API's auth (``Authorization: Bearer <key>`` when a key is set) and its error bodies; the
tab has the page's sign-in. A filter on one segment slices a table grouped by segment too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from features.kpis import MONTH
from serving.auth import AuthError
from serving.messages import lang_or_default, section
from serving.retention import kpi_view
from serving.retention.drivers_view import drivers_section
from serving.retention.kpi_data import (
    GROUPS,
    SEGMENT,
    KpiCache,
    KpiParams,
    group_keys,
    kpi_files,
    latest_complete_month,
    select_segment,
)
from serving.retention.kpi_models import KPI_COLUMNS, By, KpiResponse, kpi_rows
from serving.retention.models import ErrorBody, Lang
from serving.retention.web import StateDep, api_auth, page_auth, page_context, templates

router = APIRouter()
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$"
ChartKpi = Literal["nps", "csat", "ces", "churn_rate"]
PageBy = Literal["segment", "region", "channel", "touchpoint"]


def get_cache(request: Request) -> KpiCache:
    """The app's table cache (``make_retention_app`` puts one on ``app.state.kpis``)."""
    return request.app.state.kpis


CacheDep = Annotated[KpiCache, Depends(get_cache)]
Start = Annotated[str | None, Query(pattern=MONTH_PATTERN,
                                    description="first month, e.g. 2024-07; default: the "
                                                "first event's")]
End = Annotated[str | None, Query(pattern=MONTH_PATTERN,
                                  description="last month, inclusive; default: the last "
                                              "event's")]
MinN = Annotated[int, Query(ge=1, le=1_000_000,
                            description="cells with a smaller n are flagged small")]


@router.get("/kpis", response_model=KpiResponse, tags=["kpis"],
            dependencies=[Depends(api_auth)],
            responses={s: {"model": ErrorBody} for s in (400, 401, 404)})
def kpis(state: StateDep, cache: CacheDep,
         by: Annotated[By, Query(description="split each month by this group")] = "month",
         segment: Annotated[str | None, Query(max_length=128, description=(
             "only this segment's customers"))] = None,
         start: Start = None, end: End = None, min_n: MinN = 30, lang: Lang = "en",
         ) -> KpiResponse:
    """NPS, CSAT, CES, response and churn rates per month (and group) with 95% intervals and
    n; computed from the events and customers behind the online store."""
    files = kpi_files(state.events_path())
    params = KpiParams(min_n=min_n, start=start, end=end)
    (table,) = cache.tables(files, [group_keys(by, segment)], params)
    table = select_segment(table, segment, by)
    latest = latest_complete_month(table[MONTH], cache.data_end(files))
    rows = kpi_rows(table, by)
    labels = section("kpi", lang)
    return KpiResponse(by=by, segment=segment or None, min_n=min_n, churn=params.churn,
                       latest_complete_month=None if latest is None else f"{latest:%Y-%m}",
                       labels={k: labels[k] for k in KPI_COLUMNS}, count=len(rows),
                       rows=rows)


@router.get("/experience", response_class=HTMLResponse, include_in_schema=False)
def experience_page(
    request: Request, state: StateDep, cache: CacheDep, lang: str = "en",
    segment: str = "", by: PageBy = "segment",
    kpi: ChartKpi = "nps", min_n: MinN = 30, start: Start = None, end: End = None,
) -> Response:
    try:
        page_auth(request)
    except AuthError:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    lang = lang_or_default(lang)
    files = kpi_files(state.events_path())
    params = KpiParams(min_n=min_n, start=start, end=end)
    heat_keys = group_keys(by, segment)
    everyone, by_segment, heat = cache.tables(
        files, [(MONTH,), (MONTH, SEGMENT), heat_keys], params)
    monthly = select_segment(by_segment, segment, MONTH) if segment else everyone
    heat = select_segment(heat, segment, by)
    latest = latest_complete_month(monthly[MONTH], cache.data_end(files))
    query = {"segment": segment, "by": by, "kpi": kpi, "min_n": min_n,
             **{k: v for k, v in (("start", start), ("end", end)) if v}}
    return templates().TemplateResponse(request, "experience.html", page_context(
        request, state, lang,
        filters=query, segments=sorted(by_segment[SEGMENT].unique()), groups=GROUPS,
        chart_kpis=kpi_view.CHART_KPIS, kpi=kpi, by=by,
        latest=None if latest is None else f"{latest:%Y-%m}",
        cards=kpi_view.cards(monthly, latest, lang),
        trend=kpi_view.trend(monthly, kpi, lang),
        composition=kpi_view.composition(monthly, lang),
        heatmap=kpi_view.heatmap(heat, by, kpi, lang),
        months=kpi_view.month_rows(monthly, lang), kpi_names=list(KPI_COLUMNS),
        lang_link="?" + urlencode({**query, "lang": "tr" if lang == "en" else "en"}),
        api_link="/kpis?" + urlencode({"by": by, "min_n": min_n, "lang": lang,
                                       **({"segment": segment} if segment else {})}),
        drivers=drivers_section(Path(state.runtime.home), lang),
    ))
