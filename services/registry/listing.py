"""The project list with its filters, and the by-code lookup for other platforms (R12)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import read_scope, require_read
from services.registry.codes import project_code_problem
from services.registry.models import SCOPE_TAGS, Membership, MilestoneRecord, Project, Target
from services.registry.present import membership_out
from shared.db import ReadConnection, ReadStatement
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
    milestone: str | None = None  # policy R10: met | missed (as recorded by the daily job)


def filter_clause(principal: Principal, f: ProjectFilter) -> ColumnElement[bool]:
    """The filter as a WHERE clause; library and unit together are one GIN lookup
    (``models.SCOPE_TAGS``)."""
    conds: list[ColumnElement[bool]] = [read_scope(principal)]
    lib_tags = []
    if f.library and f.year is None:
        lib_tags.append(f.library)
    if f.level and f.year is None:
        lib_tags.append(f"key:{f.level}")
    if f.kind and f.year is None:
        lib_tags.append(f"annual:{f.kind}")
    unit = f.unit
    if lib_tags and unit:
        conds.append(SCOPE_TAGS.contains([*lib_tags, f"u:{unit}"]))
        unit = None
    elif lib_tags:
        conds.append(SCOPE_TAGS.contains(lib_tags))
    if f.tags:
        conds.append(Project.tags.contains(f.tags))
    if f.category:
        conds.append(Project.category == f.category)
    if f.scale_band:
        conds.append(Project.scale_band == f.scale_band)
    if unit:
        conds.append(Project.unit_id == unit)
    if f.stage:
        conds.append(Project.stage == f.stage)
    if f.year is not None:
        # in a library (of the given kind) at some time during the year
        m = [
            Membership.project_id == Project.id,
            Membership.since <= date(f.year, 12, 31),
            or_(Membership.until.is_(None), Membership.until >= date(f.year, 1, 1)),
        ]
        if f.level:
            m += [Membership.library == "key", Membership.level == f.level]
        elif f.library:
            m.append(Membership.library == f.library)
        if f.kind:
            m.append(Membership.kind == f.kind)
        conds.append(exists().where(and_(*m)))
    if f.milestone:
        conds.append(
            exists().where(MilestoneRecord.project_id == Project.id, MilestoneRecord.status == f.milestone)
        )
    if f.q:
        text = f.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(or_(Project.name.ilike(f"%{text}%"), Project.project_code.ilike(f"{text.upper()}%")))
    return and_(*conds)


_M, _T = Membership.__table__, Target.__table__


def _children(table: Table, order: ColumnElement) -> ColumnElement:
    """A project's child rows as an array of the table's composite type (one query, no N+1)."""
    rows = select(table.table_valued()).where(table.c.project_id == Project.id).order_by(order)
    return func.array(rows.scalar_subquery())


# a project with its memberships and targets, in the order the ORM relationships use
PROJECT_ROW = [
    *Project.__table__.columns,
    _children(_M, _M.c.since).label("memberships"),
    _children(_T, _T.c.due_on).label("targets"),
]


# built once: a fresh select of these ~45 columns and two subqueries cost ~0.7 ms of cache-key
# generation per read (issue 15 profile); this one's key is computed once and memoised
READ_PROJECT = ReadStatement(select(*PROJECT_ROW).where(Project.id == bindparam("project_id")))


def project_view(row: Row) -> SimpleNamespace:
    """A ``PROJECT_ROW`` as the attribute bag ``present.project_dict`` reads."""
    p = SimpleNamespace(**(row._mapping if isinstance(row, Row) else row))
    p.memberships = [SimpleNamespace(**dict(m.items())) for m in p.memberships]
    p.targets = [SimpleNamespace(**dict(t.items())) for t in p.targets]
    return p


async def read_project(
    conn: ReadConnection, *, principal: Principal, project_id: uuid.UUID
) -> SimpleNamespace:
    """One project for display: a single statement, no session, no ORM identity map."""
    row = await conn.fetchrow(READ_PROJECT, project_id)
    return require_read(
        principal,
        project_view(row) if row else None,  # type: ignore[arg-type]
        project_id,
    )


def _broad(principal: Principal, f: ProjectFilter) -> bool:
    """A list that may match most of the library: no unit, tag, keyword or year narrows it."""
    return principal.reads_all and not (f.unit or f.tags or f.q or f.milestone or f.year is not None)


async def list_projects(
    session: AsyncSession, *, principal: Principal, f: ProjectFilter, page: int, page_size: int
) -> tuple[list[SimpleNamespace], int]:
    """One page and the total, in one statement (a page past the end still has its total).

    A narrow list reads its matches once (count and page share them); a broad one counts and
    walks the created_at index for the page, which needs no pass over all the matches."""
    where = filter_clause(principal, f)
    order = (Project.created_at.desc(), Project.id.desc())
    offset = (page - 1) * page_size
    if _broad(principal, f):
        counted = select(func.count().label("total")).select_from(Project).where(where)
        ids = select(Project.id).where(where).order_by(*order).limit(page_size).offset(offset)
    else:
        m = select(Project.id, Project.created_at).where(where).cte("matches").prefix_with("MATERIALIZED")
        counted = select(func.count().label("total")).select_from(m)
        ids = select(m.c.id).order_by(m.c.created_at.desc(), m.c.id.desc()).limit(page_size).offset(offset)
    t, pg = counted.subquery("t"), ids.subquery("page")
    rows = (
        await session.execute(
            select(t.c.total, *PROJECT_ROW)
            .select_from(t.outerjoin(pg.join(Project, Project.id == pg.c.id), true()))
            .order_by(*order)
        )
    ).all()
    return [project_view(r) for r in rows if r.id is not None], int(rows[0].total)


async def lookup_by_code(session: AsyncSession, *, principal: Principal, code: str) -> dict:
    """policy R12: is the project in the library, in which sub-libraries, since when."""
    code = code.strip().upper()
    problem = project_code_problem(code)
    if problem:
        raise InvalidInput(
            problem, code="project.code_invalid", fields=[{"field": "project_code", "message": problem}]
        )
    project = await session.scalar(select(Project).where(Project.project_code == code))
    if project is None:
        raise NotFound(
            f"项目代码 {code} 不在项目库中（无库不支持，policy R12）",
            code="project.not_in_library",
            project_code=code,
            in_library=False,
        )
    require_read(principal, project, code)
    current = [m for m in project.memberships if m.until is None]
    return {
        "project_code": project.project_code,
        "in_library": bool(current),
        "project_id": project.id,
        "name": project.name,
        "government_investment": project.government_investment,
        "libraries": [membership_out(m) for m in current],
        "history": [membership_out(m) for m in project.memberships],
        "since": min((m.since for m in current), default=None),
        # policy R13: a revoked qualification gets no money either (R12)
        "qualification_revoked": project.revocation_state == "revoked",
        "revoked_on": project.revoked_on,
    }
