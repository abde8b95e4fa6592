"""The monthly bulletin (月度通报): its content, gathered once, and the xlsx rendering.

`gather_bulletin` reads everything a bulletin says for a month (the stored run: rankings,
points, the five comparisons; the month's notices and summons) into `BulletinContent`;
`bulletin_xlsx` here and `bulletin_docx.bulletin_docx` render that same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import assessment, notices
from services.scoring.dates import parse_business_date
from services.scoring.models import AssessmentRun
from services.scoring.rubric import METRICS
from shared.identity import SYSTEM_PRINCIPAL

KIND_ZH = {"township": "乡镇", "department": "部门"}
REASON_ZH = {"unfinished": "逾期未办结", "badly_done": "办理不力"}
SUMMONS_LEVEL_ZH = {"deputy": "分管领导约谈", "principal": "主要领导约谈"}
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class BulletinContent:
    """What the bulletin of a month says, whatever the format."""

    month: str
    status: str  # draft | published
    revision: int
    published_on: date | None
    rubric_versions: dict[str, int]
    units: list[dict[str, Any]]  # the run's rows (kind, rank, unit_name, score, points…) + comparison_ranks
    metrics: list[str]  # rubric items present in the run, in METRICS order
    comparisons: dict[str, Any]  # R30 tables as stored in the run ({} for a run without them)
    notices: list[dict[str, Any]]  # month_notices() rows + unit_name, reason_name
    summons: list[dict[str, Any]]
    # the charts' figures, from the stored runs (issue 17): the assessed units' planned
    # starts done / due this year, and each month's investment completed (万元) of the year
    # up to this month that has a run
    starts: tuple[int, int] = (0, 0)
    trend: tuple[tuple[str, Decimal], ...] = ()

    @property
    def published(self) -> bool:
        return self.status == "published"

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [u for u in self.units if u["kind"] == kind]


async def gather_bulletin(session: AsyncSession, month: str) -> BulletinContent:
    """The month's bulletin content; 422 `month.invalid`, 404 `assessment.not_run`."""
    run = await assessment.get_run(session, month)
    names = {uid: u.get("name") or uid for uid, u in run.inputs.get("units", {}).items()}
    comparisons = run.result.get("comparisons") or {}
    ranks: dict[str, dict[str, int]] = {}
    for key, table in comparisons.items():
        for kind in KIND_ZH:
            for r in table.get(kind, []):
                ranks.setdefault(r["unit_id"], {})[key] = r["rank"]
    units = [u | {"comparison_ranks": ranks.get(u["unit_id"], {})} for u in run.result["units"]]
    metrics = sorted({m for u in units for m in u["points"]}, key=list(METRICS).index)
    month_notices = [
        n
        | {
            "unit_name": names.get(n["unit_id"], n["unit_id"]),
            "reason_name": REASON_ZH.get(n["reason"], n["reason"]),
        }
        for n in await notices.month_notices(session, month)
    ]
    # the bulletin is one document for every reader: all units' summons of the month
    summons = [
        {
            "unit_id": s.unit_id,
            "unit_name": names.get(s.unit_id, s.unit_id),
            "summoned": s.summoned,
            "summoner": s.summoner,
            "level": s.level,
            "level_name": SUMMONS_LEVEL_ZH.get(s.level, s.level),
            "issued_on": s.issued_on,
            "due_by": s.due_by,
            "held_on": s.held_on,
            "outcome": s.outcome,
        }
        for s in await notices.list_summons(session, principal=SYSTEM_PRINCIPAL, unit_id=None, month=month)
    ]
    starts, trend = await _chart_figures(session, run)
    return BulletinContent(
        starts=starts,
        trend=trend,
        month=run.month,
        status=run.status,
        revision=run.revision,
        published_on=parse_business_date(run.published_at),
        rubric_versions=run.result["rubric_versions"],
        units=units,
        metrics=metrics,
        comparisons=comparisons,
        notices=month_notices,
        summons=summons,
    )


def _month_sums(inputs: dict[str, Any], metric: str) -> Decimal:
    return sum((Decimal(str(u["metrics"].get(metric) or 0)) for u in inputs["units"].values()), Decimal(0))


async def _chart_figures(session: AsyncSession, run: AssessmentRun):
    done = int(_month_sums(run.inputs, "start_done"))
    due = int(_month_sums(run.inputs, "start_planned"))
    year = run.month[:4]
    runs = (
        await session.scalars(
            select(AssessmentRun)
            .where(AssessmentRun.month.between(f"{year}-01", run.month))
            .order_by(AssessmentRun.month)
        )
    ).all()
    trend = tuple(
        (r.month, _month_sums((run if r.month == run.month else r).inputs, "investment_completed"))
        for r in runs
    )
    return (done, due), trend


def _sheet(wb: Workbook, title: str, caption: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append([caption])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(header)))
    ws.append(header)
    for cell in ws[2]:
        cell.font, cell.fill = HEAD, FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append(row)
    for i, h in enumerate(header, start=1):
        width = max([len(str(h))] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r)]) + 4
        ws.column_dimensions[get_column_letter(i)].width = min(60, width * 1.6)
    ws.freeze_panes = "A3"


def _chart_sheet(wb: Workbook, charts: list[Any]) -> None:
    """The bulletin's charts (issue 17), each beside the figures it was drawn from."""
    ws = wb.create_sheet("图表")
    ws.column_dimensions["A"].width = 60
    row = 1
    for chart in charts:
        ws.cell(row, 1, chart.title).font = Font(bold=True, size=12)
        ws.cell(row + 1, 1, chart.description)
        picture = XlImage(BytesIO(chart.png))
        scale = 640 / picture.width
        picture.width, picture.height = 640, int(picture.height * scale)
        ws.add_image(picture, f"C{row}")
        row += max(4, picture.height // 20 + 2)


def bulletin_xlsx(b: BulletinContent, charts: list[Any] = ()) -> bytes:
    month, status = b.month, "正式" if b.published else "草稿（未发布）"
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    header = ["类别", "名次", "单位", "总分", "被通报次数"] + [METRICS[m][0] for m in b.metrics]
    rows = [
        [KIND_ZH[u["kind"]], u["rank"], u["unit_name"], float(u["score"]), u["notices"]]
        + [float(u["points"][m]) if m in u["points"] else "—" for m in b.metrics]
        for u in b.units
    ]
    versions = "，".join(f"{KIND_ZH[k]}第 {v} 版" for k, v in b.rubric_versions.items())
    _sheet(
        wb, "综合排名", f"{month} 重点项目建设月度考核排名（{status}；评分细则：{versions}）", header, rows
    )
    comp_rows = []
    for table in b.comparisons.values():
        for kind in KIND_ZH:
            for r in table[kind]:
                comp_rows.append(
                    [table["name"], KIND_ZH[kind], r["rank"], r["unit_name"], r["value"], r["secondary"]]
                )
    _sheet(
        wb,
        "五晒五比",
        f"{month} 五晒五比排名",
        ["比拼项目", "类别", "名次", "单位", "主要指标", "辅助指标"],
        comp_rows,
    )
    _sheet(
        wb,
        "通报",
        f"{month} 交办事项通报",
        ["单位", "交办任务", "办结期限", "第几次通报", "原因", "处理"],
        [
            [n["unit_name"], n["task"], n["deadline"], n["ordinal"], n["reason_name"], n["level_name"]]
            for n in b.notices
        ],
    )
    _sheet(
        wb,
        "约谈",
        f"{month} 约谈安排",
        ["被约谈单位及负责人", "约谈人", "级别", "应约谈日期前", "约谈日期", "结果"],
        [
            [
                s["summoned"],
                s["summoner"],
                s["level_name"],
                s["due_by"].isoformat(),
                s["held_on"].isoformat() if s["held_on"] else "",
                s["outcome"] or "",
            ]
            for s in b.summons
        ],
    )
    if charts:
        _chart_sheet(wb, list(charts))
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
