"""The shared core: settings, money, problem details, request ids, probes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from services.registry.models import pipeline
from shared.db import job_session
from shared.money import Money, to_yi
from shared.settings import DEV_SECRET, Settings
from tests.spine.test_vertical_path import code


def test_default_secret_refused_outside_dev():
    with pytest.raises(ValidationError, match="KPP_SECRET_KEY"):
        Settings(env="prod", secret_key=DEV_SECRET)
    with pytest.raises(ValidationError):
        Settings(env="prod", secret_key="short")
    # issue 14: length alone let "a" * 32 pass; a repeated or few-symbol key is refused
    for weak in ("a" * 32, "x" * 40, "ab" * 20, "0123456789" * 4 + "0"):
        with pytest.raises(ValidationError, match="KPP_SECRET_KEY"):
            Settings(env="prod", secret_key=weak)
    # what the docs tell operators to use: secrets.token_urlsafe(32) / token_hex(16)
    assert Settings(env="prod", secret_key="q3V9xK2mZp7LwT0rBn5YcH8dFj4sGa1eUo6iRk-_Ptz").env == "prod"
    assert Settings(env="prod", secret_key="9f86d081884c7d659a2feaa0c55ad015").env == "prod"


class _Amount(BaseModel):
    amount: Money


@pytest.mark.parametrize("raw", ["1e3", "-5", "1.23456", 1.5, "abc", "", True])
def test_money_refuses_what_is_not_plain_decimal_wan(raw):
    # policy R3: money is exact decimal in 万元, never float
    with pytest.raises(ValidationError):
        _Amount(amount=raw)


def test_money_keeps_exact_decimal_and_writes_a_string():
    # policy R3 / R4: 305.3亿 = 3,053,000 万元 exactly; reports show 亿元
    value = _Amount(amount="3053000.1234")
    assert value.amount == Decimal("3053000.1234")
    assert value.model_dump(mode="json") == {"amount": "3053000.1234"}
    assert to_yi(Decimal("3681700")) == Decimal("368.1700")


async def test_request_id_travels_from_gateway_to_service_audit(platform, uniq):
    rid = f"req-{uniq}"
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            headers={"X-Request-ID": rid},
            json={
                "project_code": code(uniq),
                "name": f"请求追踪项目{uniq}",
                "unit_id": "town-xishan",
                "category": "industrial",
                "total_investment": "3000",
            },
        )
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == rid
    audit = pipeline.tables.audit
    async with job_session() as session:
        row = (
            await session.execute(
                select(audit.c.request_id, audit.c.actor).where(audit.c.entity_id == r.json()["id"])
            )
        ).first()
    assert row.request_id == rid and row.actor == "user:zdb"


async def test_gateway_readyz_reports_every_service(platform):
    async with platform.client() as c:
        r = await c.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert {"database", "redis", "registry", "approvals", "issues", "scoring"} <= set(checks)
    assert set(checks.values()) == {"ok"}


async def test_metrics_are_exposed(platform):
    async with platform.client("registry") as c:
        await c.get("/healthz")
        r = await c.get("/metrics")
    assert r.status_code == 200 and "kpp_http_requests_total" in r.text


async def test_login_failures_are_problems_and_unknown_paths_404(platform):
    async with platform.client() as c:
        r = await c.post("/api/v1/auth/token", data={"username": "zdb", "password": "wrong"})
        assert r.status_code == 401 and r.json()["code"] == "auth.login_failed"
        r = await c.get("/api/v1/projects")
        assert r.status_code == 401 and r.json()["code"] == "auth.token_missing"
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/nowhere")
        assert r.status_code == 404 and r.json()["code"] == "route.not_found"


async def test_unit_directory_is_readable(platform):
    async with await platform.as_user("leader") as c:
        r = await c.get("/api/v1/units", params={"kind": "township"})
    assert r.status_code == 200
    towns = {u["id"]: u for u in r.json()}
    assert "town-chengguan" in towns and towns["town-chengguan"]["deputy_heads"]
