"""What the scoring service does with other services' events (each applied once, via the inbox)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.models import ProjectFact


async def on_project_created(session: AsyncSession, event: dict[str, Any]) -> None:
    p = event["payload"]
    await session.execute(
        insert(ProjectFact)
        .values(
            project_id=uuid.UUID(p["id"]),
            project_code=p["project_code"],
            unit_id=p["unit_id"],
            category=p["category"],
            total_investment=Decimal(p["total_investment"]),
            created_event_id=uuid.UUID(event["id"]),
        )
    )


HANDLERS = {"project.created": on_project_created}
