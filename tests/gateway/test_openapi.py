"""One OpenAPI at the gateway, merging the services' schemas; fuzzed by schemathesis."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from services.gateway.config import gateway_settings

ST = Path(sys.executable).with_name("st")
READS = int(os.environ.get("KPP_FUZZ_READS", "20"))  # examples per read operation
WRITES = int(os.environ.get("KPP_FUZZ_WRITES", "80"))  # examples per write operation
PHASES = os.environ.get("KPP_FUZZ_PHASES", "examples,coverage,fuzzing")
SEED = os.environ.get("KPP_FUZZ_SEED", "2026")
FUZZ_TIMEOUT_S = float(os.environ.get("KPP_FUZZ_TIMEOUT_S", "600"))


async def test_merged_openapi_has_every_service_with_chinese_field_names(platform):
    # api-contract: every field documented (with its Chinese name) in the gateway's OpenAPI
    async with platform.client() as c:
        doc = (await c.get("/openapi.json")).json()
        docs_page = await c.get("/docs")
    assert doc["x-kpp-services"] == {s: "ok" for s in ("registry", "approvals", "issues", "scoring")}
    paths = doc["paths"]
    assert "/api/v1/auth/token" in paths and "/api/v1/audit" in paths  # the gateway's own
    assert "/api/v1/projects/{project_id}" in paths  # the registry's
    assert "/internal/units" not in paths
    schemas = doc["components"]["schemas"]
    out = schemas["registry.ProjectOut"]
    assert out["properties"]["project_code"]["description"].startswith("项目代码")
    # every $ref points at a schema that exists (names were rewritten without clashes)
    refs = {r.removeprefix("#/components/schemas/") for r in _refs(doc)}
    assert refs <= set(schemas)
    op = paths["/api/v1/projects/{project_id}"]["get"]
    assert op["operationId"].startswith("registry.")
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "appSignature"}
    assert docs_page.status_code == 200 and "swagger" in docs_page.text.lower()


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


async def _fuzz(gateway: str, token: str, har: Path, *, methods: str, examples: int) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(ST),
        "run",
        f"{gateway}/openapi.json",
        "--url",
        gateway,
        "--checks",
        "not_a_server_error",
        "--phases",
        PHASES,
        "--mode",
        "all",
        "--max-examples",
        str(examples),
        "--no-shrink",
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        methods,
        # changing the shared working-day calendar would move the other tests' deadlines
        "--exclude-path-regex",
        r"^/api/v1/calendar/\{year\}$",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=FUZZ_TIMEOUT_S)
    return proc.returncode, out.decode(errors="replace")


async def test_schemathesis_as_admin_finds_no_server_error(
    platform, new_user, login, tmp_path, uniq, monkeypatch
):
    # architecture: a bad input never yields a 500. Every operation fuzzed through the gateway
    # with a real admin bearer token (obtained by logging in), so the calls reach the services;
    # more examples on the write paths. KPP_FUZZ_READS / KPP_FUZZ_WRITES raise the counts for
    # the long run (docs/gateway.md).
    username = await new_user(uniq, role="admin")  # its own lock-out and rate-limit counters
    token = (await login(username)).json()["access_token"]
    monkeypatch.setattr(gateway_settings(), "user_rate_per_min", 10**6)  # fuzzing, not throttling
    gateway = platform.urls["gateway"]
    statuses: dict[str, int] = {}
    errors: list[str] = []
    for methods, examples in (("--include-method=GET", READS), ("--exclude-method=GET", WRITES)):
        har = tmp_path / f"{methods[2:9]}.har"
        code, text = await _fuzz(gateway, token, har, methods=methods, examples=examples)
        assert har.exists(), text[-3000:]
        for entry in json.loads(har.read_text())["log"]["entries"]:
            status = entry["response"]["status"]
            method, url = entry["request"]["method"], entry["request"]["url"]
            statuses[f"{status // 100}xx"] = statuses.get(f"{status // 100}xx", 0) + 1
            if status >= 500:
                errors.append(f"{status} {method} {url} {entry['response']['content'].get('text', '')[:300]}")
        assert code == 0 or errors, text[-3000:]  # a failure other than a 5xx is shown as is
    print(f"schemathesis: {sum(statuses.values())} calls, {statuses}")
    assert not errors, "\n".join(errors[:50])
    # the calls reached the services as the admin: most answers are not auth refusals
    assert statuses.get("2xx", 0) > 0 and statuses.get("4xx", 0) > 0, statuses
