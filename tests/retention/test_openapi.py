"""The retention JSON API documents its bodies: every field of every response has a description."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from serving.retention.app import make_retention_app

JSON_ROUTES = {("/retention/at-risk", "get", "200"), ("/retention/recommend", "post", "200"),
               ("/retention/outcomes", "post", "201"), ("/retention/outcomes", "get", "200"),
               ("/kpis", "get", "200"), ("/drivers", "get", "200"),
               ("/retention/claim", "post", "200"),
               ("/retention/release", "post", "200"), ("/retention/status", "post", "200"),
               ("/retention/assignments", "get", "200")}


def _schema(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_json_route_has_a_described_response_model() -> None:
    spec = make_retention_app(MagicMock()).openapi()
    seen: set[str] = set()
    todo = []
    for path, method, status in JSON_ROUTES:
        responses = spec["paths"][path][method]["responses"]
        todo.append(responses[status]["content"]["application/json"]["schema"]["$ref"])
        assert "$ref" in responses["400"]["content"]["application/json"]["schema"]
    while todo:  # the response models and the models they nest
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        schema = _schema(spec, ref)
        for name, prop in schema["properties"].items():
            assert prop.get("description"), (ref, name)
            for part in [prop, prop.get("items", {}), *prop.get("anyOf", [])]:
                if "$ref" in part:
                    todo.append(part["$ref"])
    assert len(seen) >= 7
