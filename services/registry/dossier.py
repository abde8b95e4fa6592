"""One project, one file (policy R7): the record, its progress and photos, its history, and
its approval cases (each with its per-step clock) and problems fetched over HTTP.

When a service is down or answers an error, the dossier names the missing part instead of
failing (``missing_parts``). ``dossier_xlsx.py`` writes the same data as one workbook.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.documents import DocumentOut, list_documents
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
CASE_VIEWS_AT_ONCE = 8
# the parts fetched from other services, as the notes name them
PARTS_ZH = {"approvals": "审批", "issues": "问题", "approval_steps": "审批环节计时"}


async def _get(
    service: str, path: str, principal: Principal, part: str | None
) -> tuple[Any, str | None, str | None]:
    """(body, None, None), or (None, reason, Chinese detail naming the missing part)."""
    name = SERVICE_NAMES_ZH.get(service, service)
    what = f"{PARTS_ZH[part]}部分" if part else "本部分"
    try:
        resp = await asyncio.wait_for(service_client.get(service, path, principal=principal), PART_TIMEOUT_S)
    except (ServiceUnavailable, TimeoutError):
        return None, "unreachable", f"{name}暂不可用，{what}缺失"
    if not resp.ok:
        return None, f"http_{resp.status}", f"{name}返回错误（HTTP {resp.status}），{what}缺失"
    try:
        return resp.json(), None, None
    except ValueError:
        return None, "bad_body", f"{name}返回的内容无法解析，{what}缺失"


async def fetch_part(
    service: str, path: str, principal: Principal, part: str | None = None
) -> dict[str, Any]:
    body, reason, detail = await _get(service, path, principal, part)
    if reason is not None:
        return {"available": False, "items": [], "total": None, "reason": reason, "detail": detail}
    items = body.get("items", []) if isinstance(body, dict) else body
    items = items if isinstance(items, list) else []
    total = body.get("total") if isinstance(body, dict) else None
    return {
        "available": True,
        "items": items,
        "total": total if isinstance(total, int) else len(items),
        "reason": None,
        "detail": None,
    }


async def add_case_clocks(part: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Each case's chain and per-step clock (working days used / left, due dates) from its
    case view; a case whose view could not be read keeps ``steps: null``."""
    if not part["available"]:
        return part
    gate = asyncio.Semaphore(CASE_VIEWS_AT_ONCE)

    async def one(case: dict[str, Any]) -> str | None:
        if not isinstance(case, dict) or not case.get("id"):
            return None
        async with gate:
            view, _, detail = await _get(
                "approvals", f"/api/v1/approval-cases/{case['id']}", principal, "approval_steps"
            )
        if not isinstance(view, dict):
            case["chain"], case["steps"] = None, None
            return detail or "审批服务返回的内容无法解析，审批环节计时部分缺失"
        case["chain"], case["steps"] = view.get("chain"), view.get("steps")
        return None

    problems = [d for d in await asyncio.gather(*(one(c) for c in part["items"])) if d]
    part["steps_missing"] = len(problems)
    part["steps_detail"] = problems[0] if problems else None
    return part


async def _approvals(project_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    part = await fetch_part(
        "approvals", f"/api/v1/approval-cases?project_id={project_id}&page_size=500", principal, "approvals"
    )
    return await add_case_clocks(part, principal)


async def dossier(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> dict[str, Any]:
    project = await get_project(session, principal=principal, project_id=project_id)
    approvals, issues = await asyncio.gather(
        _approvals(project.id, principal),
        fetch_part("issues", f"/api/v1/issues?project_id={project.id}&page_size=200", principal, "issues"),
    )
    reports = await list_progress(session, project.id)
    missing = [
        part for part, value in (("approvals", approvals), ("issues", issues)) if not value["available"]
    ]
    if approvals.get("steps_missing"):
        missing.append("approval_steps")
    return {
        "project": project_out(project).model_dump(mode="json"),
        "progress": [
            ProgressOut.model_validate(r, from_attributes=True).model_dump(mode="json") for r in reports
        ],
        "missing_months": await missing_months(session, project.id),
        "photos": [
            PhotoOut.model_validate(p, from_attributes=True).model_dump(mode="json")
            for p in await list_photos(session, project.id)
        ],
        "documents": [
            DocumentOut.model_validate(d, from_attributes=True).model_dump(mode="json")
            for d in await list_documents(session, project.id)
        ],
        "stage_history": await stage_history(session, project.id),
        "history": await pipeline.history(session, "project", project.id),
        "approvals": approvals,
        "issues": issues,
        "missing_parts": missing,
    }
