"""The scoring service's access rules on the service directly (issue 16, db_session): which
unit records a list shows, who sees one letter, who reads rankings."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from services.scoring.access import require_ranking_reader, require_read_assignment, unit_scope
from services.scoring.models import Assignment
from shared.errors import Forbidden, NotFound
from tests.principals import CHENGGUAN, DONGHE, FGJ, LEADER, OFFICE, PLATFORM, QIYE

# policy R28: a unit sees its own letters (a unit it asks for is ignored); readers of
# everything see the unit they ask for, or all
LISTS = [
    (OFFICE, None, {"chengguan", "fgj"}),
    (OFFICE, "dept-fgj", {"fgj"}),
    (LEADER, "town-chengguan", {"chengguan"}),
    (PLATFORM, None, {"chengguan", "fgj"}),
    (CHENGGUAN, None, {"chengguan"}),
    (CHENGGUAN, "dept-fgj", {"chengguan"}),
    (FGJ, None, {"fgj"}),
    (DONGHE, None, set()),
    (QIYE, None, set()),
]


def letter(unit_id: str) -> Assignment:
    return Assignment(
        task="权限测试任务",
        unit_id=unit_id,
        issued_on=date(2091, 3, 1),
        deadline=date(2091, 3, 31),
        source="meeting",
        created_by="t-zdb",
    )


@pytest.fixture
async def letters(db_session) -> dict[str, Assignment]:
    rows = {"chengguan": letter("town-chengguan"), "fgj": letter("dept-fgj")}
    db_session.add_all(rows.values())
    await db_session.flush()
    return rows


@pytest.mark.parametrize(
    ("principal", "requested", "expected"), LISTS, ids=[f"{p.subject}-{r}" for p, r, _ in LISTS]
)
async def test_a_list_shows_the_units_the_principal_may_see(
    db_session, letters, principal, requested, expected
):
    # issue 16: one clause for the letters, summons and objections lists
    label = {a.id: name for name, a in letters.items()}
    stmt = select(Assignment.id).where(
        Assignment.id.in_(label), unit_scope(Assignment.unit_id, principal, requested)
    )
    assert {label[i] for i in await db_session.scalars(stmt)} == expected


async def test_another_units_letter_is_404_and_rankings_are_not_for_enterprises(db_session, letters):
    # policy R28 (a unit's letters are its own) / R29 (rankings are for government staff)
    with pytest.raises(NotFound) as err:
        require_read_assignment(FGJ, letters["chengguan"], letters["chengguan"].id)
    assert err.value.code == "assignment.not_found"
    with pytest.raises(NotFound):
        require_read_assignment(OFFICE, None, uuid.uuid4())
    assert require_read_assignment(LEADER, letters["chengguan"], "x") is letters["chengguan"]
    for reader in (OFFICE, LEADER, PLATFORM, CHENGGUAN):
        require_ranking_reader(reader)
    with pytest.raises(Forbidden) as err:
        require_ranking_reader(QIYE)
    assert err.value.code == "auth.role_forbidden"
