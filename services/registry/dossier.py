"""One project, one file (policy R7): the record, its progress and photos, its history, and
its approval cases and problems fetched from those services over HTTP.

When a service is down or answers an error, the dossier names the missing part instead of
failing (``missing_parts``).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import pipeline
from services.registry.photos import list_photos
from services.registry.present import project_out
from services.registry.progress import list_progress, missing_months
from services.registry.schemas_progress import PhotoOut, ProgressOut
from services.registry.service import get_project, stage_history
from shared.errors import ServiceUnavailable
from shared.http import SERVICE_NAMES_ZH, service_client
from shared.identity import Principal

PART_TIMEOUT_S = 5.0


async def fetch_part(service: str, path: str, principal: Principal) -> dict[str, Any]:
    name = SERVICE_NAMES_ZH.get(service, service)
    try:
        resp = await asyncio.wait_for(service_client.get_json(service, path, principal=principal),
                                      PART_TIMEOUT_S)
    except (ServiceUnavailable, TimeoutError):
        return {"available": False, "items": [], "reason": "unreachable",
                "detail": f"{name}暂不可用，本部分缺失"}
    if not resp.ok:
        return {"available": False, "items": [], "reason": f"http_{resp.status}",
                "detail": f"{name}返回错误（HTTP {resp.status}），本部分缺失"}
    try:
        body = resp.json()
    except ValueError:
        return {"available": False, "items": [], "reason": "bad_body",
                "detail": f"{name}返回的内容无法解析，本部分缺失"}
    items = body.get("items", []) if isinstance(body, dict) else body
    return {"available": True, "items": items if isinstance(items, list) else [], "reason": None,
            "detail": None}


async def dossier(session: AsyncSession, *, principal: Principal,
                  project_id: uuid.UUID) -> dict[str, Any]:
    project = await get_project(session, principal=principal, project_id=project_id)
    approvals, issues = await asyncio.gather(
        fetch_part("approvals", f"/api/v1/approval-cases?project_id={project.id}", principal),
        fetch_part("issues", f"/api/v1/issues?project_id={project.id}", principal))
    reports = await list_progress(session, project.id)
    return {
        "project": project_out(project).model_dump(mode="json"),
        "progress": [ProgressOut.model_validate(r, from_attributes=True).model_dump(mode="json")
                     for r in reports],
        "missing_months": await missing_months(session, project.id),
        "photos": [PhotoOut.model_validate(p, from_attributes=True).model_dump(mode="json")
                   for p in await list_photos(session, project.id)],
        "stage_history": await stage_history(session, project.id),
        "history": await pipeline.history(session, "project", project.id),
        "approvals": approvals,
        "issues": issues,
        "missing_parts": [part for part, value in (("approvals", approvals), ("issues", issues))
                          if not value["available"]],
    }
