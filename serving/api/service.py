"""The BentoML scoring service: thin wiring of ``ServingRuntime`` to HTTP.

Start it with ``cxchurn serve`` or ``bentoml serve serving.api.service:ChurnService``.

- ``POST /score``: P(churn) and risk band for customer ids (online store) or posted rows.
- ``POST /explain``: the same plus the top-k SHAP drivers with reasons in ``en`` or ``tr``.
- ``POST /reload``: switch to the newly promoted champion (and a re-materialised store)
  without dropping requests.
- ``GET /health`` (always 200 while the process lives), ``GET /ready`` (503 until a model is
  loaded), ``GET /metadata``; BentoML's own ``/livez`` and ``/readyz`` probes follow them.
- The retention app (``serving/retention/app.py``: recommend, at-risk list, outcomes, page)
  is mounted at ``/``, sharing the same runtime, with ``POST /events`` (live events in, new
  scores out: ``serving/live/``), whose history loads in the background at the start.

Nothing is built at import: the settings (``Settings.from_env()``), the runtime and the
mounted apps are made when the service starts (``ChurnService.__init__``). BentoML wants its
mounts when the class is defined, so they are ``LateApp`` stand-ins the start fills.

Every user error is a ``CxChurnError`` answered as ``{"error": message}`` with its status
(422 bad rows, 404 unknown, 503 not ready); request-shape errors come from pydantic as 400.
With ``CXCHURN_API_KEY`` set every route but the health probes and the API descriptions needs
``Authorization: Bearer <key>`` (``/metrics`` too; the page signs in once). An /explain asking
for more than ``CXCHURN_MAX_EXPLAIN_CELLS`` drivers (customers x top_k) is a 413. Nothing about
customers is logged: pydantic errors hide input values, the service logs only counts, and
the access log names route templates, not paths (``serving/api/edge.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import bentoml
import numpy as np
from bentoml import IODescriptor
from pydantic import ConfigDict, Field
from starlette.responses import JSONResponse

from cxchurn.errors import CxChurnError
from cxchurn.settings import DEFAULT_MAX_EXPLAIN_CELLS, Settings, apply_serving_mlflow_defaults
from features.schema import CUSTOMER_ID
from serving.api import schemas
from serving.api.edge import AccessLog, GateMiddleware, RouteTemplates, install_log_filters
from serving.api.late_app import LateApp
from serving.api.openapi import complete_spec
from serving.api.payload import columns_from_records, columns_from_table, unseen_levels
from serving.api.probes import make_probe_app
from serving.api.runtime import MAX_TOP_K, ServingRuntime
from serving.auth import ApiKeyCheck
from serving.gc_pause import freeze_after
from serving.retention.app import make_retention_app
from serving.timing import as_of_date, timing
from training.bands import risk_band

log = logging.getLogger(__name__)
T = TypeVar("T")

# BentoML's own paths, for the access log's route templates (the apps' routes come from them)
BENTOML_PATHS = ("/healthz", "/livez", "/readyz", "/metrics", "/docs.json", "/schema.json",
                 "/score", "/explain", "/reload")


class ScoreRequest(schemas.ScoreInput, IODescriptor):
    """/score input, parsed by pydantic's JSON parser (malformed JSON -> 400, not 500)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra={
        "example": {"customer_ids": schemas.EXAMPLE_IDS}})


class ExplainRequest(schemas.ScoreInput, IODescriptor):
    """/explain input: score input plus how many drivers and in which language."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra={
        "example": {"customer_ids": schemas.EXAMPLE_IDS, "top_k": 3, "lang": "tr"}})

    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K, description="Drivers per customer.")
    lang: Literal["en", "tr"] = Field(default="en", description="Language of the reasons.")


class Started:
    """What BentoML needs when the class is defined, filled when the service starts.

    ``probes`` and ``retention`` are the mounted apps; ``auth`` is the API-key check made from
    the settings (None until the start: protected routes answer 503 until then).
    """

    def __init__(self) -> None:
        self.probes = LateApp("probes")
        self.retention = LateApp("retention")
        self.auth: ApiKeyCheck | None = None
        self.max_explain_cells = DEFAULT_MAX_EXPLAIN_CELLS
        self.templates = RouteTemplates(fixed=BENTOML_PATHS)

    def fill(self, runtime: ServingRuntime, settings: Settings) -> None:
        self.auth = ApiKeyCheck(settings.api_key)
        self.max_explain_cells = settings.max_explain_cells
        self.probes.fill(make_probe_app(runtime))
        self.retention.fill(make_retention_app(runtime, settings=settings))
        self.templates = RouteTemplates([*self.probes.routes, *self.retention.routes],
                                        fixed=BENTOML_PATHS)

    def complete_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        return complete_spec(spec, self.max_explain_cells)

    def warm_retention(self) -> threading.Thread | None:
        """Prebuild the retention page's at-risk list in the background (see RetentionState)."""
        if self.retention.inner is not None:
            return self.retention.inner.state.retention.warm()
        return None

    def start_live(self) -> threading.Thread | None:
        """Serve the kept live rows now (before this worker answers as ready), and load the
        live ingestion's history in the background (a POST /events meanwhile waits for it).
        A failure is logged and answered by /events as a 503."""
        feed = getattr(self.retention.inner.state, "live", None) if self.retention.inner else None
        if feed is None:
            return None
        try:
            feed.attach()
        except CxChurnError as err:
            log.warning("live rows not served: %s", err)
            return None

        def start() -> None:
            try:
                feed.start()
            except CxChurnError as err:
                log.warning("live ingestion not started: %s", err)

        thread = threading.Thread(target=start, name="live-start", daemon=True)
        thread.start()
        return thread


STARTED = Started()


def _error(err: CxChurnError) -> JSONResponse:
    return JSONResponse({"error": str(err), "type": type(err).__name__},
                        status_code=err.http_status)


def _guard(fn: Callable[[], T]) -> T | JSONResponse:
    try:
        return fn()
    except CxChurnError as err:
        return _error(err)


def _model_ref(runtime: ServingRuntime) -> dict[str, Any]:
    info = runtime.model_info()
    return {"name": runtime.model_name, "version": info.get("model_version"),
            "source": info.get("source")}


def _posted(runtime: ServingRuntime, body: schemas.ScoreInput
            ) -> tuple[dict[str, np.ndarray], list[str | None], list[dict[str, Any]]]:
    """Typed columns, ids and unseen-category warnings of the posted rows."""
    model = runtime.require_model()  # ModelNotReadyError with the reason when none is loaded
    schema = model.feature_schema()
    if body.rows is not None:
        columns, ids = columns_from_records(schema, body.rows)
    else:
        assert body.table is not None  # guaranteed by ScoreInput's validator
        columns, ids = columns_from_table(schema, body.table.columns, body.table.data)
    return columns, ids, unseen_levels(schema, columns)


def _errors(ids: list[str], errors: dict[str, str]) -> tuple[list[int], list[dict[str, Any]]]:
    rows = [i for i, c in enumerate(ids) if c not in errors]
    errs = [{"customer_id": c, "row": i, "error": errors[c]}
            for i, c in enumerate(ids) if c in errors]
    return rows, errs


def score_body(runtime: ServingRuntime, body: schemas.ScoreInput) -> dict[str, Any]:
    """The /score answer as plain data (pure: testable without a server)."""
    runtime.require_model()
    if body.customer_ids is not None:
        ids = list(body.customer_ids)
        scored, errors = runtime.score_ids(ids)
        rows, errs = _errors(ids, errors)
        warnings: list[dict[str, Any]] = []
        columns: dict[str, np.ndarray] = {}
    else:
        columns, posted_ids, warnings = _posted(runtime, body)
        scored = runtime.score_columns(columns, posted_ids)
        rows, errs = list(range(len(posted_ids))), []
    when = _timing(runtime, body, [str(c) for c in scored[CUSTOMER_ID].tolist()]
                   if body.customer_ids is not None else None,
                   columns if body.customer_ids is None else None, len(scored))
    results = [{"customer_id": c, "row": r, "p_churn": p, "risk_band": b, **t}
               for c, r, p, b, t in zip(scored[CUSTOMER_ID].tolist(), rows,
                                        scored["p_churn"].tolist(),
                                        scored["risk_band"].tolist(), when, strict=True)]
    log.info("scored %d rows (%d unknown ids, %d unseen-category warnings)", len(results),
             len(errs), len(warnings))
    return {"model": _model_ref(runtime), "results": results, "errors": errs,
            "warnings": warnings}


def _timing(runtime: ServingRuntime, body: schemas.ScoreInput, known_ids: list[str] | None,
            columns: dict[str, np.ndarray] | None, n: int) -> list[dict[str, Any]]:
    """Horizons, leave-within and act-by per answered row (``serving/timing.py``)."""
    if known_ids is not None:
        found = runtime.horizons_of_ids(known_ids)
        as_of = as_of_date(runtime.store_cutoff())
    else:
        found = runtime.horizons_of_columns(columns or {})
        as_of = as_of_date(None)
    if found is None:
        return timing(None, (), 0.0, as_of, n)
    return timing(found[1], found[0], runtime.bands[1], as_of, n)


def _count(body: schemas.ScoreInput) -> int:
    for items in (body.customer_ids, body.rows, body.table.data if body.table else None):
        if items is not None:
            return len(items)
    return 0


def explain_body(runtime: ServingRuntime, body: ExplainRequest) -> dict[str, Any]:
    """The /explain answer as plain data."""
    runtime.require_model()
    runtime.check_explain_size(_count(body), body.top_k)
    if body.customer_ids is not None:
        ids = list(body.customer_ids)
        known, p, base, drivers, errors = runtime.explain_known_ids(ids, body.top_k, body.lang)
        rows, errs = _errors(ids, errors)
        posted_ids: list[str | None] = list(known)
        warnings: list[dict[str, Any]] = []
        columns: dict[str, np.ndarray] = {}
    else:
        columns, posted_ids, warnings = _posted(runtime, body)
        p, base, drivers = runtime.explain_columns(columns, body.top_k, body.lang)
        rows, errs = list(range(len(posted_ids))), []
    bands = risk_band(p, runtime.bands)
    when = _timing(runtime, body, list(known) if body.customer_ids is not None else None,
                   columns if body.customer_ids is None else None, len(posted_ids))
    results = [{"customer_id": c, "row": r, "p_churn": float(pc), "risk_band": b,
                "base_value": base, "drivers": d, **t}
               for c, r, pc, b, d, t in zip(posted_ids, rows, p, bands, drivers, when,
                                            strict=True)]
    log.info("explained %d rows (%d unknown ids, %d unseen-category warnings)", len(results),
             len(errs), len(warnings))
    return {"model": _model_ref(runtime), "lang": body.lang, "results": results, "errors": errs,
            "warnings": warnings}


@bentoml.asgi_app(STARTED.probes, path="/", name="probes")
# BentoML reads the worker count when the class is defined, before any start: the one setting
# read at import (Settings.from_env() checks every variable, so a bad one stops the start).
@bentoml.service(name="cxchurn", workers=Settings.from_env().workers, traffic={"timeout": 120},
                 logging={"access": {"enabled": False}})  # edge.AccessLog logs route templates
class ChurnService:
    """Churn scoring with explanations; loads the registry champion at start."""

    def __init__(self) -> None:
        settings = Settings.from_env()
        install_log_filters()
        apply_serving_mlflow_defaults()
        schemas.set_max_batch(settings.max_batch)
        self.runtime = ServingRuntime.from_settings(settings)
        STARTED.fill(self.runtime, settings)
        meta = self.runtime.start()
        if meta["ready"]:
            model = meta["model"]
            log.info("ready: %s v%s from %s", self.runtime.model_name,
                     model.get("model_version"), model.get("source"))
        else:
            log.warning("not ready: %s", meta["reason"])
        started = [STARTED.warm_retention(), STARTED.start_live()]
        freeze_after([t for t in started if t is not None])  # see serving/gc_pause.py

    def __is_ready__(self) -> bool:
        return self.runtime.ready

    @bentoml.api(route="/score", input_spec=ScoreRequest)
    def score(self, customer_ids: list[str] | None = None,
              rows: list[dict[str, schemas.Cell]] | None = None,
              table: schemas.Table | None = None) -> schemas.ScoreOutput:
        """P(churn), risk band and model version per customer id or posted feature row."""
        body = ScoreRequest.model_construct(customer_ids=customer_ids, rows=rows, table=table)
        out = _guard(lambda: score_body(self.runtime, body))
        # BentoML reads the annotation as the success schema; an error answer bypasses it.
        return out if isinstance(out, JSONResponse) else schemas.ScoreOutput.model_validate(out)  # type: ignore[return-value]

    @bentoml.api(route="/explain", input_spec=ExplainRequest)
    def explain(self, customer_ids: list[str] | None = None,
                rows: list[dict[str, schemas.Cell]] | None = None,
                table: schemas.Table | None = None, top_k: int = 5, lang: str = "en"
                ) -> schemas.ExplainOutput:
        """Top-k SHAP drivers per customer with the feature value and a plain-word reason."""
        body = ExplainRequest.model_construct(customer_ids=customer_ids, rows=rows, table=table,
                                              top_k=top_k, lang=lang)
        out = _guard(lambda: explain_body(self.runtime, body))
        return out if isinstance(out, JSONResponse) else schemas.ExplainOutput.model_validate(out)  # type: ignore[return-value]

    @bentoml.api(route="/reload")
    def reload(self) -> schemas.ReloadOutput:
        """Load the current champion and online store; requests in flight finish on the old."""
        meta = self.runtime.reload()
        STARTED.warm_retention()
        return schemas.ReloadOutput(ready=meta["ready"], model=meta["model"],
                                    online_store=meta["online_store"])


# bentoml.service returns a Service object; its type hints describe the decorated class.
ChurnService.add_asgi_middleware(GateMiddleware, started=STARTED,  # type: ignore[attr-defined]
                                 spec_hook=STARTED.complete_spec)
ChurnService.add_asgi_middleware(AccessLog, templates=lambda: STARTED.templates)  # type: ignore[attr-defined]
ChurnService.mount_asgi_app(STARTED.retention, path="/", name="retention")  # type: ignore[attr-defined]

__all__ = ["STARTED", "ChurnService", "explain_body", "score_body"]
