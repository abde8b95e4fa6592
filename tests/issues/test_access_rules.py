"""The issues service's access rules on the service directly (issue 16, db_session): who
sees which problem (the list clause and the one-problem check agree) and who takes which
kind of action."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.issues.access import may_read, read_scope, require_action, require_read
from services.issues.models import Issue
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
    QIYE_CODE,
    XZSP,
)

ALL = {"qiye_project", "assigned", "donghe_own"}
# architecture + policy R22/R23: a unit sees its projects' problems and those it is the
# responsible or an assisting unit of; an enterprise its own projects'; office/leaders all
SEES = [
    (OFFICE, ALL),
    (LEADER, ALL),
    (PLATFORM, ALL),
    (CHENGGUAN, {"qiye_project", "assigned"}),  # its project; assisting on "assigned"
    (DONGHE, {"assigned", "donghe_own"}),  # the project's unit of both
    (FGJ, {"assigned"}),  # responsible unit
    (XZSP, set()),
    (QIYE, {"qiye_project"}),
    (NO_CODE_ENTERPRISE, set()),
]
# policy R22: on "assigned" (project town-donghe, responsible dept-fgj, assisting
# town-chengguan) the flow table's actors are, besides the office:
ACTS = {
    "office": {"t-zdb"},
    "owner": {"t-zdb", "t-donghe", "t-fgj"},
    "responsible": {"t-zdb", "t-fgj"},
    "worker": {"t-zdb", "t-fgj", "t-chengguan"},
}


def issue(project_unit: str, *, responsible: str | None = None, assisting=(), enterprise=None) -> Issue:
    return Issue(
        project_id=uuid.uuid4(),
        project_unit_id=project_unit,
        enterprise_code=enterprise,
        responsible_unit_id=responsible,
        assisting_unit_ids=list(assisting),
        kind="land",
        description="权限测试",
        source="supervision",
        reporter="t-zdb",
        reporter_role="key_office",
    )


@pytest.fixture
async def issues(db_session) -> dict[str, Issue]:
    rows = {
        "qiye_project": issue("town-chengguan", enterprise=QIYE_CODE),
        "assigned": issue("town-donghe", responsible="dept-fgj", assisting=["town-chengguan"]),
        "donghe_own": issue("town-donghe", responsible="town-donghe"),
    }
    db_session.add_all(rows.values())
    await db_session.flush()
    return rows


@pytest.mark.parametrize(("principal", "expected"), SEES, ids=[p.subject for p, _ in SEES])
async def test_the_list_clause_and_the_one_problem_check_agree(db_session, issues, principal, expected):
    # issue 16: read_scope (lists, ledger, overview) and may_read (one problem) state one rule
    label = {i.id: name for name, i in issues.items()}
    stmt = select(Issue.id).where(Issue.id.in_(label), read_scope(principal))
    assert {label[i] for i in await db_session.scalars(stmt)} == expected
    assert {name for name, i in issues.items() if may_read(principal, i)} == expected


async def test_an_unseen_problem_is_403_issue_forbidden(db_session, issues):
    # architecture: a township sees its own problems only; the refusal names the rule
    with pytest.raises(Forbidden) as err:
        require_read(FGJ, issues["donghe_own"])
    assert err.value.code == "issue.forbidden"


@pytest.mark.parametrize("who", sorted(ACTS))
async def test_who_takes_each_kind_of_action(db_session, issues, who):
    # policy R22/R23: the flow table's actor decides; leaders, platforms, enterprises never act
    allowed = set()
    for principal in (OFFICE, LEADER, PLATFORM, CHENGGUAN, DONGHE, FGJ, XZSP, QIYE):
        try:
            require_action(principal, issues["assigned"], who)
            allowed.add(principal.subject)
        except Forbidden as err:
            assert err.code == "issue.action_forbidden"
    assert allowed == ACTS[who]
