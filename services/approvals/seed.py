"""Demo/base data of the approvals service (idempotent): the official calendar years from
chinese-calendar (R15) and the built-in approval kinds (R16, R21)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.calendar_store import seed_official_years
from services.approvals.kinds import ensure_builtin_kinds


async def seed_demo(session: AsyncSession) -> bool:
    years = await seed_official_years(session)
    kinds = await ensure_builtin_kinds(session)
    return bool(years or kinds)
