"""Helpers for the scoring tests: facts arrive through the real event path.

Events are written into the source service's outbox (as that service would, in its own
transaction), then `platform.drain()` relays them to the scoring worker, which records
them in its fact tables. Months are global to a run, so each test owns its own months.
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any

from sqlalchemy import select

from shared import clock, contracts
from shared.db import job_session


async def emit(source: str, type_: str, payload: dict[str, Any]) -> None:
    pipeline = importlib.import_module(f"services.{source}.models").pipeline
    async with job_session() as session:
        await pipeline.emit(
            session,
            contracts.build(type_, payload),  # the producer's side of the contract
            key=str(payload.get("id") or payload.get("case_id") or payload.get("issue_id") or ""),
        )


def project_payload(uniq: str, unit_id: str, **over: Any) -> dict[str, Any]:
    p = {
        "id": str(uuid.uuid4()),
        "project_code": f"2023-140000-44-01-{uuid.uuid4().int % 10**6:06d}",
        "code_form": "gbt40058",
        "name": f"测试项目{uniq}",
        "unit_id": unit_id,
        "carrying_unit_name": None,
        "carrying_unit_credit_code": None,
        "contact_leader": None,
        "team": None,
        "work_plan": None,
        "follow_owner": None,
        "category": "industrial",
        "total_investment": "5000.0000",
        "government_investment": False,
        "scale_band": "large",
        "libraries": [],
        "stage": "signed",
        "stage_dates": {},
        "start_conditions_met_on": None,
        "approval_kind": None,
        "approval_level": None,
        "approval_authority": None,
        "planned_start": None,
        "planned_finish": None,
        "actual_start": None,
        "operation_started_on": None,
        "capacity_reached_on": None,
        "tags": [],
        "major_industrial": False,
        "milestones": [],
        "targets": [],
        "latest_progress": None,
        "revocation": {"state": None, "due_on": None, "revoked_on": None},
        "version": 1,
        "created_at": clock.now().isoformat(),
        "updated_at": clock.now().isoformat(),
    }
    p.update(over)
    return p


async def emit_progress(
    project: dict[str, Any],
    month: str,
    amount: str,
    *,
    cumulative: str | None = None,
    on_time: bool = True,
    version: int = 1,
    reported_day: int = 25,
) -> None:
    """The registry's monthly report of ``project`` for ``month`` (policy R6)."""
    await emit(
        "registry",
        "project.progress_reported",
        {
            "project_id": project["id"],
            "project_code": project["project_code"],
            "unit_id": project["unit_id"],
            "month": month,
            "investment_month": amount,
            "cumulative_investment": cumulative or amount,
            "progress_pct": 5,
            "reported_at": f"{month}-{reported_day:02d}T08:00:00+08:00",
            "on_time": on_time,
            "version": version,
        },
    )


def issue_payload(unit_id: str, **over: Any) -> dict[str, Any]:
    p = {
        "issue_id": str(uuid.uuid4()),
        "project_id": str(uuid.uuid4()),
        "project_code": None,
        "unit_id": unit_id,
        "kind": "land",
        "source": "report",
        "step": "closed",
        "deadline": None,
        "overdue": False,
        "close_supervision": False,
        "redo_count": 0,
        "satisfied": None,
        "occurred_at": clock.now().isoformat(),
    }
    p.update(over)
    return p


async def outbox_events(type_: str, **match: str) -> list[dict[str, Any]]:
    """The scoring service's own outbox events of a type whose payload matches."""
    from services.scoring.models import pipeline

    t = pipeline.tables.outbox
    async with job_session() as session:
        rows = (await session.execute(select(t.c.payload).where(t.c.type == type_))).scalars().all()
    return [p for p in rows if all(p.get(k) == v for k, v in match.items())]
