"""One OpenAPI at the gateway, merging the services' schemas; fuzzed by schemathesis."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from services.gateway.config import gateway_settings
from tests.gateway.conftest import project_body

ST = Path(sys.executable).with_name("st")
READS = int(os.environ.get("KPP_FUZZ_READS", "20"))  # examples per read operation
WRITES = int(os.environ.get("KPP_FUZZ_WRITES", "80"))  # examples per write operation
PHASES = os.environ.get("KPP_FUZZ_PHASES", "examples,coverage,fuzzing")
SEED = os.environ.get("KPP_FUZZ_SEED", "2026")
FUZZ_PLAN_YEARS_FROM = 2090  # up to 2100, the bound of the path
LOG_DIR = os.environ.get("KPP_FUZZ_LOG_DIR")
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


def _staff_document(doc: dict) -> dict:
    """The served document with bearer auth only: schemathesis would otherwise also fill the
    platforms' ``X-App-Key`` scheme with made-up keys, and the gateway answers those 401
    before any service sees the call. Without ``Idempotency-Key`` too: generated keys repeat
    ("0", "00" …), and a reused key is answered 409 by the gateway itself (tested on its own in
    test_idempotency_audit.py)."""
    doc["security"] = [{"bearer": []}]
    doc["components"]["securitySchemes"].pop("appSignature")
    for item in doc["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p["name"] != "Idempotency-Key"
                ]
    # a year's plan is shared by everyone: the fuzzer declares only years no other test uses
    for param in doc["paths"]["/api/v1/plans/{year}"]["put"]["parameters"]:
        if param["name"] == "year":
            param["schema"]["minimum"] = FUZZ_PLAN_YEARS_FROM
    return doc


def _operation_of(doc: dict):
    """(method, URL) → "METHOD /template" of the documented operation it calls, or None (the
    coverage phase also tries undocumented methods: TRACE, QUERY …)."""
    patterns = [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in doc["paths"]
    ]
    patterns.sort(key=lambda p: p[1].count("{"))  # literal segments win over ids

    def match(method: str, url: str) -> str:
        path = urlsplit(url).path
        template = next((tpl for rx, tpl in patterns if rx.match(path)), None)
        if template is None or method.lower() not in doc["paths"][template]:
            return None
        return f"{method} {template}"

    return match


async def _fuzz_config(platform, token: str, uniq: str) -> str:
    """Real ids for some of the calls (the rest stay generated), so that fuzzed bodies reach
    the domain logic of an existing project and issue instead of a 404 (the run's own data)."""
    async with platform.client(headers={"Authorization": f"Bearer {token}"}) as c:
        project = await c.post("/api/v1/projects", json=project_body(uniq, unit="office-zdb"))
        assert project.status_code == 201, project.text
        pid = project.json()["id"]
        issue = await c.post(
            "/api/v1/issues",
            json={
                "project_id": pid,
                "kind": "land",
                "source": "enterprise_report",
                "description": f"征地补偿未落实（模糊测试 {uniq}）",
            },
        )
        assert issue.status_code == 201, issue.text
    ids = {"project_id": pid, "issue_id": issue.json()["id"]}
    lines = [f'[dictionaries.{name}]\nvalues = ["{value}"]\n' for name, value in ids.items()]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in ids]
    return "\n".join(lines) + "\n"


async def _fuzz(
    schema: Path, config: Path, gateway: str, token: str, har: Path, *, methods: str, examples: int
) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(ST),
        "--config-file",
        str(config),
        "run",
        str(schema),
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
        # one worker thread: CPython 3.11 before 3.11.8 can raise "AST constructor recursion
        # depth mismatch" when threads parse at once (gh-106905), and hypothesis parses its
        # strategies' source; a crashed run proves nothing about our answers
        "--workers",
        "1",
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
    # architecture: a bad input never yields a 500. Every operation is fuzzed through the
    # gateway with a real admin bearer token (obtained by logging in), so the calls reach the
    # services; more examples on the write paths. KPP_FUZZ_READS / KPP_FUZZ_WRITES raise the
    # counts for the long run (docs/gateway.md).
    username = await new_user(uniq, role="admin")  # its own lock-out and rate-limit counters
    token = (await login(username)).json()["access_token"]
    monkeypatch.setattr(gateway_settings(), "user_rate_per_min", 10**6)  # fuzzing, not throttling
    gateway = platform.urls["gateway"]
    async with platform.client() as c:
        doc = _staff_document((await c.get("/openapi.json")).json())
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(doc))
    config = tmp_path / "schemathesis.toml"
    config.write_text(await _fuzz_config(platform, token, uniq))
    operation_of = _operation_of(doc)
    answers: dict[str, set[int]] = {}
    server_errors: list[str] = []
    calls = 0
    for methods, examples in (("--include-method=GET", READS), ("--exclude-method=GET", WRITES)):
        har = tmp_path / f"{methods[2:9]}.har"
        started = time.monotonic()
        code, text = await _fuzz(schema, config, gateway, token, har, methods=methods, examples=examples)
        assert har.exists(), text[-3000:]
        if LOG_DIR:  # the long run keeps schemathesis' own report and every call it made
            (Path(LOG_DIR) / f"st{methods[1:10]}.txt").write_text(text)
            shutil.copy(har, Path(LOG_DIR) / har.name)
        entries = json.loads(har.read_text())["log"]["entries"]
        for entry in entries:
            status, method = entry["response"]["status"], entry["request"]["method"]
            if operation := operation_of(method, entry["request"]["url"]):
                answers.setdefault(operation, set()).add(status)
            if status >= 500:
                body = entry["response"]["content"].get("text", "")[:300]
                server_errors.append(f"{status} {method} {entry['request']['url']} {body}")
        calls += len(entries)
        print(f"{methods}: {len(entries)} calls in {time.monotonic() - started:.0f} s")
        assert code == 0 or server_errors, text[-3000:]  # a failure other than a 5xx, as is
    print(f"schemathesis: {len(answers)} operations, {calls} calls, {len(server_errors)} × 5xx")
    assert not server_errors, "\n".join(server_errors[:50])
    # the calls reached the services as the admin: no operation answered only "unauthenticated"
    only_401 = sorted(op for op, seen in answers.items() if seen == {401})
    assert not only_401, only_401
    assert len(answers) >= 80, sorted(answers)  # every documented operation was called
