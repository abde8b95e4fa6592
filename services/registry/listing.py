"""The project list with its filters, and the by-code lookup for other platforms (R12)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import read_scope, require_read
from services.registry.codes import project_code_problem
from services.registry.models import Membership, Project
from services.registry.present import membership_out
from shared.errors import InvalidInput, NotFound
from shared.identity import Principal


@dataclass
class ProjectFilter:
    library: str | None = None
    level: str | None = None
    kind: str | None = None
    category: str | None = None
    scale_band: str | None = None
    unit: str | None = None
    tags: list[str] = field(default_factory=list)
    stage: str | None = None
    year: int | None = None
    q: str | None = None


def filter_clause(principal: Principal, f: ProjectFilter) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [read_scope(principal)]
    lib_tags = []
    if f.library and f.year is None:
        lib_tags.append(f.library)
    if f.level and f.year is None:
        lib_tags.append(f"key:{f.level}")
    if f.kind and f.year is None:
        lib_tags.append(f"annual:{f.kind}")
    if lib_tags:
        conds.append(Project.lib_tags.contains(lib_tags))
    if f.tags:
        conds.append(Project.tags.contains(f.tags))
    if f.category:
        conds.append(Project.category == f.category)
    if f.scale_band:
        conds.append(Project.scale_band == f.scale_band)
    if f.unit:
        conds.append(Project.unit_id == f.unit)
    if f.stage:
        conds.append(Project.stage == f.stage)
    if f.year is not None:
        # in a library (of the given kind) at some time during the year
        m = [Membership.project_id == Project.id,
             Membership.since <= date(f.year, 12, 31),
             or_(Membership.until.is_(None), Membership.until >= date(f.year, 1, 1))]
        if f.level:
            m += [Membership.library == "key", Membership.level == f.level]
        elif f.library:
            m.append(Membership.library == f.library)
        if f.kind:
            m.append(Membership.kind == f.kind)
        conds.append(exists().where(and_(*m)))
    if f.q:
        text = f.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(or_(Project.name.ilike(f"%{text}%"),
                         Project.project_code.ilike(f"{text.upper()}%")))
    return and_(*conds)


async def list_projects(session: AsyncSession, *, principal: Principal, f: ProjectFilter,
                        page: int, page_size: int) -> tuple[list[Project], int]:
    where = filter_clause(principal, f)
    total = await session.scalar(select(func.count()).select_from(Project).where(where))
    rows = await session.scalars(
        select(Project).where(where)
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(page_size).offset((page - 1) * page_size))
    return list(rows), int(total or 0)


async def lookup_by_code(session: AsyncSession, *, principal: Principal, code: str) -> dict:
    """policy R12: is the project in the library, in which sub-libraries, since when."""
    code = code.strip().upper()
    problem = project_code_problem(code)
    if problem:
        raise InvalidInput(problem, code="project.code_invalid",
                           fields=[{"field": "project_code", "message": problem}])
    project = await session.scalar(select(Project).where(Project.project_code == code))
    if project is None:
        raise NotFound(f"项目代码 {code} 不在项目库中（无库不支持，policy R12）",
                       code="project.not_in_library", project_code=code, in_library=False)
    require_read(principal, project, code)
    current = [m for m in project.memberships if m.until is None]
    return {
        "project_code": project.project_code, "in_library": bool(current),
        "project_id": project.id, "name": project.name,
        "government_investment": project.government_investment,
        "libraries": [membership_out(m) for m in current],
        "history": [membership_out(m) for m in project.memberships],
        "since": min((m.since for m in current), default=None),
    }
