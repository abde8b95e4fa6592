"""The work ledger (工作台账): five-in-place columns, step, days left or overdue, redo count.

JSON for screens, xlsx for the office's weekly paperwork (see ``xlsx_bytes``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import flow
from services.issues.models import Issue
from services.issues.schemas import KIND_ZH, SOURCE_ZH
from shared.calendar import WorkingCalendar

COLUMNS = (
    ("no", "序号", 6),
    ("project_code", "项目代码", 26),
    ("project_name", "项目名称", 30),
    ("kind", "问题类型", 12),
    ("description", "问题描述", 40),
    ("source", "来源", 10),
    ("responsible_unit", "责任单位", 22),
    ("responsible_leader", "责任领导", 10),
    ("responsible_person", "责任人", 10),
    ("solution", "解决措施", 36),
    ("time_limit_days", "办理时限（工作日）", 10),
    ("deadline", "办结期限", 12),
    ("step", "当前环节", 14),
    ("days_left", "剩余/超期（工作日）", 12),
    ("supervision", "督办状态", 10),
    ("redo_count", "重办次数", 8),
    ("visit", "回访结果", 10),
)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FIELDS = (
    Issue.id,
    Issue.project_code,
    Issue.project_name,
    Issue.kind,
    Issue.description,
    Issue.source,
    Issue.responsible_unit_id,
    Issue.responsible_leader,
    Issue.responsible_person,
    Issue.solution,
    Issue.time_limit_days,
    Issue.deadline,
    Issue.step,
    Issue.close_supervision,
    Issue.redo_count,
    Issue.satisfied,
)


async def ledger_rows(session: AsyncSession, clauses: Sequence[Any]) -> Sequence[Any]:
    stmt = select(*_FIELDS).where(*clauses).order_by(Issue.project_code, Issue.created_at, Issue.id)
    return (await session.execute(stmt)).all()


def _days_left(cal: WorkingCalendar, on: date, r: Any) -> int | None:
    if r.deadline is None or r.step == "closed":
        return None
    return cal.working_days_between(on, r.deadline)


def _supervision(r: Any, left: int | None) -> str:
    if r.step == "closed":
        return "已销号"
    if r.step == "assigned" and left is not None and left < 0:
        return "紧盯督办"
    if r.step == "assigned":
        return "督办中"
    return ""


def _visit(r: Any) -> str:
    return {True: "满意", False: "不满意"}.get(r.satisfied, "")


def json_rows(
    rows: Iterable[Any], cal: WorkingCalendar, on: date, units: dict[str, str]
) -> list[dict[str, Any]]:
    out = []
    for no, r in enumerate(rows, 1):
        left = _days_left(cal, on, r)
        out.append(
            {
                "no": no,
                "issue_id": r.id,
                "project_code": r.project_code,
                "project_name": r.project_name,
                "kind": r.kind,
                "description": r.description,
                "source": r.source,
                "responsible_unit_id": r.responsible_unit_id,
                "responsible_unit": units.get(r.responsible_unit_id or "", r.responsible_unit_id),
                "responsible_leader": r.responsible_leader,
                "responsible_person": r.responsible_person,
                "solution": r.solution,
                "time_limit_days": r.time_limit_days,
                "deadline": r.deadline,
                "step": r.step,
                "step_name": flow.STEPS[r.step][1],
                "working_days_left": left,
                "overdue": r.step == "assigned" and left is not None and left < 0,
                "supervision": _supervision(r, left),
                "redo_count": r.redo_count,
                "satisfied": r.satisfied,
            }
        )
    return out


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, int):
        return f'<c t="n"><v>{value}</v></c>'
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class _Cells(dict):
    """value → cell XML, memoised: units, kinds, steps, names repeat down the ledger."""

    def __missing__(self, value: Any) -> str:
        xml = _cell(value)
        if len(self) < 200_000:
            self[value] = xml
        return xml


def xlsx_bytes(rows: Sequence[Any], cal: WorkingCalendar, on: date, units: dict[str, str]) -> bytes:
    """openpyxl (write-only) writes the workbook, its styles, column widths, title and
    header; the data rows are then streamed into the sheet as inline-string XML, which is
    ~10x faster than openpyxl's per-cell path without lxml (100 k rows in well under 5 s)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工作台账")
    for i, (_, _, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.append([f"重点项目问题工作台账（截至 {on.isoformat()}）"])
    ws.append([title for _, title, _ in COLUMNS])
    skeleton = io.BytesIO()
    wb.save(skeleton)
    steps = {k: v[1] for k, v in flow.STEPS.items()}
    parts: list[str] = []
    cells = _Cells()
    for no, r in enumerate(rows, 1):
        left = _days_left(cal, on, r)
        values = (
            no,
            r.project_code,
            r.project_name,
            KIND_ZH.get(r.kind, r.kind),
            r.description,
            SOURCE_ZH.get(r.source, r.source),
            units.get(r.responsible_unit_id or "", r.responsible_unit_id),
            r.responsible_leader,
            r.responsible_person,
            r.solution,
            r.time_limit_days,
            r.deadline.isoformat() if r.deadline else None,
            steps[r.step],
            left,
            _supervision(r, left),
            r.redo_count,
            _visit(r),
        )
        parts.append("<row>" + "".join([cells[v] for v in values]) + "</row>")
    last = f"{chr(ord('A') + len(COLUMNS) - 1)}{len(rows) + 2}"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(skeleton) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml)
                cut = xml.rindex("</sheetData>")
                body = _ILLEGAL.sub("", "".join(parts))  # control characters are not XML
                data = (xml[:cut] + body + xml[cut:]).encode("utf-8")
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()
