"""The registry's access rules, on the service directly (issue 16, db_session): the list
clause and the one-project check say the same thing for every role."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.registry.access import may_read, read_scope, require_importer, require_read, require_write
from services.registry.models import Project
from shared.errors import Forbidden, NotFound
from tests.principals import (
    CHENGGUAN,
    DONGHE,
    FGJ,
    LEADER,
    NO_CODE_ENTERPRISE,
    OFFICE,
    PLATFORM,
    QIYE,
    QIYE_CODE,
)

ALL = {"chengguan", "chengguan_qiye", "fgj"}
# architecture: a unit sees its own projects, the office/leaders/platforms all, an enterprise
# the projects it carries (by credit code)
EXPECTED = [
    (OFFICE, ALL),
    (LEADER, ALL),
    (PLATFORM, ALL),
    (CHENGGUAN, {"chengguan", "chengguan_qiye"}),
    (DONGHE, set()),
    (FGJ, {"fgj"}),
    (QIYE, {"chengguan_qiye"}),
    (NO_CODE_ENTERPRISE, set()),
]


def project(uniq: str, n: int, unit_id: str, credit: str | None = None) -> Project:
    return Project(
        project_code=f"2091-140000-44-01-{int(uniq, 16) % 100_000:05d}{n}",
        name=f"权限测试项目{uniq}-{n}",
        unit_id=unit_id,
        carrying_unit_credit_code=credit,
        category="industrial",
        total_investment=Decimal("100"),
        scale_band="small",
    )


@pytest.fixture
async def projects(db_session, uniq) -> dict[str, Project]:
    rows = {
        "chengguan": project(uniq, 1, "town-chengguan"),
        "chengguan_qiye": project(uniq, 2, "town-chengguan", QIYE_CODE),
        "fgj": project(uniq, 3, "dept-fgj"),
    }
    db_session.add_all(rows.values())
    await db_session.flush()
    return rows


@pytest.mark.parametrize(("principal", "expected"), EXPECTED, ids=[p.subject for p, _ in EXPECTED])
async def test_the_list_clause_and_the_one_project_check_agree(db_session, projects, principal, expected):
    # architecture + issue 16: read_scope (lists) and may_read (one project) state one rule
    label = {p.id: name for name, p in projects.items()}
    stmt = select(Project.id).where(Project.id.in_(label), read_scope(principal))
    assert {label[i] for i in await db_session.scalars(stmt)} == expected
    assert {name for name, p in projects.items() if may_read(principal, p)} == expected


async def test_unseen_or_missing_is_404_and_only_the_own_unit_writes(db_session, projects):
    # issue 16: a project the caller may not see is 404 project.not_found, as a missing one
    for missing in (None, projects["fgj"]):
        with pytest.raises(NotFound) as err:
            require_read(CHENGGUAN, missing, uuid.uuid4())
        assert err.value.code == "project.not_found"
    assert require_read(LEADER, projects["fgj"], "x") is projects["fgj"]
    require_write(FGJ, projects["fgj"])
    require_write(OFFICE, projects["fgj"])
    for reader_only in (LEADER, PLATFORM, QIYE, CHENGGUAN):  # leaders read all, write none
        with pytest.raises(Forbidden) as err:
            require_write(reader_only, projects["fgj"])
        assert err.value.code == "auth.unit_forbidden"


def test_workbooks_are_imported_by_the_office_and_units_only():
    # architecture (role plus unit) + issue 16: the office and townships/departments import
    # (each row for their own unit); leaders, platforms and enterprises do not
    for importer in (OFFICE, CHENGGUAN, FGJ):
        require_importer(importer)
    for reader in (LEADER, PLATFORM, QIYE):
        with pytest.raises(Forbidden) as err:
            require_importer(reader)
        assert err.value.code == "auth.role_forbidden"
