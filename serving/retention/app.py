"""The retention team's app: the at-risk page at ``/`` and the retention API, one ASGI app.

``make_retention_app(runtime)`` builds a FastAPI app on the serving runtime (model + online
store, see ``serving/api/runtime.py``); the BentoML service mounts it at ``/``. Routes:

* ``GET /`` the ranked at-risk list (filters, sorting, English/Turkish), ``GET /customer/{id}``
  one customer's history timeline, explanation chart and the outcome form,
  ``GET /retention/export.csv`` / ``.xlsx`` the rows the page shows (``routes_page``).
* ``GET /retention/at-risk``, ``POST /retention/recommend``, ``POST /retention/outcomes``,
  ``GET /retention/outcomes``: the JSON API, same validation and auth as the scoring API
  (``routes_api``, bodies in ``models``); ``POST /retention/claim`` / ``release`` /
  ``status`` and ``GET /retention/assignments``: who works a customer and how far they got
  (``assignments``; a second claimer gets 409), also from the customer page's form.
* The list pages through ``?page=``, searches ids and names (``?search=``), hides customers
  contacted in the last ``CXCHURN_CONTACTED_DAYS`` days unless ``?show_contacted=true``, shows
  the contact details of the customers file (``worklist``) and cards over every kept row;
  each action says whether its effect is assumed or learned, saves are ranges
  (``provenance``).
* ``GET /kpis`` CX KPIs per month and group as JSON (API auth), ``GET /experience`` the page's
  Experience tab: cards, trend, heat map, NPS composition (``routes_kpi``, cached tables in
  ``kpi_data``).
* ``GET /alerts``, ``POST /alerts/{id}/assign|resolve`` the alerts inbox as JSON (API auth),
  ``GET /inbox`` its page tab (``routes_alerts``; rules, store, webhook in ``serving.alerts``).

The app keeps one ``RetentionState`` (``state``) on ``app.state.retention``; routes get it
through the ``get_state`` dependency (``web``). Every UI string is in ``serving.messages``.

Auth: with ``CXCHURN_API_KEY`` set, API calls send ``Authorization: Bearer <key>``; a browser
signs in once at ``/login`` and carries a random session id (never the key) in an HttpOnly
same-site cookie, ended by ``POST /logout`` or after 12 hours (``sessions``). Redirect targets
pass ``web.safe_next`` (same-site paths only). Client mistakes are 4xx with a message that
says what to fix, never 500; an unknown query parameter on the API and the exports is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from cxchurn.errors import CxChurnError
from cxchurn.settings import Settings
from serving.live import routes as live_routes
from serving.live.change import ScoreChange
from serving.live.feed import LiveFeed
from serving.retention import routes_alerts, routes_api, routes_drivers, routes_kpi, routes_page
from serving.retention.catalogue import Catalogue
from serving.retention.kpi_data import KpiCache
from serving.retention.outcomes import OutcomeStore
from serving.retention.state import RetentionState
from serving.retention.web import PAGE_DIR, error_response, validation_message

__all__ = ["RetentionState", "make_retention_app"]


async def _cx_error(request: Request, err: CxChurnError) -> Response:
    return error_response(request, err.http_status, str(err), type(err).__name__)


async def _invalid(request: Request, err: RequestValidationError) -> Response:
    # 400 like the scoring API's request-shape errors (serving/api/service.py)
    return error_response(request, 400, validation_message(err), "RequestValidationError")


def make_retention_app(runtime: Any, *, settings: Settings | None = None,
                       catalogue: Catalogue | None = None,
                       outcomes: OutcomeStore | None = None, budget: float | None = None,
                       events_path: Path | None = None, objective: str | None = None,
                       holdout: float | None = None) -> FastAPI:
    """The retention page and API on a serving runtime (see module docstring).

    ``settings`` default to ``Settings.from_env()``; ``budget``, ``objective``, ``holdout`` and
    ``events_path`` override them (tests and the CLI).
    """
    settings = (settings if settings is not None else Settings.from_env()).with_overrides(
        retention_budget=budget, policy_objective=objective, holdout_share=holdout,
        events_file=events_path)
    app = FastAPI(title="cxchurn retention", version="1",
                  description="At-risk list, recommended actions and recorded outcomes.")
    app.state.retention = RetentionState(runtime, settings, catalogue=catalogue,
                                         outcomes=outcomes)
    app.state.kpis = KpiCache()  # KPI tables per events file mtime and parameters
    app.mount("/static", StaticFiles(directory=str(PAGE_DIR / "static")), name="static")
    app.exception_handler(CxChurnError)(_cx_error)
    app.exception_handler(RequestValidationError)(_invalid)
    app.include_router(routes_page.router)
    app.include_router(routes_api.router)
    app.include_router(routes_kpi.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_alerts.page_router)
    app.include_router(routes_drivers.router)
    # POST /events: live ingestion on the same runtime (serving/live/feed.py); its history is
    # loaded by LiveFeed.start, which the service runs in the background when it starts
    app.state.live = LiveFeed(runtime, settings)
    app.state.live.bus.subscribe(_alerts_of(app.state.retention))
    app.include_router(live_routes.router)
    return app


def _alerts_of(state: RetentionState) -> Callable[[Sequence[ScoreChange]], None]:
    """The alert rules hear every live score change; the alert desk (database, webhook
    worker) opens on the first change, not when the app is built."""
    def subscriber(changes: Sequence[ScoreChange]) -> None:
        state.alerts.subscriber()(changes)
    return subscriber
