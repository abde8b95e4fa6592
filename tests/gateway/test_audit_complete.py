"""The audit of a burst of hostile requests is complete (issue 14): one row per request,
with the status the client got and the code of the refusal, whoever refused it."""

from __future__ import annotations

import json

from tests.gateway.conftest import App, project_body


def _progress(month: str, pct: str = "1") -> dict:
    return {"month": month, "investment_month": "1", "cumulative_investment": "1", "progress_pct": pct}


async def test_every_hostile_request_has_one_audit_row_with_its_status_and_code(
    platform, make_project_gw, hall, audit, uniq
):
    # architecture: every call is audited with its principal and request id; issue 14: refusals
    # by the gateway (auth, NUL, unknown path) and by the services (cross-unit, stale, bad
    # month) alike, so cross-unit attempts can be searched for by code
    project = await make_project_gw(uniq, user="chengguan")  # 城关镇's own project
    pid = project["id"]
    huge = 10**20
    forged = App(hall.key, "not-the-secret")
    cases = [  # (who, method, path, request keyword arguments, expected status)
        ("chengguan", "POST", "/api/v1/projects", {"json": project_body(uniq, name=f"项目\x00{uniq}")}, 422),
        ("chengguan", "GET", "/api/v1/projects", {"params": {"page": huge}}, 422),
        ("zdb", "GET", "/api/v1/issues", {"params": {"page": huge}}, 422),
        ("zdb", "GET", "/api/v1/approval-cases", {"params": {"page": "1e20"}}, 422),
        ("zdb", "GET", "/api/v1/projects", {"params": {"q": "城关\x00"}}, 422),
        ("zdb", "GET", "/api/v1/projects/%00", {}, 422),
        (
            "chengguan",
            "POST",
            "/api/v1/projects",
            {"content": b'{"name": "x",', "headers": {"Content-Type": "application/json"}},
            422,
        ),
        (
            "chengguan",
            "POST",
            "/api/v1/projects",
            {"json": project_body(uniq, tags=[f"t{i}" for i in range(50_000)])},
            422,
        ),
        ("chengguan", "POST", "/api/v1/projects", {"json": project_body(uniq, total_investment="１２")}, 422),
        ("chengguan", "POST", f"/api/v1/projects/{pid}/progress", {"json": _progress("0000-01")}, 422),
        (None, "GET", "/api/v1/projects", {}, 401),
        (None, "GET", "/api/v1/projects", {"headers": {"Authorization": "Bearer not-a-token"}}, 401),
        (None, "GET", "/api/v1/units", {"headers": forged.headers("GET", "/api/v1/units")}, 401),
        (None, "POST", "/api/v1/auth/token", {"data": {"username": f"nobody{uniq}", "password": "x"}}, 401),
        # 东河镇 reads 城关镇's project: not even its existence is told (project.not_found)
        ("donghe", "GET", f"/api/v1/projects/{pid}", {}, 404),
        ("donghe", "POST", f"/api/v1/projects/{pid}/progress", {"json": _progress("2025-01")}, 404),
        ("donghe", "GET", "/api/v1/audit", {}, 403),
        (
            "qiye",
            "POST",
            "/api/v1/users",
            {"json": {"username": f"x{uniq}", "name": "某人", "role": "admin"}},
            403,
        ),
        ("chengguan", "PATCH", f"/api/v1/projects/{pid}", {"json": {"name": f"改名{uniq}"}}, 428),
        (
            "chengguan",
            "PATCH",
            f"/api/v1/projects/{pid}",
            {"json": {"name": f"改名{uniq}"}, "headers": {"If-Match": '"999"'}},
            412,
        ),
        ("zdb", "GET", "/api/v1/no-such-thing", {}, 404),
    ]
    answered = []
    for i, (who, method, path, kwargs, expected) in enumerate(cases):
        rid = f"hostile-{uniq}-{i:02d}"
        headers = {"X-Request-ID": rid, **kwargs.pop("headers", {})}
        client = await platform.as_user(who) if who else platform.client()
        async with client as c:
            r = await c.request(method, path, headers=headers, **kwargs)
        assert r.status_code == expected, (i, path, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), (i, r.text[:300])
        assert r.headers["x-request-id"] == rid
        answered.append((rid, who, method, r.status_code, r.json()["code"]))
    for rid, who, method, status, code in answered:
        rows = await audit(request_id=rid)
        assert len(rows) == 1, (rid, rows)  # exactly one row: none lost, none doubled
        row = rows[0]
        assert (row["method"], row["status"], row["code"]) == (method, status, code), (rid, json.dumps(row))
        assert row["principal"] == (f"user:{who}" if who else None), row
    # the cross-unit attempts on 城关镇's project are found by the code the registry refused with
    for rid, _, _, _, code in answered[14:16]:
        assert code and code.startswith("project."), code
        assert rid in {r["request_id"] for r in await audit(principal="user:donghe", code=code)}
