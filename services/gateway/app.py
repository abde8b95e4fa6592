"""The gateway: the one door for platforms and staff (port 8000).

``app`` is the ASGI application uvicorn serves: ``forwarding.ForwardingProxy`` takes the
requests forwarded to a service and hands everything else to ``api``, a plain FastAPI
app with the gateway's own endpoints (login, accounts, app keys, units, webhooks, dead
letters, overview, the merged OpenAPI) behind ``audit.GatewayMiddleware``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI

from services.gateway import unit_leaders
from services.gateway.admin import admin
from services.gateway.audit import GatewayMiddleware, audit_writer
from services.gateway.dead_letters import CONSUMERS, dead_letters
from services.gateway.docs import docs
from services.gateway.forwarding import ForwardingProxy
from services.gateway.guard import close_redis
from services.gateway.models import pipeline
from services.gateway.openapi import DOWNSTREAM
from services.gateway.overview import pages as overview_pages
from services.gateway.overview import router as overview_router
from services.gateway.router import internal, router, unknown_paths
from services.gateway.router_accounts import router as accounts_router
from services.gateway.upstream import upstream
from services.gateway.webhooks import HANDLERS
from shared import clock
from shared.app import create_app
from shared.http import service_client
from shared.identity import Principal, Role

# the readiness probe reads the dead letters as the system administrator
ADMIN_PROBE = Principal(subject="kpp-readyz", role=Role.admin, name="就绪检查")


def _service_ready(service: str):
    async def check() -> None:
        resp = await service_client.get(service, "/readyz")
        if resp.status != 200:
            raise RuntimeError(f"{service} not ready")

    return check


async def _dead_letters_fresh() -> str:
    """Degraded when a consumer holds a dead letter older than a day (docs/events.md)."""
    day_ago = clock.now() - timedelta(days=1)
    old = []
    for consumer in CONSUMERS:
        resp = await service_client.get(
            consumer, "/internal/dead-letters", principal=ADMIN_PROBE, params={"limit": 1}
        )
        rows = resp.json() if resp.ok else []
        if rows and datetime.fromisoformat(rows[0]["first_failed_at"]) < day_ago:
            old.append(consumer)
    return f"degraded: dead letters older than a day in {', '.join(old)}" if old else "ok"


async def _start(app: FastAPI) -> None:
    audit_writer.start()


async def _stop(app: FastAPI) -> None:
    await audit_writer.stop()
    await close_redis()
    upstream.close()
    await service_client.close()


api = create_app(
    "gateway",
    title="KPP 重点项目建设管理平台 API",
    description="政务平台与工作人员访问重点项目平台的唯一入口。",
    routers=[
        docs,
        router,
        unit_leaders.router,
        overview_router,
        overview_pages,
        admin,
        dead_letters,
        accounts_router,
        internal,
        unknown_paths,
    ],
    on_startup=[_start],
    on_shutdown=[_stop],
    readiness={**{name: _service_ready(name) for name in DOWNSTREAM}, "dead_letters": _dead_letters_fresh},
    events=(pipeline, HANDLERS),
    openapi_url=None,  # the merged document is served at /openapi.json instead (docs.py)
)
api.add_middleware(GatewayMiddleware)
app = ForwardingProxy(api)
