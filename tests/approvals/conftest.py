"""Helpers for the approvals tests: a project in the registry, a case, service-hall events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.approvals.models import pipeline
from shared.db import job_session

TZ = "+08:00"


def project_code(uniq: str) -> str:
    return f"2026-140000-44-01-{int(uniq, 16) % 1_000_000:06d}"


def at(day: str, hour: int = 10) -> str:
    """A service-hall timestamp on business date ``day`` (Asia/Shanghai)."""
    return f"{day}T{hour:02d}:00:00{TZ}"


class Hall:
    """The service hall talking to the gateway as the 审批局 window (xzsp)."""

    def __init__(self, platform, uniq: str) -> None:
        self.platform, self.uniq, self.n = platform, uniq, 0

    async def project(self, *, unit_id: str = "town-chengguan", **over: Any) -> dict[str, Any]:
        """A project in the registry (``over``: its category, tags, libraries …)."""
        async with await self.platform.as_user("zdb") as c:
            r = await c.post(
                "/api/v1/projects",
                json={
                    "project_code": project_code(uuid.uuid4().hex[:8]),
                    "name": f"审批测试项目{self.uniq}-{uuid.uuid4().hex[:4]}",
                    "unit_id": unit_id,
                    "category": "industrial",
                    "total_investment": "2600",
                    **over,
                },
            )
            assert r.status_code == 201, r.text
            return r.json()

    async def open_case(
        self,
        kind: str = "low_risk_small",
        user: str = "xzsp",
        project: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        project = project or await self.project()
        async with await self.platform.as_user(user) as c:
            r = await c.post(
                "/api/v1/approval-cases",
                json={
                    "project_id": project["id"],
                    "project_code": project["project_code"],
                    "kind": kind,
                    **extra,
                },
            )
            assert r.status_code == 201, r.text
            return r.json()

    async def event(
        self,
        case_id: str,
        type_: str,
        day: str,
        *,
        expect: int = 201,
        user: str = "xzsp",
        event_id: str | None = None,
        hour: int = 10,
        **extra: Any,
    ):
        self.n += 1
        body = {
            "event_id": event_id or f"hall-{self.uniq}-{self.n}",
            "type": type_,
            "occurred_at": at(day, hour),
            **extra,
        }
        async with await self.platform.as_user(user) as c:
            r = await c.post(f"/api/v1/approval-cases/{case_id}/events", json=body)
        assert r.status_code == expect, r.text
        return r.json()

    async def get(self, case_id: str, user: str = "zdb") -> dict[str, Any]:
        async with await self.platform.as_user(user) as c:
            r = await c.get(f"/api/v1/approval-cases/{case_id}")
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def hall(platform, uniq) -> Hall:
    return Hall(platform, uniq)


async def outbox_events(case_id: str, type_: str | None = None) -> list[dict[str, Any]]:
    t = pipeline.tables.outbox
    q = select(t.c.type, t.c.payload).where(t.c.key == str(case_id)).order_by(t.c.seq)
    if type_:
        q = q.where(t.c.type == type_)
    async with job_session() as s:
        return [{"type": r.type, **r.payload} for r in (await s.execute(q))]


async def audit_actions(case_id: str) -> list[str]:
    async with job_session() as s:
        return [h["action"] for h in await pipeline.history(s, "approval_case", case_id)]
