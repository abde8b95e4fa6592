"""Helpers for the issues tests: projects through the gateway, problems walked step by step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.issues.models import pipeline
from shared.db import job_session

QIYE_CODE = "91140000MA0C1XY858"  # the demo enterprise user's credit code


def code_for(uniq: str) -> str:
    """A project code in the older YYYY-AAAAAA-BB-CC-NNNNNN form, unique per test."""
    return f"2024-140000-44-01-{int(uniq, 16) % 1_000_000:06d}"


async def make_project(
    platform, uniq: str, *, unit: str = "town-chengguan", credit: str | None = QIYE_CODE
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_code": code_for(uniq),
        "name": f"问题测试项目{uniq}",
        "unit_id": unit,
        "category": "industrial",
        "total_investment": "12000",
    }
    if credit:
        body["carrying_unit_credit_code"] = credit
        body["carrying_unit_name"] = "枝柯新材料有限公司"
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body)
        assert r.status_code == 201, r.text
        project = r.json()
        assert project["carrying_unit_credit_code"] == credit  # issue 16: no silent fallback
        return project


async def act(
    c: httpx.AsyncClient, issue_id: str, action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await c.post(f"/api/v1/issues/{issue_id}/actions/{action}", json=body or {})


FIVE = {
    "responsible_unit_id": "dept-fgj",
    "responsible_leader": "李建华",
    "responsible_person": "李娜",
    "solution": "协调办理节能审查，压缩审查时限",
    "time_limit_days": 3,
}


async def report(c: httpx.AsyncClient, project_id: str, **kw: Any) -> dict[str, Any]:
    body = {
        "project_id": project_id,
        "kind": "energy_saving",
        "description": "节能审查迟迟未办结，影响开工",
        "source": "supervision",
    } | kw
    r = await c.post("/api/v1/issues", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def walk_to_assigned(c: httpx.AsyncClient, issue_id: str, **five: Any) -> dict[str, Any]:
    r = await act(c, issue_id, "analyse", {"finding": "属发改局职权范围", "within_authority": True})
    assert r.status_code == 200, r.text
    r = await act(c, issue_id, "decompose", FIVE | five)
    assert r.status_code == 200, r.text
    r = await act(c, issue_id, "assign", {"note": "请按时办结"})
    assert r.status_code == 200, r.text
    return r.json()


async def outbox_events(issue_id: str, type_: str | None = None) -> list[dict[str, Any]]:
    t = pipeline.tables.outbox
    async with job_session() as s:
        stmt = select(t.c.type, t.c.payload).where(t.c.key == issue_id).order_by(t.c.seq)
        rows = (await s.execute(stmt)).all()
    return [{"type": r.type, **r.payload} for r in rows if type_ is None or r.type == type_]


@pytest.fixture
async def project(platform, uniq):
    return await make_project(platform, uniq)
