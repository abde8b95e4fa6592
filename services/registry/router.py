from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.registry import service
from services.registry.schemas import ProjectIn, ProjectOut
from shared.db import DbSession, UnitOfWorkRoute
from shared.identity import CurrentPrincipal

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], route_class=UnitOfWorkRoute)


@router.post("", status_code=201, response_model=ProjectOut, summary="项目入库")
async def create_project(data: ProjectIn, session: DbSession, principal: CurrentPrincipal,
                         response: Response):
    project = await service.create_project(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    response.headers["ETag"] = f'"{project.version}"'
    return project


@router.get("/{project_id}", response_model=ProjectOut, summary="项目详情")
async def get_project(project_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal,
                      response: Response):
    project = await service.get_project(session, principal=principal, project_id=project_id)
    response.headers["ETag"] = f'"{project.version}"'
    return project
