"""One project, one file (policy R7 一项一档) as one workbook: the JSON dossier's data
(gathered once by ``dossier.dossier``) written sheet by sheet, with a 说明 sheet naming every
part that could not be fetched. Money is written as the Decimal with a 万元 format, dates as
dates, times in the business time zone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dossier import PARTS_ZH, dossier
from services.registry.dossier_cells import (
    ACTIONS_ZH,
    CASE_STATES_ZH,
    ISSUE_KINDS_ZH,
    put,
    sheet,
    zh,
)
from services.registry.dossier_sheets import (
    documents_sheet,
    overview,
    photos_sheet,
    progress_sheet,
)
from services.registry.excel import _book_bytes
from shared import clock
from shared.clients.units import unit_directory
from shared.errors import ServiceUnavailable
from shared.identity import Principal


def approvals_sheet(wb: Workbook, part: dict[str, Any], units: dict[str, str]) -> None:
    rows = []
    for case in part["items"]:
        chain = case.get("chain") or {}
        head = (
            case.get("id"),
            case.get("kind_name") or case.get("kind"),
            zh(CASE_STATES_ZH, case.get("state")),
            case.get("received_on"),
            case.get("accepted_on"),
            case.get("due_date"),
            case.get("total_limit_days"),
            chain.get("used_days"),
            chain.get("left_days"),
        )
        steps = case.get("steps")
        if not steps:
            lost = steps is None and "steps" in case
            rows.append(head + ("（环节计时缺失，见说明）" if lost else None,) + (None,) * 8)
        for s in steps or []:
            agency = s.get("agency_unit_id")
            rows.append(
                head
                + (
                    s.get("step_name") or s.get("step_code"),
                    units.get(agency, agency),
                    s.get("limit_days"),
                    s.get("used_days"),
                    s.get("left_days"),
                    s.get("due_date"),
                    s.get("completed_on"),
                    zh(CASE_STATES_ZH, s.get("state")),
                    None if s.get("on_time") is None else ("按期" if s["on_time"] else "超期"),
                )
            )
    sheet(
        wb,
        "审批",
        [
            ("案件编号", "text", 38),
            ("审批类型", "text", 22),
            ("状态", "text", 10),
            ("收件日期", "date", 12),
            ("受理日期", "date", 12),
            ("全链条到期日", "date", 13),
            ("全链条时限（工作日）", "int", 12),
            ("全链条已用", "int", 10),
            ("全链条剩余", "int", 10),
            ("环节", "text", 18),
            ("办理部门", "text", 18),
            ("环节时限（工作日）", "int", 12),
            ("已用工作日", "int", 10),
            ("剩余工作日", "int", 10),
            ("环节到期日", "date", 12),
            ("办结日期", "date", 12),
            ("环节状态", "text", 10),
            ("按期", "text", 14),
        ],
        rows,
    )


def issues_sheet(wb: Workbook, part: dict[str, Any], units: dict[str, str]) -> None:
    def unit(uid: Any) -> Any:
        return units.get(uid, uid)

    sheet(
        wb,
        "问题",
        [
            ("问题编号", "text", 38),
            ("问题类型", "text", 14),
            ("问题描述", "text", 40),
            ("环节", "text", 16),
            ("责任单位", "text", 18),
            ("协办单位", "text", 22),
            ("交办日期", "date", 12),
            ("办理期限", "date", 12),
            ("剩余工作日", "int", 10),
            ("是否超期", "yes", 9),
            ("重办次数", "int", 9),
            ("反映人", "text", 14),
            ("销号日期", "date", 12),
            ("反映时间", "time", 20),
        ],
        [
            (
                i.get("id"),
                zh(ISSUE_KINDS_ZH, i.get("kind")),
                i.get("description"),
                i.get("step_name") or i.get("step"),
                unit(i.get("lead_unit_id")),
                "、".join(str(unit(u)) for u in i.get("assisting_unit_ids") or []),
                i.get("assigned_on"),
                i.get("deadline"),
                i.get("working_days_left"),
                i.get("overdue"),
                i.get("redo_count"),
                i.get("reporter_name") or i.get("reporter"),
                i.get("closed_on"),
                i.get("created_at"),
            )
            for i in part["items"]
        ],
    )


def changed_fields(before: Any, after: Any) -> str | None:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    keys = sorted(
        k
        for k in set(before) | set(after)
        if before.get(k) != after.get(k) and k not in ("version", "updated_at")
    )
    return "、".join(keys) or None


def history_sheet(wb: Workbook, history: list[dict[str, Any]]) -> None:
    sheet(
        wb,
        "变更记录",
        [
            ("时间", "time", 20),
            ("操作人", "text", 16),
            ("角色", "text", 12),
            ("操作", "text", 16),
            ("原因", "text", 36),
            ("变更字段", "text", 40),
        ],
        [
            (
                h["at"],
                h["actor"],
                h.get("actor_role"),
                zh(ACTIONS_ZH, h["action"]),
                h.get("reason"),
                changed_fields(h.get("before"), h.get("after")),
            )
            for h in history
        ],
    )


def notes_sheet(wb: Workbook, d: dict[str, Any], generated: datetime) -> None:
    rows: list[tuple[Any, Any]] = [
        ("导出时间", generated),
        ("项目", f"{d['project']['project_code']} {d['project']['name']}"),
    ]
    for part in d["missing_parts"]:
        if part == "approval_steps":
            a = d["approvals"]
            rows.append(("缺失部分：审批环节计时", f"{a['steps_detail']}（{a['steps_missing']} 件案件）"))
        else:
            rows.append((f"缺失部分：{PARTS_ZH.get(part, part)}", d[part]["detail"]))
    if not d["missing_parts"]:
        rows.append(("完整性", "各部分均已取得"))
    for part in ("approvals", "issues"):
        value = d[part]
        if value["available"] and (value.get("total") or 0) > len(value["items"]):
            rows.append(
                (f"{PARTS_ZH[part]}部分", f"共 {value['total']} 条，仅导出前 {len(value['items'])} 条")
            )
    if d["missing_months"]:
        rows.append(("逾期未报月份（R6）", "、".join(d["missing_months"])))
    ws = sheet(wb, "说明", [("事项", "text", 26), ("说明", "text", 70)], [])
    for r, (label, value) in enumerate(rows, 2):
        ws.cell(row=r, column=1, value=label)
        put(ws, r, 2, value, "time" if isinstance(value, datetime) else "text")


def build(d: dict[str, Any], units: dict[str, str], generated: datetime) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    overview(wb, d["project"], d["stage_history"], units)
    progress_sheet(wb, d["progress"])
    photos_sheet(wb, d["photos"])
    documents_sheet(wb, d.get("documents", []))
    approvals_sheet(wb, d["approvals"], units)
    issues_sheet(wb, d["issues"], units)
    history_sheet(wb, d["history"])
    notes_sheet(wb, d, generated)
    return _book_bytes(wb)


async def unit_names() -> dict[str, str]:
    """Unit id → name for display; ids stand in when the directory cannot be read."""
    try:
        return {uid: u.get("name", uid) for uid, u in (await unit_directory()).items()}
    except ServiceUnavailable:
        return {}


async def dossier_workbook(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> tuple[str, bytes]:
    """(project code, xlsx bytes) from the very data the JSON dossier returns."""
    d = await dossier(session, principal=principal, project_id=project_id)
    content = build(d, await unit_names(), clock.now())
    return d["project"]["project_code"], content
