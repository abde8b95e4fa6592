"""One project, one file (policy R7 一项一档) as one workbook: the JSON dossier's data
(gathered once by ``dossier.dossier``) written sheet by sheet, with a 说明 sheet naming every
part that could not be fetched. Money is written as the Decimal with a 万元 format, dates as
dates, times in the business time zone."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.codes import (
    CATEGORIES_ZH,
    KINDS_ZH,
    LEVELS_ZH,
    LIBRARIES_ZH,
    SCALE_BANDS_ZH,
    STAGES,
    STAGES_ZH,
)
from services.registry.documents import DOC_TYPES_ZH
from services.registry.dossier import PARTS_ZH, dossier
from services.registry.excel import _book_bytes
from shared import clock
from shared.errors import ServiceUnavailable
from shared.identity import Principal
from shared.units import unit_directory

MONEY_FORMAT = '#,##0.00##"万元"'
PCT_FORMAT = '0.00"%"'
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")

CODE_FORMS_ZH = {"gbt40058": "GB/T 40058-2021", "legacy": "旧版"}
STATUS_ZH = {"met": "已达成", "missed": "逾期未达成", "pending": "未到期"}
REVOCATION_ZH = {"warned": "预警", "due": "到期待收回", "revoked": "已收回"}
TARGET_KINDS_ZH = {"start": "开工", "progress": "形象进度", "complete": "竣工", "custom": "其他"}
CASE_STATES_ZH = {"new": "新建", "submitted": "已申报", "awaiting_supplement": "待补正",
                  "running": "办理中", "paused": "暂停计时", "warning": "预警", "overdue": "超期",
                  "done": "办结", "rejected": "不予许可", "pending": "未开始"}
ISSUE_KINDS_ZH = {"eia": "环评", "land": "用地", "forest_land": "林地", "water": "水土保持/取水",
                  "energy_saving": "节能审查", "safety_review": "安全评价", "funds": "资金",
                  "utilities": "水电气等要素保障", "other": "其他"}
ACTIONS_ZH = {"create": "创建", "update": "修改", "stage_change": "阶段变更",
              "progress_report": "月报填报", "progress_correct": "月报更正", "photo_add": "上传照片",
              "document_add": "上传文件",
              "report_missing": "逾期未报", "revocation_cleared": "解除收回预警",
              "revoke": "收回审批与用地指标", "declare": "申报"}


# -- cell values ------------------------------------------------------------------------------
def money(v: Any) -> Decimal | None:
    """The decimal string (or Decimal) as a Decimal: never through a float."""
    if v is None or v == "":
        return None
    return v if isinstance(v, Decimal) else Decimal(str(v))


def as_date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return as_time(v).date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def as_time(v: Any) -> datetime | None:
    """An instant as a naive datetime in the business time zone (Excel has no time zones)."""
    if v is None or v == "":
        return None
    t = v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(clock.business_tz()).replace(tzinfo=None, microsecond=0)


def text(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))[:32000]


KINDS: dict[str, tuple[Callable[[Any], Any], str | None]] = {
    "text": (text, None), "money": (money, MONEY_FORMAT), "date": (as_date, DATE_FORMAT),
    "time": (as_time, TIME_FORMAT), "pct": (money, PCT_FORMAT),
    "int": (lambda v: None if v is None or v == "" else int(v), "0"),
    "yes": (lambda v: None if v is None else ("是" if v else "否"), None),
}


def put(ws: Worksheet, row: int, col: int, value: Any, kind: str = "text") -> None:
    convert, fmt = KINDS[kind]
    cell = ws.cell(row=row, column=col, value=convert(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text such as "=..." stays text, never a formula
        if len(cell.value) > 40:
            cell.alignment = WRAP
    elif fmt and cell.value is not None:
        cell.number_format = fmt


Column = tuple[str, str, int]  # header, kind, width


def table(ws: Worksheet, start: int, columns: Sequence[Column],
          rows: Sequence[Sequence[Any]]) -> int:
    """A bold header row and the rows below it; returns the next free row."""
    for c, (header, _, _) in enumerate(columns, 1):
        ws.cell(row=start, column=c, value=header).font = BOLD
    for r, values in enumerate(rows, start + 1):
        for c, ((_, kind, _), value) in enumerate(zip(columns, values, strict=True), 1):
            put(ws, r, c, value, kind)
    return start + len(rows) + 1


def sheet(wb: Workbook, title: str, columns: Sequence[Column],
          rows: Sequence[Sequence[Any]]) -> Worksheet:
    ws = wb.create_sheet(title)
    table(ws, 1, columns, rows)
    ws.freeze_panes = "A2"
    for c, (_, _, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    return ws


def zh(table_: dict[str, str], v: Any) -> str | None:
    return None if v is None else table_.get(v, str(v))


# -- sheets -----------------------------------------------------------------------------------
def overview(wb: Workbook, p: dict[str, Any], stages: list[dict[str, Any]],
             units: dict[str, str]) -> None:
    latest = p.get("latest_progress") or {}
    rev = p.get("revocation") or {}
    fields: list[tuple[str, Any, str]] = [
        ("项目代码", p["project_code"], "text"), ("代码形式", zh(CODE_FORMS_ZH, p["code_form"]), "text"),
        ("项目名称", p["name"], "text"), ("责任单位", units.get(p["unit_id"], p["unit_id"]), "text"),
        ("项目承载单位", p.get("carrying_unit_name"), "text"),
        ("统一社会信用代码", p.get("carrying_unit_credit_code"), "text"),
        ("类别", zh(CATEGORIES_ZH, p["category"]), "text"),
        ("总投资", p["total_investment"], "money"),
        ("规模档", zh(SCALE_BANDS_ZH, p["scale_band"]), "text"),
        ("政府投资项目", p["government_investment"], "yes"),
        ("重大产业项目", p["major_industrial"], "yes"),
        ("当前阶段", zh(STAGES_ZH, p["stage"]), "text"),
        ("具备开工条件日期", p.get("start_conditions_met_on"), "date"),
        ("计划开工", p.get("planned_start"), "date"), ("计划竣工", p.get("planned_finish"), "date"),
        ("实际开工", p.get("actual_start"), "date"),
        ("投运日期", p.get("operation_started_on"), "date"),
        ("达产达效日期", p.get("capacity_reached_on"), "date"),
        ("包联领导", p.get("contact_leader"), "text"), ("工作专班", p.get("team"), "text"),
        ("推进方案", p.get("work_plan"), "text"), ("一抓到底责任人", p.get("follow_owner"), "text"),
        ("标签", "；".join(p.get("tags") or []), "text"),
        ("最近月报月份", latest.get("month"), "text"),
        ("最近形象进度", latest.get("progress_pct"), "pct"),
        ("最近累计完成投资", latest.get("cumulative_investment"), "money"),
        ("收回状态（R13）", zh(REVOCATION_ZH, rev.get("state")), "text"),
        ("收回期限", rev.get("due_on"), "date"), ("收回日期", rev.get("revoked_on"), "date"),
        ("版本", p["version"], "int"), ("入库时间", p["created_at"], "time"),
        ("更新时间", p["updated_at"], "time")]
    ws = sheet(wb, "项目概况", [("字段", "text", 22), ("值", "text", 44)], [])
    for letter in "CDEF":  # the sections' further columns
        ws.column_dimensions[letter].width = 14
    for r, (label, value, kind) in enumerate(fields, 2):
        ws.cell(row=r, column=1, value=label)
        put(ws, r, 2, value, kind)
    row = len(fields) + 3
    ws.cell(row=row, column=1, value="所属子库").font = BOLD
    row = table(ws, row + 1, [("子库", "text", 0), ("建设类型", "text", 0), ("级别", "text", 0),
                              ("入库日期", "date", 0), ("出库日期", "date", 0)],
                [(zh(LIBRARIES_ZH, m["library"]), zh(KINDS_ZH, m.get("kind")),
                  zh(LEVELS_ZH, m.get("level")), m["since"], m.get("until"))
                 for m in p.get("libraries") or []]) + 1
    ws.cell(row=row, column=1, value="项目生命周期（R8）").font = BOLD
    dates = p.get("stage_dates") or {}
    row = table(ws, row + 1, [("阶段", "text", 0), ("到达日期", "date", 0)],
                [(STAGES_ZH[s], dates[s]) for s in STAGES if s in dates]) + 1
    row = table(ws, row, [("原阶段", "text", 0), ("新阶段", "text", 0), ("日期", "date", 0),
                          ("操作人", "text", 0), ("原因", "text", 0), ("记录时间", "time", 0)],
                [(zh(STAGES_ZH, s.get("from_stage")), zh(STAGES_ZH, s.get("to_stage")),
                  s.get("on"), s.get("actor"), s.get("reason"), s.get("at")) for s in stages]) + 1
    ws.cell(row=row, column=1, value="节点目标（R11）").font = BOLD
    row = table(ws, row + 1, [("目标", "text", 0), ("类型", "text", 0), ("期限", "date", 0),
                              ("形象进度目标", "pct", 0), ("达成日期", "date", 0),
                              ("状态", "text", 0)],
                [(t["name"], zh(TARGET_KINDS_ZH, t["kind"]), t["due_on"], t.get("threshold_pct"),
                  t.get("met_on"), zh(STATUS_ZH, t["status"])) for t in p.get("targets") or []]) + 1
    ws.cell(row=row, column=1, value="一二三节点（R10）").font = BOLD
    table(ws, row + 1, [("节点", "text", 0), ("期限", "date", 0), ("达到日期", "date", 0),
                        ("状态", "text", 0)],
          [(m["label"], m["due_on"], m.get("reached_on"), zh(STATUS_ZH, m["status"]))
           for m in p.get("milestones") or []])


def progress_sheet(wb: Workbook, reports: list[dict[str, Any]]) -> None:
    rows = sorted(reports, key=lambda r: (r["month"], r["version"]))
    sheet(wb, "月度进度", [
        ("月份", "text", 10), ("本月完成投资", "money", 18), ("累计完成投资", "money", 18),
        ("形象进度", "pct", 11), ("节点", "text", 24), ("存在问题", "text", 36),
        ("填报人", "text", 14), ("版本", "int", 7), ("现行版本", "yes", 9), ("按期报送", "yes", 9),
        ("更正原因", "text", 24), ("报送时间", "time", 20)],
        [(r["month"], r["investment_month"], r["cumulative_investment"], r["progress_pct"],
          r.get("milestone"), r.get("problems"), r.get("reporter_name") or r["reporter"],
          r["version"], r["current"], r["on_time"], r.get("correction_reason"),
          r["reported_at"]) for r in rows])


def photos_sheet(wb: Workbook, photos: list[dict[str, Any]]) -> None:
    sheet(wb, "照片", [
        ("文件名", "text", 28), ("月份", "text", 10), ("类型", "text", 12),
        ("大小（字节）", "int", 13), ("SHA-256", "text", 66), ("上传人", "text", 14),
        ("上传时间", "time", 20), ("下载路径", "text", 52)],
        [(ph.get("filename"), ph["month"], ph["content_type"], ph["size"], ph["sha256"],
          ph["uploaded_by"], ph["uploaded_at"], f"/api/v1/files/{ph['id']}") for ph in photos])


def documents_sheet(wb: Workbook, docs: list[dict[str, Any]]) -> None:
    """policy R7: approval replies, certificates, contracts in the file."""
    sheet(wb, "文件", [
        ("类型", "text", 10), ("文件名称", "text", 30), ("出具单位", "text", 24),
        ("出具日期", "date", 12), ("文号/证号", "text", 22), ("文件类型", "text", 16),
        ("大小（字节）", "int", 13), ("SHA-256", "text", 66), ("上传人", "text", 14),
        ("上传时间", "time", 20), ("下载路径", "text", 52)],
        [(zh(DOC_TYPES_ZH, d["doc_type"]), d["title"], d.get("issuer"), d.get("issued_on"),
          d.get("doc_number"), d["content_type"], d["size"], d["sha256"], d["uploaded_by"],
          d["uploaded_at"], f"/api/v1/files/{d['id']}") for d in docs])


def approvals_sheet(wb: Workbook, part: dict[str, Any], units: dict[str, str]) -> None:
    rows = []
    for case in part["items"]:
        chain = case.get("chain") or {}
        head = (case.get("id"), case.get("kind_name") or case.get("kind"),
                zh(CASE_STATES_ZH, case.get("state")), case.get("received_on"),
                case.get("accepted_on"), case.get("due_date"), case.get("total_limit_days"),
                chain.get("used_days"), chain.get("left_days"))
        steps = case.get("steps")
        if not steps:
            lost = steps is None and "steps" in case
            rows.append(head + ("（环节计时缺失，见说明）" if lost else None,) + (None,) * 8)
        for s in steps or []:
            agency = s.get("agency_unit_id")
            rows.append(head + (
                s.get("step_name") or s.get("step_code"), units.get(agency, agency),
                s.get("limit_days"), s.get("used_days"), s.get("left_days"), s.get("due_date"),
                s.get("completed_on"), zh(CASE_STATES_ZH, s.get("state")),
                None if s.get("on_time") is None else ("按期" if s["on_time"] else "超期")))
    sheet(wb, "审批", [
        ("案件编号", "text", 38), ("审批类型", "text", 22), ("状态", "text", 10),
        ("收件日期", "date", 12), ("受理日期", "date", 12), ("全链条到期日", "date", 13),
        ("全链条时限（工作日）", "int", 12), ("全链条已用", "int", 10), ("全链条剩余", "int", 10),
        ("环节", "text", 18), ("办理部门", "text", 18), ("环节时限（工作日）", "int", 12),
        ("已用工作日", "int", 10), ("剩余工作日", "int", 10), ("环节到期日", "date", 12),
        ("办结日期", "date", 12), ("环节状态", "text", 10), ("按期", "text", 14)], rows)


def issues_sheet(wb: Workbook, part: dict[str, Any], units: dict[str, str]) -> None:
    def unit(uid: Any) -> Any:
        return units.get(uid, uid)

    sheet(wb, "问题", [
        ("问题编号", "text", 38), ("问题类型", "text", 14), ("问题描述", "text", 40),
        ("环节", "text", 16), ("责任单位", "text", 18), ("协办单位", "text", 22),
        ("交办日期", "date", 12), ("办理期限", "date", 12), ("剩余工作日", "int", 10),
        ("是否超期", "yes", 9), ("重办次数", "int", 9), ("反映人", "text", 14),
        ("销号日期", "date", 12), ("反映时间", "time", 20)],
        [(i.get("id"), zh(ISSUE_KINDS_ZH, i.get("kind")), i.get("description"),
          i.get("step_name") or i.get("step"), unit(i.get("lead_unit_id")),
          "、".join(str(unit(u)) for u in i.get("assisting_unit_ids") or []),
          i.get("assigned_on"), i.get("deadline"), i.get("working_days_left"), i.get("overdue"),
          i.get("redo_count"), i.get("reporter_name") or i.get("reporter"), i.get("closed_on"),
          i.get("created_at")) for i in part["items"]])


def changed_fields(before: Any, after: Any) -> str | None:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    keys = sorted(k for k in set(before) | set(after)
                  if before.get(k) != after.get(k) and k not in ("version", "updated_at"))
    return "、".join(keys) or None


def history_sheet(wb: Workbook, history: list[dict[str, Any]]) -> None:
    sheet(wb, "变更记录", [
        ("时间", "time", 20), ("操作人", "text", 16), ("角色", "text", 12), ("操作", "text", 16),
        ("原因", "text", 36), ("变更字段", "text", 40)],
        [(h["at"], h["actor"], h.get("actor_role"), zh(ACTIONS_ZH, h["action"]), h.get("reason"),
          changed_fields(h.get("before"), h.get("after"))) for h in history])


def notes_sheet(wb: Workbook, d: dict[str, Any], generated: datetime) -> None:
    rows: list[tuple[Any, Any]] = [("导出时间", generated), ("项目", f"{d['project']['project_code']} "
                                                             f"{d['project']['name']}")]
    for part in d["missing_parts"]:
        if part == "approval_steps":
            a = d["approvals"]
            rows.append(("缺失部分：审批环节计时",
                         f"{a['steps_detail']}（{a['steps_missing']} 件案件）"))
        else:
            rows.append((f"缺失部分：{PARTS_ZH.get(part, part)}", d[part]["detail"]))
    if not d["missing_parts"]:
        rows.append(("完整性", "各部分均已取得"))
    for part in ("approvals", "issues"):
        value = d[part]
        if value["available"] and (value.get("total") or 0) > len(value["items"]):
            rows.append((f"{PARTS_ZH[part]}部分", f"共 {value['total']} 条，仅导出前 "
                                                 f"{len(value['items'])} 条"))
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


async def dossier_workbook(session: AsyncSession, *, principal: Principal,
                           project_id: uuid.UUID) -> tuple[str, bytes]:
    """(project code, xlsx bytes) from the very data the JSON dossier returns."""
    d = await dossier(session, principal=principal, project_id=project_id)
    content = build(d, await unit_names(), clock.now())
    return d["project"]["project_code"], content
