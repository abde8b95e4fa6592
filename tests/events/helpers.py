"""Producing real events (registry's project.created, consumed by scoring) and counting
their effects, for the event pipeline's fault tests."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.scoring.models import ProjectFact
from services.scoring.models import pipeline as scoring_pipeline
from shared.db import job_session


def project_code(uniq: str, n: int) -> str:
    # a national project code: year-region-industry-kind-serial (policy R14)
    return f"2024-140000-44-01-{(int(uniq, 16) + n) % 1_000_000:06d}"


async def create_projects(platform, uniq: str, count: int) -> list[uuid.UUID]:
    """Projects created through the gateway: each commits one project.created event."""
    ids = []
    async with await platform.as_user("zdb") as c:
        for n in range(count):
            r = await c.post(
                "/api/v1/projects",
                json={
                    "project_code": project_code(uniq, n),
                    "name": f"故障演练项目{uniq}-{n}",
                    "unit_id": "town-donghe",
                    "category": "livelihood",
                    "total_investment": "100",
                },
            )
            assert r.status_code == 201, r.text
            ids.append(uuid.UUID(r.json()["id"]))
    return ids


async def facts_for(project_ids: list[uuid.UUID]) -> int:
    """How many of these projects scoring has recorded (one row per applied event)."""
    async with job_session() as session:
        return await session.scalar(
            select(func.count()).select_from(ProjectFact).where(ProjectFact.project_id.in_(project_ids))
        )


async def inbox_rows_for(project_ids: list[uuid.UUID]) -> int:
    inbox = scoring_pipeline.tables.inbox
    async with job_session() as session:
        event_ids = select(ProjectFact.created_event_id).where(ProjectFact.project_id.in_(project_ids))
        return await session.scalar(
            select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(event_ids))
        )
