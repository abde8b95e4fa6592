"""The one OpenAPI the gateway serves documents every error and bounds every input (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get"}
PROBLEM_MEMBERS = {"type", "title", "status", "code", "detail"}


@pytest.fixture
async def doc(platform) -> dict[str, Any]:
    async with platform.client() as c:
        d = (await c.get("/openapi.json")).json()
    assert set(d["x-kpp-services"].values()) == {"ok"}  # every service's paths are in it
    return d


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return schema


def _expected(path: str, method: str, op: dict) -> set[int]:
    expected = {401, 422, 429, 503}
    if not path.startswith("/api/v1/auth/"):
        expected.add(403)  # logging in is open to anyone
    if "{" in path:
        expected.add(404)
    if method in WRITES:
        expected |= {409, 413}
    if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in op.get("parameters", [])):
        expected |= {412, 428}
    return expected


async def test_every_operation_documents_its_errors_as_problem_details(doc):
    # api-contract: errors are RFC 9457 problem details with a stable code, documented per operation
    missing, not_problem = [], []
    for path, method, op in _operations(doc):
        responses = op["responses"]
        for status in _expected(path, method, op):
            if str(status) not in responses:
                missing.append(f"{method.upper()} {path} {status}")
        for status, response in responses.items():
            if int(status) < 400:
                continue
            schema = (response.get("content") or {}).get("application/problem+json", {}).get("schema")
            if schema is None or not PROBLEM_MEMBERS <= set(_resolve(doc, schema).get("properties", {})):
                not_problem.append(f"{method.upper()} {path} {status}")
    assert not missing, missing[:40]
    assert not not_problem, not_problem[:40]


async def test_forwarded_writes_document_timeout_and_idempotency_key(doc):
    # api-contract: writes accept an Idempotency-Key; a 504 leaves its outcome unknown (409 on retry)
    op = doc["paths"]["/api/v1/projects"]["post"]
    assert "504" in op["responses"] and "409" in op["responses"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
    patch = doc["paths"]["/api/v1/projects/{project_id}"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])  # If-Match (IF_MATCH_REQUIRED)
    login = doc["paths"]["/api/v1/auth/token"]["post"]
    assert "504" not in login["responses"]  # the gateway answers it itself
    assert not any(p["name"] == "Idempotency-Key" for p in login.get("parameters", []))
