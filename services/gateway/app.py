"""The gateway: the one door for platforms and staff (port 8000)."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway.router import internal, proxy, router
from shared.app import create_app
from shared.http import service_client

DOWNSTREAM = ("registry", "approvals", "issues", "scoring")


def _service_ready(service: str):
    async def check() -> None:
        resp = await service_client.get_json(service, "/readyz")
        if resp.status != 200:
            raise RuntimeError(f"{service} not ready")

    return check


async def _close_client(app: FastAPI) -> None:
    await service_client.close()


app = create_app(
    "gateway",
    title="KPP 重点项目建设管理平台 API",
    description="政务平台与工作人员访问重点项目平台的唯一入口。",
    routers=[router, internal, proxy],
    on_shutdown=[_close_client],
    readiness={name: _service_ready(name) for name in DOWNSTREAM},
)
