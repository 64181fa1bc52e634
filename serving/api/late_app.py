"""An ASGI app BentoML can mount when the service class is defined, filled when it starts.

BentoML reads a service's mounted apps when the class is defined, but the probes and the
retention app need the runtime, which is built only when the service starts
(``ChurnService.__init__``). ``LateApp`` stands in for such an app: a FastAPI app (so BentoML
routes into it and lists its paths in the OpenAPI document) whose routes, requests and
lifespan are those of the app given to ``fill``. Until then it has no routes, and a request
that still reaches it gets 503.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send


class LateApp(FastAPI):
    """A mount point whose app arrives at start; see the module docstring."""

    def __init__(self, name: str) -> None:
        super().__init__(title=name, docs_url=None, redoc_url=None, openapi_url=None,
                         lifespan=self._inner_lifespan)
        self.name = name
        self.inner: FastAPI | None = None

    def fill(self, app: FastAPI) -> None:
        """Serve ``app`` from now on (called once the service has its runtime)."""
        self.inner = app

    @property
    def routes(self) -> list[BaseRoute]:
        return self.inner.routes if self.inner is not None else []

    @contextlib.asynccontextmanager
    async def _inner_lifespan(self, _app: Any) -> AsyncIterator[None]:
        if self.inner is None:
            yield
            return
        async with self.inner.router.lifespan_context(self.inner):
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is not None:
            await self.inner(scope, receive, send)
        elif scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
        else:
            response = JSONResponse({"error": f"the {self.name} app is not started yet; retry "
                                     "in a few seconds"}, status_code=503)
            await response(scope, receive, send)
