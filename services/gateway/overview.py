"""亮晒 overview: the county at a glance, read from the services' own read APIs.

Read-only. Each section is one call to the owning service as the caller (the service still
decides what this person may read); every section names the call it came from, and a
service that does not answer makes its section say so instead of failing the page.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from sqlalchemy import select

from services.gateway.guard import OutsidePrincipal
from services.gateway.models import Unit
from services.gateway.scopes import holds
from shared import clock
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import Forbidden, NotFound, ServiceUnavailable
from shared.fonts import cjk_font_path
from shared.http import SERVICE_NAMES_ZH, service_client
from shared.identity import Principal, Role

STATIC = Path(__file__).parent / "static"
# (section, service, path template, what it shows)
SECTIONS: list[tuple[str, str, str, str]] = [
    ("plan", "registry", "/api/v1/plans/{year}/summary", "计划与实际、开工率、储备倍数（R4、R5、R11）"),
    ("trend", "registry", "/api/v1/plans/{year}/monthly", "各月完成投资（R27）"),
    ("approvals", "approvals", "/api/v1/approval-cases/overview?year={year}", "审批时限（R16、R17）"),
    ("issues", "issues", "/api/v1/issues/overview?year={year}", "问题闭环（R22–R25）"),
    ("scoring", "scoring", "/api/v1/bulletins/overview?year={year}", "通报约谈与五晒五比（R28、R30）"),
]

router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)
pages = APIRouter(include_in_schema=False)


async def _section(principal: Principal, name: str, service: str, path: str, what: str) -> dict:
    out: dict[str, Any] = {
        "source": f"GET {path}",
        "service": service,
        "service_name": SERVICE_NAMES_ZH[service],
        "what": what,
    }
    if not holds(principal.scopes, f"{service}:read"):
        return out | {"status": "forbidden", "detail": f"缺少权限范围 {service}:read"}
    route, _, query = path.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&")) if query else None
    try:
        resp = await service_client.get(service, route, principal=principal, params=params)
    except ServiceUnavailable as exc:
        return out | {"status": "unavailable", "detail": exc.detail}
    body = resp.json() if resp.body else None
    if not resp.ok:
        detail = body.get("detail") if isinstance(body, dict) else None
        return out | {
            "status": "error",
            "http_status": resp.status,
            "detail": detail or f"{SERVICE_NAMES_ZH[service]}返回 {resp.status}",
        }
    return out | {"status": "ok", "data": body}


@router.get(
    "/overview",
    tags=["overview"],
    summary="亮晒总览：计划与实际、开工与投资、审批、问题、通报约谈、五晒五比（只读）",
)
async def overview(
    session: DbSession,
    principal: OutsidePrincipal,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度，缺省为今年")] = None,
) -> dict[str, Any]:
    if principal.role in (Role.platform, Role.enterprise):
        raise Forbidden("总览仅供工作人员查看", code="overview.staff_only")
    year = year or clock.today().year
    read_at = clock.now()
    results = await asyncio.gather(
        *(
            _section(principal, name, service, path.format(year=year), what)
            for name, service, path, what in SECTIONS
        )
    )
    units = list(await session.scalars(select(Unit).order_by(Unit.kind, Unit.id)))
    return {
        "year": year,
        "read_at": read_at,
        "business_date": clock.business_date(read_at),
        "viewer": {"name": principal.name, "role": str(principal.role), "unit_id": principal.unit_id},
        "units": [{"id": u.id, "name": u.name, "kind": u.kind} for u in units],
        "sections": {name: r for (name, *_), r in zip(SECTIONS, results, strict=True)},
    }


@pages.get("/overview")
async def overview_page() -> FileResponse:
    """The page (static; it logs in and reads /api/v1/overview itself)."""
    return FileResponse(
        STATIC / "overview.html", media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


ASSETS = {"overview.js": "text/javascript; charset=utf-8", "overview.css": "text/css; charset=utf-8"}


@pages.get("/overview/{name}")
async def overview_asset(name: str) -> FileResponse:
    if name == "cjk.otf":
        # Noto Sans CJK SC (SIL OFL) from the pinned mplfonts package, for a browser that has
        # no Chinese font of its own (the page asks for the local fonts first)
        return FileResponse(
            cjk_font_path(), media_type="font/otf", headers={"Cache-Control": "public, max-age=604800"}
        )
    if name not in ASSETS:
        raise NotFound(f"页面文件 {name} 不存在", code="route.not_found")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
