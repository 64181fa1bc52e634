"""What BentoML's generated ``/docs.json`` leaves out, added before it is served.

BentoML documents 200/400/404/500 for each API and a 400 body with a string ``detail``; the
service also answers 401 (API key), 413 (/explain too big), 415 (not JSON), 422 (rows that
break the model's schema) and 503 (no model yet), every error as ``{"error": text, "type":
name}`` (``serving/api/edge.py`` rewrites BentoML's own 400s to that shape). The "exactly one
of customer_ids, rows or table" rule of the request bodies is a ``oneOf`` here.
``complete_spec`` is pure: it takes the generated document and returns the completed one.
"""

from __future__ import annotations

import copy
from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/ServiceError"}
ERROR_SCHEMA = {
    "type": "object", "title": "ServiceError", "required": ["error"],
    "description": "Every error answer: what went wrong and how to fix it.",
    "properties": {"error": {"type": "string", "description": "the problem and what to change"},
                   "type": {"type": "string", "description": "the error class"}},
}
ONE_INPUT = [{"required": ["customer_ids"]}, {"required": ["rows"]}, {"required": ["table"]}]
ONE_INPUT_TEXT = ("Give exactly one of `customer_ids`, `rows` or `table` (a body with none or "
                  "with two is a 400).")
# The scoring API's own routes (the retention app documents its routes itself).
API_POSTS = ("/score", "/explain", "/reload")
KEYED_GETS = ("/metadata", "/ready", "/metrics")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _errors(path: str, max_explain_cells: int) -> dict[str, dict[str, Any]]:
    out = {"401": _error("No API key, or a wrong one (CXCHURN_API_KEY is set).")}
    if path in API_POSTS:
        out["400"] = _error("The body is malformed: not JSON, a missing or unknown field, a "
                            "value of the wrong type or out of range (the message names it).")
        out["415"] = _error("The body is not sent as application/json.")
        out["503"] = _error("No model is loaded yet (the message says why).")
    if path in ("/score", "/explain"):
        out["422"] = _error("Posted rows do not fit the model's features (the message names "
                            "the feature and the row).")
    if path == "/explain":
        out["413"] = _error(f"More than {max_explain_cells} drivers (customers x top_k) in one "
                            "request (CXCHURN_MAX_EXPLAIN_CELLS): split it.")
    return out


def complete_spec(spec: dict[str, Any], max_explain_cells: int) -> dict[str, Any]:
    """``spec`` (BentoML's OpenAPI document) with the answers and rules it leaves out."""
    spec = copy.deepcopy(spec)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ServiceError"] = ERROR_SCHEMA
    if "InvalidArgument" in schemas:  # BentoML's 400 body, as the service now sends it
        schemas["InvalidArgument"] = {**ERROR_SCHEMA, "title": "InvalidArgument"}
    paths = spec.get("paths", {})
    for path in (*API_POSTS, *KEYED_GETS):
        for operation in paths.get(path, {}).values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].update(_errors(path, max_explain_cells))
    for path in ("/score", "/explain"):
        request = paths.get(path, {}).get("post", {}).get("requestBody", {})
        body = request.get("content", {}).get("application/json", {}).get("schema")
        if isinstance(body, dict):
            request["required"] = True
            body["oneOf"] = ONE_INPUT
            body["description"] = f"{body.get('description') or ''} {ONE_INPUT_TEXT}".strip()
    return spec
