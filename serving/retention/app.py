"""The retention team's app: the at-risk page at ``/`` and the retention API, one ASGI app.

``make_retention_app(runtime)`` builds a FastAPI app on the serving runtime (model + online
store, see ``serving/api/runtime.py``); the BentoML service mounts it at ``/``. Routes:

* ``GET /`` the ranked at-risk list (filters, sorting, English/Turkish), ``GET /customer/{id}``
  one customer's history timeline, explanation chart and the outcome form,
  ``GET /retention/export.csv`` / ``.xlsx`` the rows the page shows.
* ``GET /retention/at-risk``, ``POST /retention/recommend``, ``POST /retention/outcomes``,
  ``GET /retention/outcomes``: the JSON API (same validation and auth as the scoring API).

Auth: with ``CXCHURN_API_KEY`` set, API calls send ``Authorization: Bearer <key>``; a browser
signs in once at ``/login`` and carries the key in an HttpOnly same-site cookie. Client
mistakes are 4xx with a message that says what to fix, never 500.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from cxchurn import paths
from cxchurn.errors import ConfigError, CxChurnError, DataContractError, NotFoundError
from serving.auth import AuthError, api_key_required, check_api_key
from serving.retention.at_risk import (
    HEADERS,
    SORTABLE,
    STATUS_LABELS,
    AtRiskBook,
    ListQuery,
    build_book,
    display_records,
    export_frame,
    select_rows,
    short_reason,
    to_csv_bytes,
    to_xlsx_bytes,
)
from serving.retention.catalogue import Catalogue, load_catalogue
from serving.retention.history import customer_history
from serving.retention.outcomes import RESULTS, Outcome, OutcomeStore
from serving.retention.policy import PolicyConfig, decision_frame, ranked_options

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).with_name("page")
COOKIE = "cxchurn_key"
BUDGET_ENV = "CXCHURN_RETENTION_BUDGET"
OBJECTIVE_ENV = "CXCHURN_POLICY_OBJECTIVE"  # "value" (default) or "customers"
HOLDOUT_ENV = "CXCHURN_HOLDOUT_SHARE"  # e.g. 0.1: a random 10% control group, never contacted
EVENTS_ENV = "CXCHURN_EVENTS"
Lang = Literal["en", "tr"]
MAX_IDS = 1000

UI: dict[str, dict[str, str]] = {
    "title": {"en": "Customers at risk", "tr": "Risk altındaki müşteriler"},
    "filters": {"en": "Filters", "tr": "Filtreler"},
    "all": {"en": "All", "tr": "Tümü"},
    "min_value": {"en": "Minimum value", "tr": "En düşük değer"},
    "show": {"en": "Rows", "tr": "Satır"},
    "apply": {"en": "Apply", "tr": "Uygula"},
    "reset": {"en": "Reset", "tr": "Sıfırla"},
    "export_csv": {"en": "Export CSV", "tr": "CSV indir"},
    "export_xlsx": {"en": "Export Excel", "tr": "Excel indir"},
    "showing": {"en": "Showing {n} of {total} customers",
                "tr": "{total} müşteriden {n} gösteriliyor"},
    "model": {"en": "Model", "tr": "Model"},
    "snapshot": {"en": "Data as of", "tr": "Veri tarihi"},
    "no_action": STATUS_LABELS["no_positive_action"],
    "planned": {"en": "planned spend", "tr": "planlanan harcama"},
    "saves": {"en": "expected saves", "tr": "beklenen kurtarılan"},
    "with_action": {"en": "customers with an action", "tr": "aksiyon önerilen müşteri"},
    "budget_of": {"en": "of a {budget} budget", "tr": "{budget} bütçeden"},
    "no_budget": {"en": "no budget limit", "tr": "bütçe sınırı yok"},
    "aim_value": {"en": "aim: most value saved", "tr": "hedef: en çok değer"},
    "aim_customers": {"en": "aim: most customers saved", "tr": "hedef: en çok müşteri"},
    "history": {"en": "Experience history", "tr": "Deneyim geçmişi"},
    "explanation": {"en": "Why this customer may leave", "tr": "Bu müşteri neden ayrılabilir"},
    "raises": {"en": "raises risk", "tr": "riski artırır"},
    "lowers": {"en": "lowers risk", "tr": "riski azaltır"},
    "record": {"en": "Record action and outcome", "tr": "Aksiyonu ve sonucu kaydet"},
    "action": {"en": "Action", "tr": "Aksiyon"},
    "when": {"en": "When", "tr": "Ne zaman"},
    "by": {"en": "Recorded by", "tr": "Kaydeden"},
    "result": {"en": "Result", "tr": "Sonuç"},
    "note": {"en": "Note", "tr": "Not"},
    "save": {"en": "Save", "tr": "Kaydet"},
    "recorded": {"en": "Outcome recorded.", "tr": "Sonuç kaydedildi."},
    "outcomes": {"en": "Recorded actions", "tr": "Kaydedilen aksiyonlar"},
    "none_yet": {"en": "Nothing recorded yet.", "tr": "Henüz kayıt yok."},
    "back": {"en": "Back to the list", "tr": "Listeye dön"},
    "no_history": {"en": "No events before the snapshot.", "tr": "Bu tarihten önce olay yok."},
    "script": {"en": "What to say", "tr": "Ne söylenmeli"},
    "alternatives": {"en": "Actions worth their cost (expected net value)",
                     "tr": "Maliyetine değer aksiyonlar (beklenen net değer)"},
    "sign_in": {"en": "Sign in", "tr": "Giriş"},
    "api_key": {"en": "API key", "tr": "API anahtarı"},
    "not_ready": {"en": "The service is not ready", "tr": "Servis hazır değil"},
}
RESULT_LABELS: dict[str, dict[str, str]] = {
    "pending": {"en": "pending", "tr": "bekliyor"},
    "accepted": {"en": "accepted the offer", "tr": "teklifi kabul etti"},
    "declined": {"en": "declined", "tr": "reddetti"},
    "no_answer": {"en": "no answer", "tr": "ulaşılamadı"},
    "retained": {"en": "stayed", "tr": "kaldı"},
    "churned": {"en": "left", "tr": "ayrıldı"},
}
BAND_LABELS: dict[str, dict[str, str]] = {
    "high": {"en": "high", "tr": "yüksek"},
    "medium": {"en": "medium", "tr": "orta"},
    "low": {"en": "low", "tr": "düşük"},
}


# ---------------------------------------------------------------------------- API models
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
    action_time: datetime | None = Field(None, description="when (ISO 8601); default now")
    cost: float | None = Field(None, ge=0, description="default: the catalogue's cost")
    note: str | None = Field(None, max_length=2000)


# ---------------------------------------------------------------------------- state
class RetentionState:
    """Catalogue, outcome store and the cached at-risk book of the runtime's current state."""

    def __init__(self, runtime: Any, catalogue: Catalogue | None = None,
                 outcomes: OutcomeStore | None = None, budget: float | None = None,
                 events_path: Path | None = None, objective: str | None = None,
                 holdout: float | None = None) -> None:
        self.runtime = runtime
        self.catalogue = catalogue or load_catalogue()
        self._outcomes = outcomes
        env_holdout = _env_number(HOLDOUT_ENV)
        self.policy = PolicyConfig(
            budget=budget if budget is not None else _env_number(BUDGET_ENV),
            objective=objective or os.environ.get(OBJECTIVE_ENV) or "value",
            holdout=holdout if holdout is not None else (env_holdout or 0.0))
        self._events_path = events_path
        self._book: AtRiskBook | None = None
        self._lock = threading.Lock()

    @property
    def outcomes(self) -> OutcomeStore:
        if self._outcomes is None:  # opened lazily: the page loads even if the DB is slow
            self._outcomes = OutcomeStore()
        return self._outcomes

    def _version(self) -> str:
        meta = self.runtime.metadata()
        model = meta.get("model") or {}
        store = meta.get("online_store") or {}
        return "|".join(str(x) for x in (model.get("model_version"), meta.get("loaded_at"),
                                         store.get("materialized_at")))

    def book(self) -> AtRiskBook:
        """The at-risk book for the loaded model and store (rebuilt after a reload)."""
        from training.explain import shap_values
        from training.pyfunc import model_frame

        version = self._version()
        book = self._book
        if book is not None and book.version == version:
            return book
        with self._lock:
            if self._book is not None and self._book.version == version:
                return self._book
            scored = self.runtime.scored_store()
            features = self.runtime.online_features()
            model = self.runtime.model
            values, _ = shap_values(model, model_frame(model, features))
            self._book = build_book(
                features, scored["p_churn"].to_numpy(), scored["risk_band"].tolist(), values,
                list(model.feature_names_), self.catalogue, version=version,
                policy_config=self.policy)
            return self._book

    def weighed(self, book: AtRiskBook) -> pd.DataFrame:
        """The book's customers as the policy weighs them (``PolicyConfig.objective``)."""
        return decision_frame(book.customers, self.policy.objective)

    def warm(self) -> threading.Thread:
        """Build the book in the background, so the first page view after a start or a reload
        does not wait for scoring and explaining every customer (seconds on a big store)."""

        def build() -> None:
            try:
                if self.runtime.ready:
                    self.book()
            except CxChurnError as err:  # the page's own request shows the error to the user
                log.warning("at-risk list not prebuilt: %s", err)

        thread = threading.Thread(target=build, name="at-risk-warm-up", daemon=True)
        thread.start()
        return thread

    def events_path(self) -> Path:
        """The events file behind the online store, for the customer timeline."""
        if self._events_path is not None:
            return self._events_path
        if os.environ.get(EVENTS_ENV):
            return Path(os.environ[EVENTS_ENV])
        # The store records where it came from (a world folder or its customers file).
        source = ((self.runtime.metadata().get("online_store") or {}).get("source") or "")
        folders = [Path(source), Path(source).parent] if source else []
        folders.append(paths.world_dir(Path(self.runtime.home)))
        for folder in folders:
            for name in ("events.parquet", "events.csv"):
                if (folder / name).is_file():
                    return folder / name
        return folders[-1] / "events.parquet"


# ---------------------------------------------------------------------------- helpers
def _query(segment: str | None, risk_band: str | None, min_value: float | None, limit: int,
           sort: str, descending: bool, only_actionable: bool = False) -> ListQuery:
    return ListQuery(segment=segment or None, risk_band=risk_band or None, min_value=min_value,
                     limit=limit, sort=sort, descending=descending,
                     only_actionable=only_actionable)


def _optional_number(text: str | None, name: str) -> float | None:
    """A form field that may be left empty: '' -> None, else a number >= 0."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number such as 250 or left empty; "
                          f"got {text[:40]!r}.") from None
    if not np.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0 or left empty; got {text[:40]!r}.")
    return value


def _env_number(name: str) -> float | None:
    """A number from the environment variable ``name``; None when unset or empty."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number (e.g. 1000 for a budget, 0.1 for a "
                          f"share); got {text[:40]!r}.") from None


def page_query(
    segment: str | None = None, risk_band: str | None = None, min_value: str | None = None,
    limit: int = Query(100, ge=1, le=10_000), sort: str = "expected_net_value",
    descending: bool = True, only_actionable: bool = False,
) -> ListQuery:
    """The page's and the exports' filters (a FastAPI dependency): form fields may be empty."""
    return _query(segment, risk_band, _optional_number(min_value, "min_value"), limit, sort,
                  descending, only_actionable)


PageQuery = Annotated[ListQuery, Depends(page_query)]


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _chart(drivers: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Bars for the explanation chart (SVG drawn by the template), largest first."""
    top = max((abs(float(d["shap"])) for d in drivers), default=1.0) or 1.0
    return {"bars": [{"reason": short_reason(str(d.get("reason") or d["feature"])),
                      "feature": d["feature"],
                      "shap": float(d["shap"]), "width": abs(float(d["shap"])) / top,
                      "raises": float(d["shap"]) > 0} for d in drivers],
            "raises": UI["raises"][lang], "lowers": UI["lowers"][lang]}


def _error_response(request: Request, status: int, message: str, kind: str = "") -> Response:
    if request.url.path.startswith("/retention/") and not request.url.path.startswith(
            "/retention/export"):
        return JSONResponse({"error": message, "type": kind}, status_code=status)
    return HTMLResponse(
        "<!doctype html><meta charset='utf-8'><link rel='stylesheet' href='/static/style.css'>"
        f"<main class='error'><h1>{status}</h1><p>{_escape(message)}</p>"
        "<p><a href='/'>&larr; /</a></p></main>", status_code=status)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _validation_message(err: RequestValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts[:10]) + (
        "; see GET /docs for the expected fields" if parts else "")


# ---------------------------------------------------------------------------- the app
def make_retention_app(runtime: Any, *, catalogue: Catalogue | None = None,
                       outcomes: OutcomeStore | None = None, budget: float | None = None,
                       events_path: Path | None = None, objective: str | None = None,
                       holdout: float | None = None) -> FastAPI:
    """The retention page and API on a serving runtime (see module docstring)."""
    state = RetentionState(runtime, catalogue, outcomes, budget, events_path, objective,
                           holdout)
    templates = Jinja2Templates(directory=str(PAGE_DIR))
    app = FastAPI(title="cxchurn retention", version="1",
                  description="At-risk list, recommended actions and recorded outcomes.")
    app.state.retention = state
    app.mount("/static", StaticFiles(directory=str(PAGE_DIR / "static")), name="static")

    @app.exception_handler(CxChurnError)
    async def _cx_error(request: Request, err: CxChurnError) -> Response:
        return _error_response(request, err.http_status, str(err), type(err).__name__)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> Response:
        # 400 like the scoring API's request-shape errors (serving/api/service.py)
        return _error_response(request, 400, _validation_message(err), "RequestValidationError")

    def api_auth(request: Request) -> None:
        check_api_key(request.headers.get("authorization"))

    def page_auth(request: Request) -> None:
        header = request.headers.get("authorization")
        cookie = request.cookies.get(COOKIE)
        check_api_key(header or (f"Bearer {cookie}" if cookie else None))

    def lang_of(lang: str | None) -> str:
        return lang if lang in ("en", "tr") else "en"

    def page_context(request: Request, lang: str, **extra: Any) -> dict[str, Any]:
        meta = runtime.metadata()
        return {"request": request, "lang": lang, "ui": {k: v[lang] for k, v in UI.items()},
                "meta": meta, "auth_required": api_key_required(),
                "other_lang": "tr" if lang == "en" else "en", "money": _money,
                "headers": {k: v[lang] for k, v in HEADERS.items()},
                "currency": state.catalogue.currency, **extra}

    # ------------------------------------------------------------------ pages
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, lang: str = "en", next: str = "/") -> Response:
        lang = lang_of(lang)
        return templates.TemplateResponse(request, "login.html", page_context(
            request, lang, next=next if next.startswith("/") else "/", error=None))

    @app.post("/login", include_in_schema=False)
    def login(request: Request, key: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/", lang: Annotated[str, Form()] = "en"
              ) -> Response:
        try:
            check_api_key(f"Bearer {key}")
        except AuthError as err:
            return templates.TemplateResponse(request, "login.html", page_context(
                request, lang_of(lang), next=next, error=str(err)), status_code=401)
        response = RedirectResponse(next if next.startswith("/") else "/", status_code=303)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict")
        return response

    def guarded(request: Request) -> Response | None:
        try:
            page_auth(request)
        except AuthError:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        if not runtime.ready:
            return _error_response(request, 503, f"{UI['not_ready']['en']}: "
                                   f"{runtime.metadata().get('reason')}")
        return None

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def at_risk_page(request: Request, query: PageQuery, lang: str = "en") -> Response:
        if (redirect := guarded(request)) is not None:
            return redirect
        lang = lang_of(lang)
        book = state.book()
        rows = select_rows(book, query)
        records = display_records(rows, book, state.catalogue, lang)
        selected = book.table[book.table["status"] == "selected"]
        params = query.params()
        sort_links = {
            key: "?" + urlencode({**params, "lang": lang, "sort": key,
                                  "descending": str(not (query.sort == key
                                                         and query.descending)).lower()})
            for key in SORTABLE}
        return templates.TemplateResponse(request, "at_risk.html", page_context(
            request, lang, query=query, rows=records, total=len(book.table),
            segments=book.segments(), bands=[b for b in ("high", "medium", "low")
                                             if b in set(book.table["risk_band"])],
            band_labels={k: v[lang] for k, v in BAND_LABELS.items()},
            sort_links=sort_links,
            export_query=urlencode({**params, "lang": lang}),
            lang_link="?" + urlencode({**params, "lang": "tr" if lang == "en" else "en"}),
            plan={"count": len(selected), "cost": float(selected["cost"].sum()),
                  "saves": float(selected["expected_saved"].sum()),
                  "budget": state.policy.budget, "objective": state.policy.objective},
            status_labels={k: v[lang] for k, v in STATUS_LABELS.items()},
        ))

    @app.get("/customer/{customer_id}", response_class=HTMLResponse, include_in_schema=False)
    def customer_page(request: Request, customer_id: str, lang: str = "en",
                      recorded: int = 0, back: str = "/") -> Response:
        if (redirect := guarded(request)) is not None:
            return redirect
        return _customer_view(request, customer_id, lang_of(lang), bool(recorded),
                              back if back.startswith("/") else "/")

    def _customer_view(request: Request, customer_id: str, lang: str, recorded: bool,
                       back: str, error: str | None = None, form: dict[str, Any] | None = None,
                       status_code: int = 200) -> Response:
        book = state.book()
        match = book.table[book.table["customer_id"] == customer_id]
        if match.empty:
            raise NotFoundError(f"customer {customer_id!r} is not in the online store; check "
                                f"the id or pick one from the at-risk list")
        row = display_records(match, book, state.catalogue, lang)[0]
        drivers, _ = runtime.explain_ids([customer_id], top_k=8, lang=lang)
        cutoff = runtime.store_cutoff()
        history = customer_history(state.events_path(), customer_id, lang,
                                   pd.Timestamp(cutoff) if cutoff else None)
        position = int(np.flatnonzero(book.customers["customer_id"] == customer_id)[0])
        options = ranked_options(state.weighed(book).iloc[[position]],
                                 book.mass.iloc[[position]], state.catalogue)[0]
        action = state.catalogue.get(row["action"]) if row["action"] else None
        recorded_rows = state.outcomes.list(customer_id=customer_id, limit=50)
        default_form = {"action_type": row["action"] or state.catalogue.names()[0],
                        "action_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                        "result": "pending", "recorded_by": "", "cost": "", "note": ""}
        return templates.TemplateResponse(request, "customer.html", page_context(
            request, lang, row=row, action=action, chart=_chart(drivers.get(customer_id, []),
                                                                lang),
            history=history, options=[{**o, "title": state.catalogue.get(
                str(o["action"])).title(lang)} for o in options],
            catalogue=state.catalogue, results=RESULTS,
            result_labels={k: v[lang] for k, v in RESULT_LABELS.items()},
            band_labels={k: v[lang] for k, v in BAND_LABELS.items()},
            outcomes=recorded_rows, recorded=recorded, back=back, error=error,
            form=form or default_form, lang_link="?" + urlencode(
                {"lang": "tr" if lang == "en" else "en", "back": back}),
        ), status_code=status_code)

    @app.post("/customer/{customer_id}/outcome", include_in_schema=False)
    def record_from_form(
        request: Request, customer_id: str,
        action_type: Annotated[str, Form()] = "", result: Annotated[str, Form()] = "",
        recorded_by: Annotated[str, Form()] = "", action_time: Annotated[str, Form()] = "",
        cost: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
        lang: Annotated[str, Form()] = "en", back: Annotated[str, Form()] = "/",
    ) -> Response:
        if (redirect := guarded(request)) is not None:
            return redirect
        lang = lang_of(lang)
        form = {"action_type": action_type, "result": result, "recorded_by": recorded_by,
                "action_time": action_time, "cost": cost, "note": note}
        try:
            when = (pd.Timestamp(action_time).tz_localize("UTC").to_pydatetime()
                    if action_time else datetime.now(UTC))
            amount = float(cost) if cost.strip() else None
        except (ValueError, TypeError):
            return _customer_view(request, customer_id, lang, False, back,
                                  "cannot read the time or the cost: use the date picker and "
                                  "a number such as 12.5", form, 422)
        try:
            _record(customer_id, action_type, result, recorded_by, when, amount, note or None)
        except DataContractError as err:
            return _customer_view(request, customer_id, lang, False, back, str(err), form, 422)
        target = f"/customer/{customer_id}?" + urlencode({"lang": lang, "recorded": 1,
                                                           "back": back})
        return RedirectResponse(target, status_code=303)

    def _record(customer_id: str, action_type: str, result: str, recorded_by: str,
                when: datetime, cost: float | None, note: str | None) -> Outcome:
        book = state.book()
        if not (book.table["customer_id"] == customer_id).any():
            raise NotFoundError(f"customer {customer_id!r} is not in the online store; record "
                                f"outcomes for customers the service knows")
        if cost is None and action_type in state.catalogue.names():
            cost = state.catalogue.get(action_type).cost
        return state.outcomes.record(
            Outcome(customer_id=customer_id, action_type=action_type, action_time=when,
                    result=result, recorded_by=recorded_by, cost=cost, note=note),
            action_types=state.catalogue.names())

    # ------------------------------------------------------------------ exports
    # Both formats take the page's own filters, so an export holds exactly the visible rows.
    _formats = {
        "csv": (to_csv_bytes, "text/csv; charset=utf-8"),
        "xlsx": (to_xlsx_bytes,
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }

    def _export(request: Request, ext: str, lang: str, query: ListQuery) -> Response:
        page_auth(request)
        book = state.book()
        frame = export_frame(display_records(select_rows(book, query), book, state.catalogue,
                                             lang), lang)
        to_bytes, media_type = _formats[ext]
        filename = f"at-risk-{datetime.now(UTC).strftime('%Y%m%d-%H%M')}.{ext}"
        return Response(to_bytes(frame), media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/retention/export.csv", tags=["retention"])
    def export_csv(request: Request, query: PageQuery, lang: Lang = "en") -> Response:
        """The at-risk rows the page shows for the same filters, as CSV (UTF-8)."""
        return _export(request, "csv", lang, query)

    @app.get("/retention/export.xlsx", tags=["retention"])
    def export_xlsx(request: Request, query: PageQuery, lang: Lang = "en") -> Response:
        """The at-risk rows the page shows for the same filters, as an Excel workbook."""
        return _export(request, "xlsx", lang, query)

    # ------------------------------------------------------------------ JSON API
    @app.get("/retention/at-risk", tags=["retention"], dependencies=[Depends(api_auth)])
    def at_risk(
        lang: Lang = "en", segment: str | None = None,
        risk_band: Literal["low", "medium", "high"] | None = None,
        min_value: float | None = Query(None, ge=0), limit: int = Query(100, ge=1, le=10_000),
        sort: Literal[SORTABLE] = "expected_net_value",  # type: ignore[valid-type]
        descending: bool = True, only_actionable: bool = False,
    ) -> dict[str, Any]:
        """Customers ranked by the expected net value of their suggested action."""
        book = state.book()
        query = _query(segment, risk_band, min_value, limit, sort, descending, only_actionable)
        records = display_records(select_rows(book, query), book, state.catalogue, lang)
        return {"count": len(records), "total": len(book.table),
                "currency": state.catalogue.currency,
                "customers": [_api_row(r) for r in records]}

    def _api_row(r: dict[str, Any]) -> dict[str, Any]:
        return {"customer_id": r["customer_id"], "segment": r["segment"],
                "p_churn": float(r["p_churn"]), "risk_band": r["risk_band"],
                "value": round(float(r["value"]), 2), "action": r["action"],
                "action_title": r["action_title"], "cost": float(r["cost"]),
                "expected_saved": float(r["expected_saved"]),
                "expected_net_value": round(float(r["expected_net_value"]), 2),
                "status": r["status"], "rank": int(r["rank"]), "reasons": r["reasons"]}

    @app.post("/retention/recommend", tags=["retention"], dependencies=[Depends(api_auth)])
    def recommend(body: RecommendRequest) -> dict[str, Any]:
        """The suggested action (and every other action worth its cost) for each id."""
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
        options = ranked_options(state.weighed(book).iloc[positions],
                                 book.mass.iloc[positions], state.catalogue)
        table = book.table.set_index("customer_id")
        out = []
        for cid, opts in zip(known, options, strict=True):
            row = display_records(table.loc[[cid]].reset_index(), book, state.catalogue,
                                  body.lang)[0]
            action = state.catalogue.get(row["action"]) if row["action"] else None
            out.append({**_api_row(row), "action_detail": None if action is None else {
                "name": action.name, "title": action.title(body.lang),
                "script": action.script(body.lang), "channel": action.channel,
                "cost": action.cost},
                "options": opts})
        return {"recommendations": out, "errors": errors,
                "currency": state.catalogue.currency}

    @app.post("/retention/outcomes", tags=["retention"], status_code=201,
              dependencies=[Depends(api_auth)])
    def record_outcome(body: OutcomeRequest) -> dict[str, Any]:
        """Record an action taken and its result; kept in the outcome database."""
        when = body.action_time or datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        saved = _record(body.customer_id, body.action_type, body.result, body.recorded_by,
                        when, body.cost, body.note)
        return saved.to_dict()

    @app.get("/retention/outcomes", tags=["retention"], dependencies=[Depends(api_auth)])
    def list_outcomes(customer_id: str | None = None,
                      limit: int = Query(100, ge=1, le=10_000)) -> dict[str, Any]:
        """Recorded outcomes, newest first (of one customer when customer_id is given)."""
        rows = state.outcomes.list(customer_id=customer_id, limit=limit)
        return {"count": len(rows), "outcomes": [r.to_dict() for r in rows]}

    return app
