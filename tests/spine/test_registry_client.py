"""The one registry client (shared.clients.registry): every service reads a project the same
way and answers the same codes when the registry refuses or is away."""

from __future__ import annotations

import uuid

import pytest
from aiohttp import web

from shared.clients.registry import get_project
from shared.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable
from shared.identity import Principal, Role
from shared.settings import get_settings
from tests.servers import free_port

CHENGGUAN = Principal(subject="user:chengguan", role=Role.township, unit_id="town-chengguan")


async def _project(platform, uniq: str, **over) -> dict:
    body = {
        "project_code": f"2026-140000-44-01-{int(uniq, 16) % 1_000_000:06d}",
        "name": f"客户端测试项目{uniq}",
        "unit_id": "town-donghe",
        "category": "infrastructure",
        "total_investment": "3000",
        "tags": ["交通", "国道改线"],
        "carrying_unit_name": "枝柯新材料有限公司",
        "carrying_unit_credit_code": "91140000MA0C1XY858",
        **over,
    }
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body)
        assert r.status_code == 201, r.text
        return r.json()


async def test_project_ref_carries_what_services_check(platform, uniq):
    # policy R19/R20: category, tags and current library memberships as the registry records
    p = await _project(
        platform,
        uniq,
        libraries=[
            {"library": "annual", "kind": "new", "since": "2026-01-10"},
            {"library": "key", "kind": "new", "level": "county", "since": "2026-02-01"},
        ],
        team="交通专班",
        work_plan="国道改线推进方案",
        follow_owner="郑光明",
        contact_leader="赵国庆",
    )
    ref = await get_project(uuid.UUID(p["id"]))
    assert ref.code == p["project_code"] and ref.unit_id == "town-donghe"
    assert ref.category == "infrastructure" and "交通" in ref.tags
    assert ref.carrying_unit_credit_code == "91140000MA0C1XY858"
    assert ref.in_library and ref.is_key_project and ref.key_level == "county"


async def test_unknown_project_is_422_on_writes_and_404_on_reads(platform):
    missing = uuid.uuid4()
    with pytest.raises(InvalidInput) as write:
        await get_project(missing, field="project_id")
    assert write.value.code == "project.not_found" and write.value.status == 422
    assert write.value.fields[0]["field"] == "project_id"
    with pytest.raises(NotFound) as read:
        await get_project(missing)
    assert read.value.code == "project.not_found" and read.value.status == 404


async def test_another_townships_project_reads_as_not_found(platform, uniq):
    # the registry does not leak another unit's project: the client says project.not_found
    p = await _project(platform, uniq)
    with pytest.raises(NotFound) as hidden:
        await get_project(uuid.UUID(p["id"]), principal=CHENGGUAN)
    assert hidden.value.code == "project.not_found"


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (403, Forbidden, "project.forbidden"),
        (500, ServiceUnavailable, "service.unavailable"),
        (401, ServiceUnavailable, "service.unavailable"),
    ],
)
async def test_registry_refusals_map_to_stable_codes(platform, monkeypatch, status, error, code):
    # the registry answers only 200/404 to a project read today; a registry on loopback that
    # answers 403, 500 or 401 stands in at the HTTP border to pin the client's contract
    async def answer(request):
        return web.json_response({"code": "x"}, status=status)

    app = web.Application()
    app.router.add_get("/api/v1/projects/{pid}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        monkeypatch.setattr(get_settings(), "registry_url", f"http://127.0.0.1:{port}")
        with pytest.raises(error) as refused:
            await get_project(uuid.uuid4(), field="project_id")
        assert refused.value.code == code and refused.value.status == error.status
        if error is ServiceUnavailable:
            assert refused.value.extra["service"] == "registry"
    finally:
        await runner.cleanup()


async def test_unreachable_registry_is_503_naming_it(platform, monkeypatch):
    # never mistaken for an unknown project: a registry that does not answer is a 503
    monkeypatch.setattr(get_settings(), "registry_url", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceUnavailable) as away:
        await get_project(uuid.uuid4(), field="project_id")
    assert away.value.status == 503 and away.value.code == "service.unavailable"
    assert away.value.extra["service"] == "registry"


async def test_services_answer_the_clients_codes(platform):
    # the approvals, issues and scoring writes refer to a project by id: unknown → 422
    missing = str(uuid.uuid4())
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/approval-cases", json={"project_id": missing, "kind": "low_risk_small"})
        assert r.status_code == 422 and r.json()["code"] == "project.not_found", r.text
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": "征迁清零",
                "unit_id": "town-chengguan",
                "deadline": "2026-03-10",
                "issued_on": "2026-03-01",
                "source": "leaders_meeting",
                "project_id": missing,
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "project.not_found", r.text
