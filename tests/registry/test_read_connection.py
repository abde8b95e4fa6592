"""The project read on its own pooled connection (issue 15): it answers what the session
did, gives its connection back whatever the answer, and can run nothing but a SELECT."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, insert, select, update

from services.registry.models import Project
from shared.db import ReadOnlySessionError, ReadStatement
from shared.settings import get_settings


async def test_refused_and_hidden_reads_give_their_connection_back(platform, make_project, uniq):
    # issue 15: the read's connection is not a session's, so the unit of work must still
    # return it to the pool on a 404 and on a hidden project; more refusals than the pool
    # holds, then a read that must still get a connection
    township = await make_project(uniq, unit_id="town-donghe")
    async with await platform.as_user("chengguan") as c:
        for _ in range(get_settings().db_pool_size + 5):
            assert (await c.get(f"/api/v1/projects/{uuid.uuid4()}")).status_code == 404
            hidden = await c.get(f"/api/v1/projects/{township['id']}")
            assert hidden.status_code == 404
            assert hidden.json()["code"] == "project.not_found"  # no existence leak
    async with await platform.as_user("donghe") as c:
        r = await c.get(f"/api/v1/projects/{township['id']}")
    assert r.status_code == 200
    assert r.json()["name"] == township["name"]
    assert r.headers["etag"] == f'"{township["version"]}"'


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
