"""A project's library memberships (policy R1–R3), the key projects' "four ones" (R14)
and its plan targets (R11)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.registry.models import Membership, Project, Target
from services.registry.schemas import MembershipIn, TargetIn
from shared.errors import InvalidInput

# policy R14 "four ones" (一个项目、一套班子、一套方案、一抓到底): required of key projects
FOUR_ONES = {
    "contact_leader": "包联领导",
    "carrying_unit_name": "项目承载单位",
    "team": "工作专班（一套班子）",
    "work_plan": "推进方案（一套方案）",
}


def four_ones_missing(project: Any, memberships: list[Any]) -> list[str]:
    """The four-ones fields a project in the key library lacks (optional elsewhere)."""
    if not any(m.library == "key" and m.until is None for m in memberships):
        return []
    return [f for f in FOUR_ONES if not (getattr(project, f) or "").strip()]


def require_four_ones(project: Any) -> None:
    missing = four_ones_missing(project, project.memberships)
    if missing:
        names = "、".join(FOUR_ONES[f] for f in missing)
        raise InvalidInput(
            f"重点项目须落实“四个一”，缺少：{names}（policy R14）",
            code="project.four_ones_missing",
            fields=[{"field": f, "message": "重点项目必填"} for f in missing],
        )


def lib_tags(memberships: list[Membership]) -> list[str]:
    """The denormalised current memberships the list filters on (GIN-indexed)."""
    tags: set[str] = set()
    for m in memberships:
        if m.until is None:
            tags.add(m.library)
            if m.kind:
                tags.add(f"{m.library}:{m.kind}")
            if m.level:
                tags.add(f"key:{m.level}")
    return sorted(tags)


def membership_values(libs: list[MembershipIn], on: date) -> list[dict[str, Any]]:
    """The memberships as plain values (a key membership takes the annual kind)."""
    annual_kind = next((m.kind for m in libs if m.library == "annual"), None)
    out = []
    for m in libs:
        kind = annual_kind if m.library == "key" else m.kind
        if m.until is not None and m.until > on:
            raise InvalidInput(
                "出库日期不能晚于今天",
                code="project.membership_until_future",
                fields=[{"field": "libraries", "message": "出库日期晚于今天"}],
            )
        out.append(
            {
                "id": uuid.uuid4(),
                "library": m.library,
                "kind": kind,
                "level": m.level,
                "since": m.since or on,
                "until": m.until,
            }
        )
    return out


def new_memberships(libs: list[MembershipIn], on: date) -> list[Membership]:
    return [Membership(**v) for v in membership_values(libs, on)]


def apply_memberships(project: Project, libs: list[MembershipIn], on: date) -> list[str]:
    """Replace the current memberships: unchanged ones stay, others close today (R1, R2)."""
    fresh = new_memberships(libs, on)
    for past in (m for m in fresh if m.until is not None):  # a historical record, added as is
        project.memberships.append(past)
    wanted = {m.library: m for m in fresh if m.until is None}
    notes = []
    for m in project.memberships:
        if m.until is not None:
            continue
        w = wanted.get(m.library)
        if w is not None and (w.kind, w.level) == (m.kind, m.level):
            del wanted[m.library]
            continue
        m.until = on if (w is None or w.since <= on) else w.since
        if m.until < m.since:
            m.until = m.since
        notes.append(f"{m.library} 出库 {m.until}")
    for w in wanted.values():
        project.memberships.append(w)
        notes.append(f"{w.library} 入库 {w.since}")
    project.lib_tags = lib_tags(project.memberships)
    return notes


def target_values(targets: list[TargetIn]) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "name": t.name,
            "kind": t.kind,
            "due_on": t.due_on,
            "threshold_pct": t.threshold_pct,
            "met_on": t.met_on,
        }
        for t in targets
    ]


def make_targets(targets: list[TargetIn]) -> list[Target]:
    return [Target(**v) for v in target_values(targets)]


def evaluate_targets(project: Project) -> None:
    """policy R11: start and completion targets are met by the project's own record."""
    completed = (project.stage_dates or {}).get("completed")
    for t in project.targets:
        if t.met_on is not None:
            continue
        if t.kind == "start" and project.actual_start:
            t.met_on = project.actual_start
        elif t.kind == "complete" and completed:
            t.met_on = date.fromisoformat(completed)
