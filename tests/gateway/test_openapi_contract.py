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
    if path in ("/healthz", "/readyz"):  # open probes: only "not ready"
        return {503} if path == "/readyz" else set()
    expected = {401, 422, 429, 503}
    if not path.startswith("/api/v1/auth/"):
        expected.add(403)  # logging in is open to anyone
    if "{" in path:
        expected.add(404)
    if method in WRITES:
        expected |= {409, 413}
    for p in op.get("parameters", []):
        if p["in"] == "header" and p["name"].lower() == "if-match":
            expected.add(412)  # issue 16: 428 only where the header is required
            if p.get("required"):
                expected.add(428)
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
    assert {"412", "428"} <= set(patch["responses"])  # If-Match required on a project's PATCH
    act = doc["paths"]["/api/v1/issues/{issue_id}/actions/{action}"]["post"]
    assert "412" in act["responses"] and "428" not in act["responses"]  # issue 16: optional there
    login = doc["paths"]["/api/v1/auth/token"]["post"]
    assert "504" not in login["responses"]  # the gateway answers it itself
    assert not any(p["name"] == "Idempotency-Key" for p in login.get("parameters", []))
    assert "401" not in doc["paths"]["/healthz"]["get"]["responses"]  # probes answer anyone


# strings whose grammar bounds them; an uploaded file (contentMediaType) is bounded by the
# gateway's request-size limit, answered and documented as 413 request.too_large
BOUNDED_FORMATS = {"date", "date-time", "uuid", "time"}


def _unbounded(doc, schema, where, out, seen=()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen, schema = (*seen, name), _resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            _unbounded(doc, sub, where, out, seen)
    kind = schema.get("type")
    if kind == "string" and not (
        {"maxLength", "enum", "const", "contentMediaType"} & set(schema)
        or schema.get("format") in BOUNDED_FORMATS
    ):
        out.append(f"{where}: string")
    if kind == "array":
        if "maxItems" not in schema:
            out.append(f"{where}: array")
        _unbounded(doc, schema.get("items", {}), f"{where}[]", out, seen)
    if kind in ("integer", "number") and not {"maximum", "exclusiveMaximum"} & set(schema):
        out.append(f"{where}: {kind}")
    for name, sub in schema.get("properties", {}).items():
        _unbounded(doc, sub, f"{where}.{name}", out, seen)
    extra = schema.get("additionalProperties")
    if (kind == "object" or "properties" in schema) and extra not in (None, False):
        if "maxProperties" not in schema:
            out.append(f"{where}: object")
        if isinstance(extra, dict):
            _unbounded(doc, extra, f"{where}{{}}", out, seen)


async def test_no_input_string_array_or_number_is_unbounded(doc):
    # issue 14: every array and string a client sends (body, query, path, header) has a
    # documented maximum, and so has every number, so one request cannot stall a service
    out: list[str] = []
    for path, method, op in _operations(doc):
        for param in op.get("parameters", []):
            _unbounded(
                doc, param.get("schema", {}), f"{method.upper()} {path} {param['in']}.{param['name']}", out
            )
        for content in (op.get("requestBody", {}).get("content") or {}).values():
            _unbounded(doc, content.get("schema", {}), f"{method.upper()} {path} body", out)
    assert not out, out
    money = doc["components"]["schemas"]["registry.ProjectIn"]["properties"]["total_investment"]
    assert money["maxLength"] == 20 and money["pattern"].startswith("^[0-9]")  # policy R3: one Money type
