"""Progress, photos, files, revocation, dossier (R6, R7, R13) and plans (R4, R5, R9, R11)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import TypeAdapter

from services.registry import documents, dossier, dossier_xlsx, photos, plans, progress, rules, trend
from services.registry.excel import XLSX
from services.registry.present import project_out
from services.registry.schemas import ProjectOut
from services.registry.schemas_plans import PlanIn, PlanOut, PlanSummary
from services.registry.schemas_progress import (
    MONTH,
    CorrectionIn,
    PhotoOut,
    ProgressIn,
    ProgressList,
    ProgressOut,
    RevocationIn,
)
from services.registry.service import get_project
from shared.db import DbSession, UnitOfWorkRoute, get_write_connection
from shared.identity import CurrentPrincipal, current_principal
from shared.jsonutil import model_response
from shared.preconditions import IfMatchOptional

router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)
PROGRESS_OUT = TypeAdapter(ProgressOut)
Month = Annotated[str, Path(pattern=MONTH, max_length=7, description="月份 YYYY-MM")]


@router.post(
    "/projects/{project_id}/progress",
    status_code=201,
    response_model=ProgressOut,
    tags=["progress"],
    summary="月度进度填报（R6）",
)
async def report(project_id: uuid.UUID, data: ProgressIn, request: Request) -> Response:
    # issue 15: two statements straight to the driver, committed by the unit of work; the
    # principal and the connection taken without nested dependency resolutions (as the
    # project read: a body that fails validation is answered 422 before the identity is read)
    principal = await current_principal(request)
    conn = await get_write_connection(request)
    out = await progress.report_progress(conn, principal=principal, project_id=project_id, data=data)
    return model_response(PROGRESS_OUT, out, status_code=201)


@router.get(
    "/projects/{project_id}/progress",
    response_model=ProgressList,
    tags=["progress"],
    summary="月报、更正版本、逾期未报月份与照片",
)
async def list_reports(project_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    project = await get_project(session, principal=principal, project_id=project_id)
    return {
        "items": await progress.list_progress(session, project.id),
        "missing_months": await progress.missing_months(session, project.id),
        "photos": await photos.list_photos(session, project.id),
    }


@router.post(
    "/projects/{project_id}/progress/{month}/corrections",
    status_code=201,
    response_model=ProgressOut,
    tags=["progress"],
    summary="更正月报（新版本，留痕）",
)
async def correct(
    project_id: uuid.UUID, month: Month, data: CorrectionIn, principal: CurrentPrincipal, request: Request
) -> Response:
    conn = await get_write_connection(request)
    out = await progress.correct_progress(
        conn, principal=principal, project_id=project_id, month=month, data=data
    )
    return model_response(PROGRESS_OUT, out, status_code=201)


@router.post(
    "/projects/{project_id}/progress/{month}/photos",
    status_code=201,
    response_model=PhotoOut,
    tags=["progress"],
    summary="上传进度照片",
)
async def upload_photo(
    project_id: uuid.UUID,
    month: Month,
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="JPEG/PNG/WebP 照片")],
):
    return await photos.add_photo(
        session, principal=principal, project_id=project_id, month=month, upload=file
    )


@router.get(
    "/files/{file_id}",
    tags=["progress"],
    summary="下载文件（进度照片、项目文件）",
    response_class=FileResponse,
)
async def download(file_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    stored, path = await documents.get_file(session, principal=principal, file_id=file_id)
    return FileResponse(
        path,
        media_type=stored.content_type,
        headers={"ETag": f'"{stored.sha256}"', "Cache-Control": "private, max-age=3600"},
    )


@router.post(
    "/projects/{project_id}/documents",
    status_code=201,
    response_model=documents.DocumentOut,
    tags=["projects"],
    summary="上传项目文件：批复、证照、合同（R7 一项一档）",
)
async def upload_document(
    project_id: uuid.UUID,
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="PDF/OFD/docx/xlsx/JPEG/PNG/WebP")],
    doc_type: Annotated[documents.DocType, Form(description="批复/证照/合同/其他")],
    title: Annotated[str, Form(min_length=2, max_length=200, description="文件名称")],
    issuer: Annotated[str | None, Form(max_length=200, description="出具单位")] = None,
    issued_on: Annotated[date | None, Form(description="出具日期")] = None,
    doc_number: Annotated[str | None, Form(max_length=100, description="文号或证号")] = None,
):
    return await documents.add_document(
        session,
        principal=principal,
        project_id=project_id,
        doc_type=doc_type,
        title=title,
        issuer=issuer,
        issued_on=issued_on,
        doc_number=doc_number,
        upload=file,
    )


@router.get(
    "/projects/{project_id}/documents",
    response_model=list[documents.DocumentOut],
    tags=["projects"],
    summary="项目文件列表（R7）",
)
async def list_documents(project_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    project = await get_project(session, principal=principal, project_id=project_id)
    return await documents.list_documents(session, project.id)


@router.post(
    "/projects/{project_id}/revocation",
    response_model=ProjectOut,
    tags=["projects"],
    summary="确认收回审批手续与用地指标（R13，重点办）",
)
async def revoke(project_id: uuid.UUID, data: RevocationIn, session: DbSession, principal: CurrentPrincipal):
    project = await rules.confirm_revocation(session, principal=principal, project_id=project_id, data=data)
    return project_out(project)


@router.get("/projects/{project_id}/dossier", tags=["projects"], summary="一项一档（R7）")
async def get_dossier(
    project_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    return await dossier.dossier(session, principal=principal, project_id=project_id)


@router.get(
    "/projects/{project_id}/dossier.xlsx",
    tags=["projects"],
    summary="一项一档导出（R7，xlsx；缺失部分在「说明」页列明）",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def export_dossier(project_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    code, content = await dossier_xlsx.dossier_workbook(session, principal=principal, project_id=project_id)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="dossier-{code}.xlsx"'},
    )


@router.put("/plans/{year}", response_model=PlanOut, tags=["plans"], summary="申报年度计划目标（R4）")
async def put_plan(
    year: Annotated[int, Path(ge=1990, le=2100)],
    data: PlanIn,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatchOptional,
):
    plan = await plans.put_plan(session, principal=principal, year=year, data=data, if_match=if_match)
    return {
        "year": plan.year,
        "declared": plan.declared,
        "version": plan.version,
        "updated_at": plan.updated_at,
    }


@router.get(
    "/plans/{year}/summary",
    response_model=PlanSummary,
    tags=["plans"],
    summary="计划与实际对比：规模、类别、级别、开工率、储备倍数、年末目标、全部不符项",
)
async def plan_summary(
    year: Annotated[int, Path(ge=1990, le=2100)],
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=0, le=5000, description="明细条数上限")] = 200,
):
    return await plans.summary(session, principal=principal, year=year, limit=limit)


@router.get(
    "/plans/{year}/monthly",
    tags=["plans"],
    summary="本年各月完成投资及累计（月度进度填报现行版本之和，R6、R27）",
)
async def plan_monthly(
    year: Annotated[int, Path(ge=1990, le=2100)], session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    return await trend.monthly(session, principal=principal, year=year)
