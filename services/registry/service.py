"""The project library's domain logic. Takes a session, flushes, never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Project, pipeline
from services.registry.schemas import ProjectIn, ProjectOut
from shared.errors import Conflict, NotFound
from shared.identity import Principal


async def create_project(session: AsyncSession, *, principal: Principal, data: ProjectIn) -> Project:
    principal.require_unit(data.unit_id)
    exists = await session.scalar(select(Project.id).where(Project.project_code == data.project_code))
    if exists is not None:
        raise Conflict(f"项目代码 {data.project_code} 已在库中", code="project.duplicate_code",
                       existing_id=str(exists))
    project = Project(**data.model_dump())
    session.add(project)
    await session.flush()
    snapshot = ProjectOut.model_validate(project).model_dump(mode="json")
    await pipeline.audit(session, principal, entity="project", entity_id=project.id,
                         action="create", after=snapshot)
    await pipeline.emit(session, "project.created", snapshot, key=str(project.id))
    return project


async def get_project(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> Project:
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound(f"项目 {project_id} 不存在", code="project.not_found")
    return project
