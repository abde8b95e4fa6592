"""Project endpoints. Fixed paths (template, import, export, by-code) are declared before
``/{project_id}`` so they are never taken for an id."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from pydantic import TypeAdapter

from services.registry import excel, listing, service
from services.registry.listing import ProjectFilter
from services.registry.present import project_dict, project_out
from services.registry.schemas import (
    MAX_TAGS,
    Category,
    CodeLookup,
    Kind,
    Level,
    Library,
    ProjectIn,
    ProjectOut,
    ProjectPage,
    ProjectPatch,
    ScaleBand,
    Stage,
    Tag,
)
from shared.db import DbSession, ReadSession, UnitOfWorkRoute, get_read_connection
from shared.identity import CurrentPrincipal, current_principal
from shared.jsonutil import model_response
from shared.preconditions import IfMatchRequired

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], route_class=UnitOfWorkRoute)
PROJECT_OUT = TypeAdapter(ProjectOut)


def project_filter(
    library: Annotated[Library | None, Query(description="子库")] = None,
    level: Annotated[Level | None, Query(description="重点工程级别")] = None,
    kind: Annotated[Kind | None, Query(description="年度建设类型")] = None,
    category: Annotated[Category | None, Query(description="类别")] = None,
    scale_band: Annotated[ScaleBand | None, Query(description="规模档")] = None,
    unit: Annotated[str | None, Query(max_length=40, description="责任单位")] = None,
    tag: Annotated[list[Tag], Query(max_length=MAX_TAGS, description="标签（可重复，须全部具备）")] = [],  # noqa: B006
    stage: Annotated[Stage | None, Query(description="阶段")] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100, description="年度：该年内在库")] = None,
    q: Annotated[str | None, Query(max_length=100, description="名称或代码关键字")] = None,
    milestone: Annotated[
        Literal["met", "missed"] | None,
        Query(description="一二三节点（R10）：met 按期达到 / missed 逾期未达到（每日任务记录）"),
    ] = None,
) -> ProjectFilter:
    return ProjectFilter(
        library=library,
        level=level,
        kind=kind,
        category=category,
        scale_band=scale_band,
        unit=unit,
        tags=tag,
        stage=stage,
        year=year,
        q=q,
        milestone=milestone,
    )


Filter = Annotated[ProjectFilter, Depends(project_filter)]


@router.post("", status_code=201, response_model=ProjectOut, summary="项目入库（R1–R3、R8、R14）")
async def create_project(
    data: ProjectIn, session: DbSession, principal: CurrentPrincipal, response: Response
):
    project = await service.create_project(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    response.headers["ETag"] = f'"{project.version}"'
    return project_out(project)


@router.get("", response_model=ProjectPage, summary="项目列表（筛选、分页）")
async def list_projects(
    session: ReadSession,
    principal: CurrentPrincipal,
    f: Filter,
    page: Annotated[int, Query(ge=1, le=100_000, description="页码")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 20,
):
    items, total = await listing.list_projects(
        session, principal=principal, f=f, page=page, page_size=page_size
    )
    return {
        "items": [project_dict(p) for p in items],
        "total": total,  # type: ignore[arg-type]
        "page": page,
        "page_size": page_size,
    }


@router.get(
    "/template",
    summary="下载 Excel 导入模板",
    response_class=Response,
    responses={200: {"content": {excel.XLSX: {}}}},
)
async def download_template(principal: CurrentPrincipal):
    return Response(
        excel.template(),
        media_type=excel.XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''project-template.xlsx"},
    )


@router.post("/import", summary="Excel 导入（逐行报告；默认全部正确才写入）")
async def import_projects(
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="项目台账 xlsx")],
    partial: Annotated[bool, Query(description="只导入正确的行")] = False,
):
    content = await file.read()
    return await excel.import_projects(session, principal=principal, content=content, partial=partial)


@router.get(
    "/export",
    summary="导出项目台账（当前筛选条件）",
    response_class=Response,
    responses={200: {"content": {excel.XLSX: {}}}},
)
async def export_projects(session: DbSession, principal: CurrentPrincipal, f: Filter):
    content = await excel.export(session, principal=principal, f=f)
    return Response(
        content,
        media_type=excel.XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''project-ledger.xlsx"},
    )


@router.get(
    "/by-code/{project_code}",
    response_model=CodeLookup,
    summary="按项目代码查询是否在库（R12，供财政等平台）",
)
async def by_code(
    project_code: Annotated[str, Path(max_length=40, description="项目代码")],
    session: DbSession,
    principal: CurrentPrincipal,
):
    return await listing.lookup_by_code(session, principal=principal, code=project_code)


@router.get("/{project_id}", response_model=ProjectOut, summary="项目详情")
async def get_project(project_id: uuid.UUID, request: Request) -> Response:
    # issue 15: the hottest read calls the functions behind CurrentPrincipal and the read
    # connection itself, sparing two nested FastAPI dependency resolutions
    principal = await current_principal(request)
    conn = await get_read_connection(request)
    project = await listing.read_project(conn, principal=principal, project_id=project_id)
    return model_response(PROJECT_OUT, project_dict(project), headers={"ETag": f'"{project.version}"'})  # type: ignore[arg-type]


@router.patch("/{project_id}", response_model=ProjectOut, summary="修改项目（须带 If-Match）")
async def patch_project(
    project_id: uuid.UUID,
    data: ProjectPatch,
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchRequired,
):
    project = await service.patch_project(
        session, principal=principal, project_id=project_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = f'"{project.version}"'
    return project_out(project)
