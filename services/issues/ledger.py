"""The work ledger (工作台账): five-in-place columns, step, days left or overdue, redo count.

JSON for screens, xlsx for the office's weekly paperwork. The xlsx is written with
openpyxl's write-only (streaming) workbook: rows go out as plain tuples, no cell objects.
"""

from __future__ import annotations

import io
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
    ("no", "序号", 6), ("project_code", "项目代码", 26), ("project_name", "项目名称", 30),
    ("kind", "问题类型", 12), ("description", "问题描述", 40), ("source", "来源", 10),
    ("responsible_unit", "责任单位", 22), ("responsible_leader", "责任领导", 10),
    ("responsible_person", "责任人", 10), ("solution", "解决措施", 36),
    ("time_limit_days", "办理时限（工作日）", 10), ("deadline", "办结期限", 12),
    ("step", "当前环节", 14), ("days_left", "剩余/超期（工作日）", 12),
    ("supervision", "督办状态", 10), ("redo_count", "重办次数", 8), ("visit", "回访结果", 10),
)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FIELDS = (Issue.id, Issue.project_code, Issue.project_name, Issue.kind, Issue.description,
           Issue.source, Issue.responsible_unit_id, Issue.responsible_leader,
           Issue.responsible_person, Issue.solution, Issue.time_limit_days, Issue.deadline,
           Issue.step, Issue.close_supervision, Issue.redo_count, Issue.satisfied)


async def ledger_rows(session: AsyncSession, clauses: Sequence[Any]) -> Sequence[Any]:
    stmt = select(*_FIELDS).where(*clauses).order_by(Issue.project_code, Issue.created_at,
                                                      Issue.id)
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


def json_rows(rows: Iterable[Any], cal: WorkingCalendar, on: date,
              units: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for no, r in enumerate(rows, 1):
        left = _days_left(cal, on, r)
        out.append({
            "no": no, "issue_id": r.id, "project_code": r.project_code,
            "project_name": r.project_name, "kind": r.kind, "description": r.description,
            "source": r.source, "responsible_unit_id": r.responsible_unit_id,
            "responsible_unit": units.get(r.responsible_unit_id or "", r.responsible_unit_id),
            "responsible_leader": r.responsible_leader,
            "responsible_person": r.responsible_person, "solution": r.solution,
            "time_limit_days": r.time_limit_days, "deadline": r.deadline, "step": r.step,
            "step_name": flow.STEPS[r.step][1], "working_days_left": left,
            "overdue": r.step == "assigned" and left is not None and left < 0,
            "supervision": _supervision(r, left), "redo_count": r.redo_count,
            "satisfied": r.satisfied,
        })
    return out


def xlsx_bytes(rows: Iterable[Any], cal: WorkingCalendar, on: date,
               units: dict[str, str]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工作台账")
    for i, (_, _, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.append([f"重点项目问题工作台账（截至 {on.isoformat()}）"])
    ws.append([title for _, title, _ in COLUMNS])
    steps = {k: v[1] for k, v in flow.STEPS.items()}
    append = ws.append
    for no, r in enumerate(rows, 1):
        left = _days_left(cal, on, r)
        append((
            no, r.project_code, r.project_name, KIND_ZH.get(r.kind, r.kind), r.description,
            SOURCE_ZH.get(r.source, r.source),
            units.get(r.responsible_unit_id or "", r.responsible_unit_id),
            r.responsible_leader, r.responsible_person, r.solution, r.time_limit_days,
            r.deadline.isoformat() if r.deadline else None, steps[r.step], left,
            _supervision(r, left), r.redo_count, _visit(r),
        ))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
