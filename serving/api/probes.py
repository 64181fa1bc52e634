"""GET endpoints of the scoring service: health, readiness and metadata.

BentoML's ``@bentoml.api`` routes are POST-only, while probes and metadata are naturally GET;
they live in a small FastAPI app mounted into the service (and so appear in its OpenAPI).
``/health`` answers 200 as long as the process serves HTTP; ``/ready`` answers 503 with the
reason until a model is loaded; ``/metadata`` says which model is served and from where.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    ready: bool
    reason: str | None = Field(default=None, description="Why the service is not ready.")


def make_probe_app(runtime: Any) -> FastAPI:
    """The FastAPI app for ``runtime`` (a ``ServingRuntime``)."""
    app = FastAPI(title="cxchurn probes", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health", response_model=Health, tags=["probes"])
    def health() -> dict[str, str]:
        """Liveness: the process answers HTTP (needs no API key)."""
        return {"status": "ok"}

    @app.get("/ready", response_model=Readiness, tags=["probes"],
             responses={503: {"model": Readiness, "description": "No model loaded yet."}})
    def ready() -> Any:
        """Readiness: true once a model is loaded (from the registry or the local cache)."""
        meta = runtime.metadata()
        body = {"ready": meta["ready"], "reason": meta["reason"]}
        return JSONResponse(body, status_code=200 if meta["ready"] else 503)

    @app.get("/metadata", tags=["probes"], responses={200: {"content": {"application/json": {
        "example": {"ready": True, "model_name": "cxchurn", "model": {
            "model_version": "3", "alias": "champion", "source": "registry",
            "trained_at": "2025-07-02T10:00:00+00:00", "spec_version": "0a012fefce11b997",
            "metrics": {"test_roc_auc": 0.76}}}}}}})
    def metadata() -> dict[str, Any]:
        """Model name, version, alias, trained-at, spec version, metrics, features, store."""
        return runtime.metadata()

    return app
