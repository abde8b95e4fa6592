"""A case written before cases carried their project's unit gets it from the registry when
the database is migrated, so a late event on it meets the ``approval.overdue`` contract
(policy R17: the overdue escalation names the responsible unit)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from ops import migrate
from tests.conftest import ADMIN_URL
from tests.servers import create_database, drop_database, with_database

BEFORE = "b7d2c4e91a13"  # approvals' last revision with a nullable unit


@pytest.fixture
def old_database():
    name = asyncio.run(create_database(ADMIN_URL))
    url = with_database(ADMIN_URL, name)
    migrate.upgrade("registry", url.replace("postgresql://", "postgresql+asyncpg://"))
    migrate.upgrade("approvals", url.replace("postgresql://", "postgresql+asyncpg://"), BEFORE)
    yield url
    asyncio.run(drop_database(ADMIN_URL, name))


PROJECT = """INSERT INTO registry.projects (id, project_code, name, unit_id, category,
  total_investment, government_investment, scale_band, lib_tags, stage, stage_dates, tags,
  major_industrial, version)
VALUES ($1, '2025-140000-44-01-000001', '城关镇污水管网改造', 'town-chengguan', 'infrastructure',
  8000, true, 'large', '{}', 'approval', '{}', '{}', false, 1)"""

CASE = """INSERT INTO approvals.approval_case (id, project_id, project_code, unit_id, kind,
  kind_name, steps, total_limit_days, warn_share, warn_days_left, supplement_window_days,
  agency_unit_ids, project_type, acceptance_mode, missing_items, missing_items_overdue,
  fast_track, phase, state, due_provisional, thresholds, fired, version, created_by)
VALUES ($1, $2, '2025-140000-44-01-000001', NULL, 'low_risk_small', '低风险小型项目', '[]', 20,
  0.8, 3, 5, '{dept-fgj}', 'other', 'standard', '[]', false, false, 'running', 'running',
  false, '[]', '[]', 1, 'first-wave')"""


async def _run(url: str, *statements: tuple) -> list:
    conn = await asyncpg.connect(url)
    try:
        return [await conn.fetch(sql, *args) for sql, *args in statements]
    finally:
        await conn.close()


def test_legacy_case_takes_its_projects_unit(old_database):  # policy R17
    project, case = uuid.uuid4(), uuid.uuid4()
    asyncio.run(_run(old_database, (PROJECT, project), (CASE, case, project)))

    migrate.upgrade("approvals", old_database.replace("postgresql://", "postgresql+asyncpg://"))

    [rows] = asyncio.run(
        _run(old_database, ("SELECT unit_id FROM approvals.approval_case WHERE id = $1", case))
    )
    assert rows[0]["unit_id"] == "town-chengguan"


def test_case_whose_project_is_unknown_stops_the_migration_by_name(old_database):  # policy R17
    case = uuid.uuid4()
    asyncio.run(_run(old_database, (CASE, case, uuid.uuid4())))

    with pytest.raises(RuntimeError, match=str(case)):
        migrate.upgrade("approvals", old_database.replace("postgresql://", "postgresql+asyncpg://"))
    [rows] = asyncio.run(
        _run(old_database, ("SELECT unit_id FROM approvals.approval_case WHERE id = $1", case))
    )
    assert rows[0]["unit_id"] is None  # nothing invented
