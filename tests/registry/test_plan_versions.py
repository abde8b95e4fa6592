"""A year's plan under If-Match, called on the service directly inside a rolled-back
transaction (issue 16): no year is left declared for the other tests."""

from __future__ import annotations

import pytest

from services.registry.plans import put_plan
from services.registry.schemas_plans import PlanIn
from shared.errors import PreconditionFailed
from shared.identity import Principal, Role
from shared.preconditions import parse_if_match

OFFICE = Principal(subject="test-zdb", role=Role.key_office, unit_id="office-zdb", name="重点办")
YEAR = 2091  # a year no other test declares; rolled back anyway


def plan(count: int) -> PlanIn:
    return PlanIn(count=count, total_investment="1000")


async def test_plan_versions_follow_the_if_match_contract(db_session):
    # policy R4 (declared plans kept as declared) + issue 16 (one If-Match contract)
    with pytest.raises(PreconditionFailed) as err:  # "*" needs a plan to exist
        await put_plan(db_session, principal=OFFICE, year=YEAR, data=plan(1), if_match=parse_if_match("*"))
    assert err.value.code == "plan.stale"
    first = await put_plan(db_session, principal=OFFICE, year=YEAR, data=plan(1), if_match=None)
    assert first.version == 1
    second = await put_plan(
        db_session, principal=OFFICE, year=YEAR, data=plan(2), if_match=parse_if_match('W/"1"')
    )
    assert second.version == 2 and second.declared["count"] == 2
    with pytest.raises(PreconditionFailed) as err:  # a client still holding version 1
        await put_plan(db_session, principal=OFFICE, year=YEAR, data=plan(3), if_match=parse_if_match('"1"'))
    assert (err.value.code, err.value.extra) == ("plan.stale", {"current_version": 2})
    third = await put_plan(
        db_session, principal=OFFICE, year=YEAR, data=plan(3), if_match=parse_if_match("*")
    )
    assert third.version == 3 and third.declared["count"] == 3
