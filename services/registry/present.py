"""How a project is shown: its output shape, its R10 milestones and R11 target statuses."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.registry.codes import code_form
from services.registry.models import Membership, Project, Target
from services.registry.schemas import ProjectOut
from shared.clock import today


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def status(due: date, reached: date | None, on: date) -> str:
    if reached is not None:
        return "met" if reached <= due else "missed"
    return "missed" if on > due else "pending"


def milestones(p: Project, on: date | None = None) -> list[dict[str, Any]]:
    """policy R10: one year building, two years in operation, three years at capacity."""
    start = p.actual_start or p.planned_start
    if not p.major_industrial or start is None:
        return []
    on = on or today()
    dates = p.stage_dates or {}
    effective = dates.get("effective")  # 达效: at capacity, so operating too
    operating = p.operation_started_on.isoformat() if p.operation_started_on else effective
    capacity = p.capacity_reached_on.isoformat() if p.capacity_reached_on else effective
    # 投运 (in operation) and 达产达效 (at design capacity) are separate facts: a plant that
    # runs below capacity has met year two, not year three
    reached = {"build": dates.get("completed"), "operate": operating, "capacity": capacity}
    labels = {"build": "一年建设（竣工）", "operate": "两年投运", "capacity": "三年达产达效"}
    out = []
    for years, key in ((1, "build"), (2, "operate"), (3, "capacity")):
        due = add_years(start, years)
        got = date.fromisoformat(reached[key]) if reached[key] else None
        out.append(
            {
                "key": key,
                "label": labels[key],
                "due_on": due,
                "reached_on": got,
                "status": status(due, got, on),
            }
        )
    return out


def target_out(t: Target, on: date) -> dict[str, Any]:
    return {
        "name": t.name,
        "kind": t.kind,
        "due_on": t.due_on,
        "threshold_pct": t.threshold_pct,
        "met_on": t.met_on,
        "status": status(t.due_on, t.met_on, on),
    }


def membership_out(m: Membership) -> dict[str, Any]:
    return {"library": m.library, "kind": m.kind, "level": m.level, "since": m.since, "until": m.until}


def project_dict(p: Project, on: date | None = None) -> dict[str, Any]:
    on = on or today()
    latest = None
    if p.last_report_month:
        latest = {
            "month": p.last_report_month,
            "progress_pct": p.last_progress_pct,
            "cumulative_investment": p.last_cumulative_investment,
        }
    return {
        "id": p.id,
        "project_code": p.project_code,
        "code_form": code_form(p.project_code),
        "name": p.name,
        "unit_id": p.unit_id,
        "carrying_unit_name": p.carrying_unit_name,
        "carrying_unit_credit_code": p.carrying_unit_credit_code,
        "contact_leader": p.contact_leader,
        "team": p.team,
        "work_plan": p.work_plan,
        "follow_owner": p.follow_owner,
        "category": p.category,
        "total_investment": p.total_investment,
        "government_investment": p.government_investment,
        "scale_band": p.scale_band,
        "libraries": [membership_out(m) for m in p.memberships],
        "stage": p.stage,
        "stage_dates": p.stage_dates or {},
        "start_conditions_met_on": p.start_conditions_met_on,
        "approval_kind": p.approval_kind,
        "approval_level": p.approval_level,
        "approval_authority": p.approval_authority,
        "planned_start": p.planned_start,
        "planned_finish": p.planned_finish,
        "actual_start": p.actual_start,
        "operation_started_on": p.operation_started_on,
        "capacity_reached_on": p.capacity_reached_on,
        "tags": list(p.tags or []),
        "major_industrial": p.major_industrial,
        "milestones": milestones(p, on),
        "targets": [target_out(t, on) for t in p.targets],
        "latest_progress": latest,
        "revocation": {
            "state": p.revocation_state,
            "due_on": p.revocation_due_on,
            "revoked_on": p.revoked_on,
        },
        "version": p.version,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def project_out(p: Project, on: date | None = None) -> ProjectOut:
    return ProjectOut.model_validate(project_dict(p, on))


def snapshot(p: Project) -> dict[str, Any]:
    """The project as JSON, for events (contracts.md) and the audit log."""
    return project_out(p).model_dump(mode="json")
