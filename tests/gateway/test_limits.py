"""Limits and faults: rate limits per app key and per user, body size, services down or slow."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from shared.settings import get_settings
from tests.servers import free_port


async def test_app_key_rate_limit_is_a_429_with_retry_after(signed, new_app, audit, uniq):
    # architecture: rate limits per app key in Redis; 429 with Retry-After
    app = await new_app(uniq, ["units:read"], rate=2)
    # five calls in at most two one-minute windows: one window sees a third call
    statuses = [(await signed(app, "GET", "/api/v1/units")) for _ in range(5)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and all(r.status_code in (200, 429) for r in statuses)
    r = limited[0]
    assert r.json()["code"] == "rate.limited" and r.json()["limited"] == "app_key"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    rows = await audit(app_key=app.key, code="rate.limited")
    assert rows and rows[0]["status"] == 429


async def test_user_rate_limit_is_a_429_with_retry_after(platform, login, new_user, gw_settings, uniq):
    # architecture: rate limits per user
    username = await new_user(uniq)
    token = (await login(username)).json()["access_token"]
    gw_settings.user_rate_per_min = 2
    async with platform.client(headers={"Authorization": f"Bearer {token}"}) as c:
        statuses = [await c.get("/api/v1/units") for _ in range(5)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].json()["limited"] == "user"
    assert int(limited[0].headers["retry-after"]) >= 1


async def test_body_over_the_limit_is_a_413(platform, gw_settings):
    gw_settings.max_body_bytes = 4096
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            content=b"{" + b" " * 5000 + b"}",
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 413
    assert r.json()["code"] == "request.too_large"


@contextlib.contextmanager
def service_at(service: str, url: str):
    settings = get_settings()
    attr = f"{service}_url"
    saved = getattr(settings, attr)
    setattr(settings, attr, url)
    try:
        yield
    finally:
        setattr(settings, attr, saved)


async def test_service_down_is_a_503_naming_it(platform, audit, uniq):
    # architecture: a service that is down → 503 problem naming it
    with service_at("scoring", f"http://127.0.0.1:{free_port()}"):  # nothing listens there
        async with await platform.as_user("zdb") as c:
            r = await c.get("/api/v1/rubrics", headers={"X-Request-ID": f"down-{uniq}"})
    assert r.status_code == 503
    body = r.json()
    assert body["code"] == "service.unavailable" and body["service"] == "scoring"
    assert "考核服务" in body["detail"]
    [row] = await audit(request_id=f"down-{uniq}")
    assert row["status"] == 503 and row["principal"] == "user:zdb"


async def test_slow_service_is_a_504_naming_it(platform, gw_settings):
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/api/v1/issues", slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gw_settings.upstream_timeout_s = 0.3
    try:
        with service_at("issues", f"http://127.0.0.1:{port}"):
            async with await platform.as_user("zdb") as c:
                r = await c.get("/api/v1/issues")
    finally:
        await runner.cleanup()
    assert r.status_code == 504
    assert r.json()["code"] == "service.timeout" and r.json()["service"] == "issues"


async def test_unknown_path_is_a_404_problem(platform):
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.json()["code"] == "route.not_found"
