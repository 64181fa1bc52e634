"""The service's HTTP edge, before BentoML parses anything: auth, content type, error bodies,
the access log and what BentoML logs about client errors.

- ``GateMiddleware``: 401 without the right API key on every route but the health probes
  (``/health``, ``/healthz``, ``/livez``, ``/readyz``) and the API descriptions (``/docs.json``,
  ``/schema.json``: they describe the API and hold no data); 415 for a body that is not JSON;
  BentoML's 400 bodies rewritten to the documented ``{"error": text, "type": ...}`` (BentoML
  answers a list ``detail``, and a one-element list for its own client errors); ``/docs.json``
  completed by ``serving.api.openapi.complete_spec``.
- ``AccessLog``: one line per request with the route template (``/customer/{customer_id}``),
  never the path a client sent: paths carry customer ids. BentoML's own access log is off
  (``logging.access.enabled`` in the service config).
- ``ClientErrorFilter``: BentoML logs every request it cannot parse at ERROR with a traceback;
  a client's mistake is one WARNING line without the traceback (server errors stay ERROR).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from starlette.responses import JSONResponse
from starlette.routing import compile_path

from serving.auth import ApiKeyCheck, AuthError

OPEN = frozenset({"/health", "/healthz", "/livez", "/readyz", "/docs.json", "/schema.json"})
JSON_ONLY = frozenset({"/score", "/explain", "/reload"})
CLIENT_ERROR_LOGGER = "bentoml._internal.server.http_app"  # BentoML's log_exception
ACCESS_LOGGER = "bentoml.access"  # shown at INFO by BentoML's logging setup

Send = Callable[[dict[str, Any]], Awaitable[None]]


class HasAuth(Protocol):
    auth: ApiKeyCheck | None


# ---------------------------------------------------------------------------- error bodies
def error_text(body: Any) -> str | None:
    """BentoML's 400 body as one line (None when it is already ours)."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        body = body[0]  # BentoML wraps its own client errors in a list
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return None
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail[:10]:
            if isinstance(item, dict):
                where = ".".join(str(x) for x in item.get("loc", ()))
                parts.append(f"{where or 'request'}: {item.get('msg', 'invalid')}")
        return ("invalid request: " + "; ".join(parts) + "; see /docs.json for the expected "
                "body") if parts else body["error"]
    if "type" in body and detail is None:
        return None
    return body["error"]


def _rewrite_400(body: bytes) -> bytes | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    text = error_text(parsed)
    if text is None:
        return None
    return json.dumps({"error": text, "type": "RequestValidationError"}).encode()


async def _buffered(app: Any, scope: Any, receive: Any, send: Send,
                    rewrite: Callable[[int, bytes], bytes | None]) -> None:
    """Run ``app``; when ``rewrite(status, body)`` gives bytes, send those instead."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body" or not start:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        new = rewrite(int(start["status"]), body)
        headers = list(start.get("headers") or [])
        if new is not None:
            body = new
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    await app(scope, receive, capture)


# ---------------------------------------------------------------------------- the gate
class GateMiddleware:
    """See the module docstring. ``started.auth`` is None until the service has started."""

    def __init__(self, app: Any, started: HasAuth, spec_hook: Callable[[dict[str, Any]],
                 dict[str, Any]] | None = None) -> None:
        self.app = app
        self.started = started
        self.spec_hook = spec_hook

    def _refusal(self, scope: Any) -> JSONResponse | None:
        path = scope["path"].rstrip("/") or "/"
        headers = dict(scope.get("headers") or [])
        auth = self.started.auth
        needs_key = path not in OPEN and not _page_route(path)
        if needs_key and auth is None:
            return JSONResponse({"error": "the service is still starting; retry in a few "
                                 "seconds", "type": "ModelNotReadyError"}, status_code=503)
        if needs_key and auth is not None:
            header = headers.get(b"authorization")
            try:
                auth(header.decode("latin-1") if header else None)
            except AuthError as err:
                return JSONResponse({"error": str(err), "type": "AuthError"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        if path in JSON_ONLY and scope["method"] == "POST":
            kind = headers.get(b"content-type", b"application/json").decode("latin-1")
            if kind.split(";")[0].strip().lower() != "application/json":
                return JSONResponse({"error": (
                    f"unsupported Content-Type {kind[:60]!r}: send the body as JSON with the "
                    "header 'Content-Type: application/json'"), "type": "UnsupportedMediaType"},
                    status_code=415)
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = self._refusal(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        path = scope["path"].rstrip("/")
        if path in JSON_ONLY:
            await _buffered(self.app, scope, receive, send,
                            lambda status, body: _rewrite_400(body) if status == 400 else None)
        elif path == "/docs.json" and self.spec_hook is not None:
            hook = self.spec_hook
            await _buffered(self.app, scope, receive, send, lambda status, body: json.dumps(
                hook(json.loads(body))).encode() if status == 200 else None)
        else:
            await self.app(scope, receive, send)


def _page_route(path: str) -> bool:
    """The retention app checks its own auth (a sign-in page, a session cookie for the
    browser); everything it serves is left to it."""
    return (path in ("/", "/login", "/logout", "/docs", "/openapi.json", "/inbox", "/experience")
            or path.startswith(("/customer/", "/static/", "/retention/", "/inbox/")))


# ---------------------------------------------------------------------------- logging
def _paths(routes: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, bool]]:
    """(path template, is a mount) of every route, routers included by FastAPI flattened."""
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included router
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _paths(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
        elif isinstance(getattr(route, "path", None), str):
            yield prefix + route.path, hasattr(route, "routes") and hasattr(route, "app")


class RouteTemplates:
    """Request path -> route template, from the apps' routes plus fixed paths."""

    def __init__(self, routes: Iterable[Any] = (), fixed: Iterable[str] = ()) -> None:
        self.fixed = set(fixed)
        self.patterns: list[tuple[re.Pattern[str], str]] = []
        for template, is_mount in _paths(routes):
            regex, _, convertors = compile_path(template)
            if is_mount:
                template = f"{template}/{{path}}"
                regex = re.compile(f"^{re.escape(template[:-len('{path}')])}")
            elif not convertors:
                self.fixed.add(template)
                continue
            self.patterns.append((regex, template))

    def template(self, path: str) -> str:
        if path in self.fixed:
            return path
        for regex, template in self.patterns:
            if regex.match(path):
                return template
        return "<unrouted>"  # never echo an unknown path: it may hold an id


class AccessLog:
    """ASGI middleware: ``method template status bytes ms``, the template from ``templates``
    (a callable so that routes filled in at start are seen)."""

    def __init__(self, app: Any, templates: Callable[[], RouteTemplates]) -> None:
        self.app = app
        self.templates = templates
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, size = 0, 0

        async def counting(message: dict[str, Any]) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            self.log.info("%s %s %d %dB %.1fms", scope.get("method", ""),
                          self.templates().template(scope["path"]), status, size,
                          (time.perf_counter() - start) * 1000)


def _client_error(exc: BaseException | None) -> bool:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return True
    code = getattr(getattr(exc, "error_code", None), "value", None)
    return isinstance(code, int) and 400 <= code < 500


class ClientErrorFilter(logging.Filter):
    """On BentoML's request-error logger: a client error becomes one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.levelno >= logging.ERROR and _client_error(exc):
            count = getattr(exc, "error_count", None)
            what = f"{count()} validation error(s)" if callable(count) else type(exc).__name__
            method = record.args[1] if isinstance(record.args, tuple) and len(
                record.args) > 1 else ""
            path = record.args[0] if isinstance(record.args, tuple) and record.args else ""
            record.msg, record.args = "client error on %s [%s]: %s (answered 400)", (
                path, method, what)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def install_log_filters() -> None:
    """Once per worker process (the service's start)."""
    logger = logging.getLogger(CLIENT_ERROR_LOGGER)
    if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
        logger.addFilter(ClientErrorFilter())
