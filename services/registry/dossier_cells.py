"""Cell formats, Chinese labels and small writers shared by the dossier workbook's sheets
(policy R7 一项一档)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared import clock

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
CASE_STATES_ZH = {
    "new": "新建",
    "submitted": "已申报",
    "awaiting_supplement": "待补正",
    "running": "办理中",
    "paused": "暂停计时",
    "warning": "预警",
    "overdue": "超期",
    "done": "办结",
    "rejected": "不予许可",
    "pending": "未开始",
}
ISSUE_KINDS_ZH = {
    "eia": "环评",
    "land": "用地",
    "forest_land": "林地",
    "water": "水土保持/取水",
    "energy_saving": "节能审查",
    "safety_review": "安全评价",
    "funds": "资金",
    "utilities": "水电气等要素保障",
    "other": "其他",
}
ACTIONS_ZH = {
    "create": "创建",
    "update": "修改",
    "stage_change": "阶段变更",
    "progress_report": "月报填报",
    "progress_correct": "月报更正",
    "photo_add": "上传照片",
    "document_add": "上传文件",
    "report_missing": "逾期未报",
    "revocation_cleared": "解除收回预警",
    "revoke": "收回审批与用地指标",
    "declare": "申报",
}


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
    "text": (text, None),
    "money": (money, MONEY_FORMAT),
    "date": (as_date, DATE_FORMAT),
    "time": (as_time, TIME_FORMAT),
    "pct": (money, PCT_FORMAT),
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


def table(ws: Worksheet, start: int, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> int:
    """A bold header row and the rows below it; returns the next free row."""
    for c, (header, _, _) in enumerate(columns, 1):
        ws.cell(row=start, column=c, value=header).font = BOLD
    for r, values in enumerate(rows, start + 1):
        for c, ((_, kind, _), value) in enumerate(zip(columns, values, strict=True), 1):
            put(ws, r, c, value, kind)
    return start + len(rows) + 1


def sheet(wb: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Worksheet:
    ws = wb.create_sheet(title)
    table(ws, 1, columns, rows)
    ws.freeze_panes = "A2"
    for c, (_, _, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    return ws


def zh(table_: dict[str, str], v: Any) -> str | None:
    return None if v is None else table_.get(v, str(v))


# -- sheets -----------------------------------------------------------------------------------
