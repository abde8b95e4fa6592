"""The monthly bulletin (月度通报) as xlsx: rankings, the five comparisons, notices, summons."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from services.scoring.models import AssessmentRun, Summons
from services.scoring.rubric import METRICS

KIND_ZH = {"township": "乡镇", "department": "部门"}
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")


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


def bulletin_xlsx(run: AssessmentRun, notices: list[dict[str, Any]], summons: list[Summons]) -> bytes:
    month, status = run.month, "正式" if run.status == "published" else "草稿（未发布）"
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    metrics = sorted({m for u in run.result["units"] for m in u["points"]}, key=list(METRICS).index)
    header = ["类别", "名次", "单位", "总分", "被通报次数"] + [METRICS[m][0] for m in metrics]
    rows = [
        [KIND_ZH[u["kind"]], u["rank"], u["unit_name"], float(u["score"]), u["notices"]]
        + [float(u["points"][m]) if m in u["points"] else "—" for m in metrics]
        for u in run.result["units"]
    ]
    versions = "，".join(f"{KIND_ZH[k]}第 {v} 版" for k, v in run.result["rubric_versions"].items())
    _sheet(
        wb, "综合排名", f"{month} 重点项目建设月度考核排名（{status}；评分细则：{versions}）", header, rows
    )
    comp_rows = []
    for table in run.result["comparisons"].values():
        for kind in ("township", "department"):
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
            [
                n["unit_id"],
                n["task"],
                n["deadline"],
                n["ordinal"],
                "逾期未办结" if n["reason"] == "unfinished" else "办理不力",
                n["level_name"],
            ]
            for n in notices
        ],
    )
    _sheet(
        wb,
        "约谈",
        f"{month} 约谈安排",
        ["被约谈单位及负责人", "约谈人", "级别", "应约谈日期前", "约谈日期", "结果"],
        [
            [
                s.summoned,
                s.summoner,
                "分管县领导约谈" if s.level == "deputy" else "主要领导约谈",
                s.due_by.isoformat(),
                s.held_on.isoformat() if s.held_on else "",
                s.outcome or "",
            ]
            for s in summons
        ],
    )
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
