"""The project read on its own pooled connection (issue 15): it answers what the session
did, and can run nothing but a plain SELECT."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, insert, select, update

from services.registry.models import Project
from shared.db import ReadOnlySessionError, ReadStatement


async def test_read_on_its_own_connection_answers_as_the_unit_of_work_did(platform, make_project, uniq):
    # issue 15 (architecture: authorisation in each service): the read without a session
    # still hides another unit's project behind the same 404 as a missing one, and shows
    # the responsible township its project with the ETag a PATCH needs
    township = await make_project(uniq, unit_id="town-donghe")
    async with await platform.as_user("chengguan") as c:
        missing = await c.get(f"/api/v1/projects/{uuid.uuid4()}")
        hidden = await c.get(f"/api/v1/projects/{township['id']}")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json()["code"] == hidden.json()["code"] == "project.not_found"  # no existence leak
    assert hidden.headers["content-type"].startswith("application/problem+json")
    async with await platform.as_user("donghe") as c:
        r = await c.get(f"/api/v1/projects/{township['id']}")
    assert r.status_code == 200
    assert r.json()["name"] == township["name"]
    assert r.json()["total_investment"] == township["total_investment"]  # money as a string
    assert r.headers["etag"] == f'"{township["version"]}"'
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    "statement",
    [
        insert(Project).values(name="x"),
        update(Project).values(name="x"),
        delete(Project),
        select(Project.id).with_for_update(),
        select(Project.id).add_cte(update(Project).values(name="x").returning(Project.id).cte()),
    ],
    ids=["insert", "update", "delete", "locking select", "select with a writing CTE"],
)
def test_read_statement_is_a_plain_select_only(statement):
    # architecture: every state change goes through the unit of work, audited; a read
    # connection has no transaction and no audit, so it must not be able to write or lock
    with pytest.raises(ReadOnlySessionError):
        ReadStatement(statement)
