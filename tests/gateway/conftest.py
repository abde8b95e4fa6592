"""Gateway test helpers: signed requests, fresh app keys and users, the audit, a webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from services.gateway.auth import hash_password
from services.gateway.config import gateway_settings
from services.gateway.crypto import SHA256, signed_headers
from services.gateway.models import User
from services.gateway.seed import DEMO_APP_KEYS
from shared.db import job_session
from tests.conftest import REDIS_URL
from tests.servers import free_port

PASSWORD = "Gw@test2026"


def project_body(uniq: str, unit: str = "town-chengguan", **over) -> dict:
    data = {
        "project_code": f"2023-140521-44-01-{int(uniq[:7], 16) % 10**6:06d}",
        "name": f"网关测试项目{uniq}",
        "unit_id": unit,
        "category": "industrial",
        "total_investment": "1200",
    }
    return data | over


@dataclass
class App:
    key: str
    secret: str

    def headers(
        self, method: str, path: str, *, query: str = "", body: bytes = b"", algorithm: str = SHA256, **kw
    ) -> dict[str, str]:
        return signed_headers(
            self.key, self.secret, method, path, query=query, body=body, algorithm=algorithm, **kw
        )


@pytest.fixture
def hall() -> App:
    key, secret, _, _ = DEMO_APP_KEYS[0]
    return App(key, secret)


@pytest.fixture
def signed(platform):
    """``await signed(app, "GET", "/api/v1/units", query="kind=township")`` → httpx response."""

    async def call(
        app: App,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        algorithm: str = SHA256,
        **kw,
    ):
        hdrs = app.headers(method, path, query=query, body=body, algorithm=algorithm, **kw)
        hdrs |= headers or {}
        if body:
            hdrs.setdefault("Content-Type", "application/json")
        async with platform.client() as c:
            return await c.request(method, path + (f"?{query}" if query else ""), content=body, headers=hdrs)

    return call


@pytest.fixture
def new_app(platform):
    """A fresh app key (issued by the admin through the API) with the given scopes."""

    async def make(
        uniq: str, scopes: list[str], *, rate: int | None = None, platform_kind: str = "other"
    ) -> App:
        async with await platform.as_user("admin") as c:
            r = await c.post(
                "/api/v1/app-keys",
                json={
                    "name": f"测试平台{uniq}",
                    "platform": platform_kind,
                    "scopes": scopes,
                    "rate_limit_per_min": rate,
                },
            )
        assert r.status_code == 201, r.text
        return App(r.json()["key"], r.json()["secret"])

    return make


@pytest.fixture
def new_user():
    """A fresh staff user in the gateway's own table (own lock-out and rate-limit counters)."""

    async def make(uniq: str, role: str = "key_office", unit: str | None = "office-zdb") -> str:
        username = f"gw{uniq}"
        async with job_session() as session:
            session.add(
                User(
                    username=username,
                    password_hash=hash_password(PASSWORD),
                    name=f"测试{uniq}",
                    role=role,
                    unit_id=unit,
                    active=True,
                    failed_logins=0,
                )
            )
        return username

    return make


@pytest.fixture
def login(platform):
    async def do(username: str, password: str = PASSWORD):
        async with platform.client() as c:
            return await c.post("/api/v1/auth/token", data={"username": username, "password": password})

    return do


@pytest.fixture
def audit(platform):
    """The admin's view of the request audit, filtered."""

    async def query(**params) -> list[dict]:
        async with await platform.as_user("admin") as c:
            r = await c.get("/api/v1/audit", params=params)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    return query


@pytest.fixture
def gw_settings():
    """The running gateway's settings; whatever a test changes is put back afterwards."""
    settings = gateway_settings()
    saved = settings.model_dump()
    yield settings
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture
def drain_gateway(platform):
    """Relay the other services' outboxes, then run the gateway worker until idle."""

    async def drain() -> None:
        from arq.worker import create_worker

        from shared.queue import create_queue_pool

        await platform.drain()
        settings = importlib.import_module("services.gateway.worker").WorkerSettings
        worker = create_worker(
            settings,
            burst=True,
            redis_pool=await create_queue_pool(REDIS_URL),
            handle_signals=False,
            poll_delay=0.01,
            cron_jobs=[],
            on_startup=None,
            on_shutdown=None,
        )
        await worker.main()
        await worker.close()

    return drain


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for a platform's webhook endpoint."""

    url: str
    fail_first: int = 0
    received: list[dict] = field(default_factory=list)


@pytest.fixture
async def receiver():
    rec = Receiver(url="")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        rec.received.append(
            {
                "path": request.path,
                "query": request.query_string,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if len(rec.received) <= rec.fail_first:
            return web.Response(status=500, text="not yet")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hooks/kpp", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    rec.url = f"http://127.0.0.1:{port}/hooks/kpp?source=kpp"
    # the SSRF guard refuses loopback: this test receiver (and only it) is allow-listed
    settings = gateway_settings()
    saved = settings.webhook_allowed_hosts
    settings.webhook_allowed_hosts = f"{saved},127.0.0.1:{port}".strip(",")
    try:
        yield rec
    finally:
        settings.webhook_allowed_hosts = saved
        with contextlib.suppress(asyncio.CancelledError):
            await runner.cleanup()


@pytest.fixture
def make_project_gw(platform):
    """A project created through the gateway by a staff user."""

    async def make(uniq: str, user: str = "zdb", unit: str = "town-chengguan") -> dict:
        async with await platform.as_user(user) as c:
            r = await c.post("/api/v1/projects", json=project_body(uniq, unit=unit))
        assert r.status_code == 201, r.text
        return r.json()

    return make
