"""The approvals service's access rules on the service directly (issue 16, db_session):
who opens cases, who reads which (the list clause and the one-case check agree), who
records events."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.approvals.access import (
    may_open,
    may_post_event,
    may_read,
    read_scope,
    require_post_event,
)
from services.approvals.models import ApprovalCase
from shared.errors import Forbidden
from tests.principals import (
    CHENGGUAN,
    DONGHE,
    FGJ,
    LEADER,
    NO_CODE_ENTERPRISE,
    OFFICE,
    PLATFORM,
    QIYE,
    XZSP,
)

ALL = {"chengguan_case", "donghe_case"}
# policy R16–R21: the office, the platform and the approval bureau's window open and read
# every case (leaders read all); a unit reads its projects' cases and those it approves
READS = [
    (OFFICE, ALL),
    (LEADER, ALL),
    (PLATFORM, ALL),
    (XZSP, ALL),
    (CHENGGUAN, {"chengguan_case"}),  # its project
    (DONGHE, {"donghe_case"}),
    (FGJ, {"chengguan_case"}),  # an approving agency of it
]


def case(unit_id: str, agencies: list[str]) -> ApprovalCase:
    return ApprovalCase(
        project_id=uuid.uuid4(),
        project_code="2091-140000-44-01-000001",
        unit_id=unit_id,
        kind="t-kind",
        kind_name="权限测试事项",
        steps=[{"code": "review", "name": "审查", "limit_days": 5, "agency_unit_id": agencies[0]}],
        total_limit_days=5,
        warn_share=Decimal("0.8"),
        warn_days_left=1,
        supplement_window_days=5,
        agency_unit_ids=agencies,
        created_by="t-xzsp",
    )


@pytest.fixture
async def cases(db_session) -> dict[str, ApprovalCase]:
    rows = {
        "chengguan_case": case("town-chengguan", ["dept-fgj"]),
        "donghe_case": case("town-donghe", ["dept-zrzyj"]),
    }
    db_session.add_all(rows.values())
    await db_session.flush()
    return rows


@pytest.mark.parametrize(("principal", "expected"), READS, ids=[p.subject for p, _ in READS])
async def test_the_list_clause_and_the_one_case_check_agree(db_session, cases, principal, expected):
    # issue 16: read_scope (list, overview) and may_read (one case) state one rule
    label = {c.id: name for name, c in cases.items()}
    stmt = select(ApprovalCase.id).where(ApprovalCase.id.in_(label), read_scope(principal))
    assert {label[i] for i in await db_session.scalars(stmt)} == expected
    assert {name for name, c in cases.items() if may_read(principal, c)} == expected


async def test_an_enterprise_lists_no_cases_and_opens_none(db_session, cases):
    # policy R16: cases are the government's working files; an enterprise is refused outright
    for enterprise in (QIYE, NO_CODE_ENTERPRISE):
        with pytest.raises(Forbidden) as err:
            read_scope(enterprise)
        assert err.value.code == "approval_case.forbidden"
        assert not may_read(enterprise, cases["chengguan_case"])
    assert {p.subject for p in (OFFICE, LEADER, PLATFORM, XZSP, FGJ, CHENGGUAN) if may_open(p)} == {
        "t-zdb",
        "t-platform",
        "t-xzsp",
    }


async def test_events_are_recorded_by_the_intake_and_the_approving_agencies(db_session, cases):
    # policy R17/R18: the window and each agency record what happened; the project's own
    # township and leaders read but do not record
    chengguan_case = cases["chengguan_case"]
    everyone = (OFFICE, LEADER, PLATFORM, XZSP, CHENGGUAN, DONGHE, FGJ, QIYE)
    recorders = {p.subject for p in everyone if may_post_event(p, chengguan_case)}
    assert recorders == {"t-zdb", "t-platform", "t-xzsp", "t-fgj"}
    with pytest.raises(Forbidden) as err:
        require_post_event(CHENGGUAN, chengguan_case)
    assert err.value.code == "approval_event.forbidden"
