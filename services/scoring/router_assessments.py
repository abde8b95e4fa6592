"""HTTP: rubrics, monthly runs, objections, publishing, year-end, bulletins (R27, R29, R30)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.scoring import assessment, notices, overview, yearend
from services.scoring.access import require_ranking_reader
from services.scoring.bulletin import bulletin_xlsx, gather_bulletin
from services.scoring.bulletin_charts import bulletin_charts
from services.scoring.bulletin_docx import DOCX, bulletin_docx, issuing_office
from services.scoring.models import AssessmentRun
from services.scoring.schemas import ObjectionIn, ObjectionOut, ResolutionIn, RubricIn, RubricOut
from services.scoring.schemas_assessment import AssessmentOut, AssessmentRunOut, YearResultOut
from services.scoring.schemas_problem import file_response, problems
from shared.clients.units import unit_directory
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import InvalidInput, ServiceUnavailable
from shared.identity import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["assessment"], route_class=UnitOfWorkRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH_422 = "month.invalid"
# checked by the service (month.invalid); bounded here so no request carries a long one
MonthPath = Annotated[str, Path(max_length=20, description="考核月份 YYYY-MM")]
BULLETIN_ERRORS = problems(e404="assessment.not_run", e422=MONTH_422)


def _doc(model, what: str) -> dict[int | str, dict]:
    """Documentation-only 200 (the endpoint answers its dict as built: key order, strings, offsets)."""
    return {200: {"model": model, "description": what}}


async def _assessable_units() -> dict[str, dict[str, Any]]:
    units = await unit_directory(refresh=True)  # the leaders as the office keeps them today (R28)
    if not units:
        raise ServiceUnavailable("无法读取单位名录，考核未执行", code="service.unit_directory")
    return units


async def _run_body(session, run: AssessmentRun) -> dict[str, Any]:
    figures = run.inputs["units"]
    return {
        "month": run.month,
        "status": run.status,
        "revision": run.revision,
        "rubric_versions": run.result["rubric_versions"],
        "rubric_ids": run.rubric_ids,
        "inputs_digest": run.inputs_digest,
        "run_at": run.run_at,
        "run_by": run.run_by,
        "published_at": run.published_at,
        "published_by": run.published_by,
        "units": [u | {"figures": figures[u["unit_id"]]["metrics"]} for u in run.result["units"]],
        "comparisons": run.result["comparisons"],
        "notices": await notices.month_notices(session, run.month),
    }


@router.post(
    "/rubrics",
    status_code=201,
    response_model=RubricOut,
    summary="发布新版评分细则",
    responses=problems(
        e422="rubric.empty / rubric.unknown_metric / rubric.duplicate_metric / rubric.unknown_method / "
        "rubric.weight_invalid / rubric.weights_not_100（附 weight_sum）/ request.invalid"
    ),
)
async def create_rubric(data: RubricIn, session: DbSession, principal: CurrentPrincipal):
    return await assessment.create_rubric(session, principal=principal, data=data)


@router.get(
    "/rubrics",
    response_model=list[RubricOut],
    summary="评分细则（各版本）",
    responses=problems(e422="request.invalid"),
)
async def list_rubrics(
    session: DbSession,
    principal: CurrentPrincipal,
    kind: str | None = Query(None, max_length=20, description="township 乡镇 / department 部门"),
):
    require_ranking_reader(principal)
    return await assessment.list_rubrics(session, kind)


@router.get(
    "/assessments/year/{year}",
    summary="年度考核结果（月度与年终项目综合，表彰名单）",
    responses=_doc(YearResultOut, "年度考核结果") | problems(e422="year.invalid / request.invalid"),
)
async def year_result(
    year: Annotated[int, Path(ge=1, le=9999)], session: DbSession, principal: CurrentPrincipal
):
    require_ranking_reader(principal)
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份无效", code="year.invalid", fields=[{"field": "year", "message": "年份无效"}])
    return await yearend.year_result(session, year=year)


@router.post(
    "/assessments/{month}/run",
    summary="执行月度考核（幂等；每月 1 日自动执行）",
    responses=_doc(AssessmentRunOut, "月度考核结果与本次执行情况")
    | problems(e422="month.invalid / assessment.month_not_ended", e503="service.unit_directory"),
)
async def run_month(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    principal.require_office()
    units = await _assessable_units()
    run, info = await assessment.run_month(session, principal=principal, month=month, units=units)
    return await _run_body(session, run) | info


@router.get(
    "/assessments/{month}",
    summary="月度考核结果：得分、名次、五晒五比、通报",
    responses=_doc(AssessmentOut, "月度考核结果") | problems(e404="assessment.not_run", e422=MONTH_422),
)
async def get_month(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    require_ranking_reader(principal)
    return await _run_body(session, await assessment.get_run(session, month))


@router.post(
    "/assessments/{month}/publish",
    summary="发布月度考核结果（重点办）",
    responses=_doc(AssessmentOut, "已发布的月度考核结果")
    | problems(
        e404="assessment.not_run",
        e409="assessment.already_published / assessment.open_objections（附 objection_ids）",
        e422=MONTH_422,
    ),
)
async def publish(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    return await _run_body(session, await assessment.publish(session, principal=principal, month=month))


@router.post(
    "/assessments/{month}/objections",
    status_code=201,
    response_model=ObjectionOut,
    summary="单位对草稿结果提出异议",
    responses=problems(
        e404="assessment.not_run / assessment.unit_not_assessed",
        e409="assessment.not_draft",
        e422="month.invalid / request.invalid",
    ),
)
async def raise_objection(
    month: MonthPath, data: ObjectionIn, session: DbSession, principal: CurrentPrincipal
):
    return await assessment.raise_objection(
        session, principal=principal, month=month, unit_id=data.unit_id, item=data.item, reason=data.reason
    )


@router.get(
    "/assessments/{month}/objections",
    response_model=list[ObjectionOut],
    summary="异议列表",
    responses=problems(e422="request.invalid"),
)
async def list_objections(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    return await assessment.list_objections(session, principal=principal, month=month)


@router.post(
    "/assessments/{month}/objections/{objection_id}/resolve",
    response_model=ObjectionOut,
    summary="重点办处理异议",
    responses=problems(e404="objection.not_found", e409="objection.already_resolved", e422="request.invalid"),
)
async def resolve_objection(
    month: MonthPath,
    objection_id: uuid.UUID,
    data: ResolutionIn,
    session: DbSession,
    principal: CurrentPrincipal,
):
    return await assessment.resolve_objection(
        session,
        principal=principal,
        month=month,
        objection_id=objection_id,
        accepted=data.accepted,
        resolution=data.resolution,
    )


@router.get(
    "/bulletins/overview",
    summary="亮晒概览：本年通报、约谈按单位统计（R28），最近一期已发布排名、五晒五比及名次变化（R30）",
)
async def bulletin_overview(
    session: DbSession,
    principal: CurrentPrincipal,
    year: int = Query(..., ge=2000, le=2100, description="年度"),
):
    require_ranking_reader(principal)
    return await overview.overview(session, year=year)


@router.get(
    "/bulletins/{month}.xlsx",
    summary="月度通报（xlsx）：排名、五晒五比、通报、约谈",
    response_class=Response,
    responses=file_response(XLSX, "月度通报 Excel 文件（bulletin-YYYY-MM.xlsx）") | BULLETIN_ERRORS,
)
async def bulletin(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    require_ranking_reader(principal)
    content = await gather_bulletin(session, month)
    body = bulletin_xlsx(content, bulletin_charts(content))
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="bulletin-{month}.xlsx"'},
    )


@router.get(
    "/bulletins/{month}.docx",
    summary="月度通报（Word）：标题、发布状态、总体情况、乡镇与部门排名（含五比名次）、通报、约谈",
    response_class=Response,
    responses=file_response(DOCX, "月度通报 Word 文件（bulletin-YYYY-MM.docx）") | BULLETIN_ERRORS,
)
async def bulletin_word(month: MonthPath, session: DbSession, principal: CurrentPrincipal):
    require_ranking_reader(principal)
    body = bulletin_docx(await gather_bulletin(session, month), issuer=await issuing_office())
    return Response(
        body,
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="bulletin-{month}.docx"'},
    )
