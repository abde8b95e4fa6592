"""Production guards (issue 14): no demo seed, no printed secrets, /metrics not open."""

from __future__ import annotations

import contextlib
import io

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from ops import cli
from ops.devrun import banner
from shared.app import create_app
from shared.db import job_session
from shared.settings import get_settings

ENV = {
    "KPP_GATEWAY_URL": "http://127.0.0.1:8000",
    "KPP_REGISTRY_URL": "http://127.0.0.1:8001",
    "KPP_APPROVALS_URL": "http://127.0.0.1:8002",
    "KPP_ISSUES_URL": "http://127.0.0.1:8003",
    "KPP_SCORING_URL": "http://127.0.0.1:8004",
    "KPP_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/kpp",
    "KPP_REDIS_URL": "redis://127.0.0.1:6379/0",
}


@contextlib.contextmanager
def env_as(name: str, **more):
    settings = get_settings()
    saved = {"env": settings.env, **{k: getattr(settings, k) for k in more}}
    settings.env = name
    for k, v in more.items():
        setattr(settings, k, v)
    try:
        yield settings
    finally:
        for k, v in saved.items():
            setattr(settings, k, v)


async def _has_user(username: str) -> bool:
    async with job_session() as session:
        return bool(
            await session.scalar(
                text("SELECT count(*) FROM gateway.users WHERE username = :u"), {"u": username}
            )
        )


async def test_demo_seed_is_not_loaded_in_prod(platform):
    # architecture (deployment): the demo users (admin / Kpp@2026 …) must not be recreated
    # under KPP_ENV=prod; the seed adds whichever demo user is missing
    async with job_session() as session:
        await session.execute(text("DELETE FROM gateway.users WHERE username = 'leader'"))
    try:
        out = io.StringIO()
        with env_as("prod"), contextlib.redirect_stdout(out):
            await cli._seed()
        assert "not loaded" in out.getvalue()
        assert not await _has_user("leader")
    finally:
        with contextlib.redirect_stdout(io.StringIO()):
            await cli._seed()  # test env: the demo user comes back for the other tests
    assert await _has_user("leader")


def test_banner_prints_demo_secrets_in_dev_only():
    # architecture (deployment): live app secrets are never printed outside dev
    from services.gateway.seed import DEMO_APP_KEYS, DEMO_PASSWORD

    dev = banner(ENV | {"KPP_ENV": "dev"})
    assert DEMO_PASSWORD in dev and DEMO_APP_KEYS[0][1] in dev
    prod = banner(ENV | {"KPP_ENV": "prod"})
    assert DEMO_PASSWORD not in prod
    assert all(secret not in prod for _, secret, _, _ in DEMO_APP_KEYS)


async def test_metrics_need_the_scraper_token_outside_dev():
    # architecture (operations): /metrics was open on every process
    app = create_app("probe", title="probe")
    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        with env_as("prod", metrics_token="scrape-0f3b9c1d7e"):
            assert (await c.get("/metrics")).status_code == 404
            r = await c.get("/metrics", headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 404
            r = await c.get("/metrics", headers={"Authorization": "Bearer scrape-0f3b9c1d7e"})
            assert r.status_code == 200 and "kpp_http_requests_total" in r.text
        with env_as("prod", metrics_token=""):
            r = await c.get("/metrics", headers={"Authorization": "Bearer "})
            assert r.status_code == 404
        assert (await c.get("/metrics")).status_code == 200  # test/dev: open


async def test_first_admin_is_created_from_the_command_line(platform, uniq):
    # architecture (deployment): without demo data, a production install gets its first
    # administrator from the command line, audited, with a one-time temporary password
    password = await cli._create_admin(f"root{uniq}", "系统管理员")
    async with platform.client() as c:
        r = await c.post("/api/v1/auth/token", data={"username": f"root{uniq}", "password": password})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        r = await c.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and f"root{uniq}" in [u["username"] for u in r.json()]
