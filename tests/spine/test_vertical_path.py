"""The spine's vertical path: a project created through the gateway, read back, and its
``project.created`` event recorded once by the scoring worker even when delivered twice."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.scoring.models import ProjectFact
from shared.db import job_session


def code(uniq: str) -> str:
    return f"2023-140000-44-01-{int(uniq, 16) % 1_000_000:06d}"


async def test_create_and_read_project_through_gateway(platform, uniq):
    # policy R14: the project carries its national code, unit in charge and investment
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/projects",
            json={
                "project_code": code(uniq),
                "name": f"城关镇污水处理厂提标改造{uniq}",
                "unit_id": "town-chengguan",
                "category": "infrastructure",
                "total_investment": "4200.5",
            },
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["total_investment"] == "4200.5000"
        r = await c.get(f"/api/v1/projects/{created['id']}")
        assert r.status_code == 200
        assert r.json()["project_code"] == code(uniq)
        assert r.headers["etag"] == '"1"'


async def test_project_created_event_recorded_exactly_once(platform, uniq):
    # architecture: events are never lost, consumers are idempotent
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            json={
                "project_code": code(uniq),
                "name": f"东河镇农贸市场{uniq}",
                "unit_id": "town-donghe",
                "category": "livelihood",
                "total_investment": "800",
            },
        )
        assert r.status_code == 201, r.text
        project_id = uuid.UUID(r.json()["id"])
    await platform.drain()
    # the same event delivered again (as after a relay crash) changes nothing
    async with job_session() as session:
        fact = await session.get(ProjectFact, project_id)
        assert fact is not None and fact.unit_id == "town-donghe"
        event_id = fact.created_event_id
    event = {
        "id": str(event_id),
        "type": "project.created",
        "source": "registry",
        "payload": {"id": str(project_id)},
        "request_id": None,
    }
    await platform.queue.enqueue_job(
        "handle_event", event, _job_id=f"again:{uniq}", _queue_name="kpp:scoring"
    )
    await platform.drain()
    async with job_session() as session:
        count = await session.scalar(
            select(func.count()).select_from(ProjectFact).where(ProjectFact.project_id == project_id)
        )
    assert count == 1


async def test_service_refuses_request_without_identity(platform):
    # architecture: services accept requests only with the gateway's identity token
    async with platform.client("registry") as c:
        r = await c.get(f"/api/v1/projects/{uuid.uuid4()}")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "auth.identity_missing"


async def test_malformed_json_is_a_422_problem(platform):
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "request.invalid" and "JSON" in body["detail"]


async def test_township_cannot_create_for_another_township(platform, uniq):
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/projects",
            json={
                "project_code": code(uniq),
                "name": "越权项目",
                "unit_id": "town-donghe",
                "category": "industrial",
                "total_investment": "100",
            },
        )
    assert r.status_code == 403 and r.json()["code"] == "auth.unit_forbidden"
