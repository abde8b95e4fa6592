"""xlsx template, import (per-row report, all-or-nothing unless partial) and ledger export."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import xlsx_read
from services.registry.access import require_importer
from services.registry.codes import (
    CATEGORIES_ZH,
    KINDS_ZH,
    LEVELS_ZH,
    STAGES_ZH,
    code_form,
)
from services.registry.config import registry_settings
from services.registry.excel_columns import (
    COLUMNS,
    DATE_KEYS,
    HEADER_OF,
    HEADERS,
    cell_value,
    project_row,
    row_to_input,
)
from services.registry.import_write import ChunkedWrite
from services.registry.libraries import four_ones_missing
from services.registry.listing import ProjectFilter, filter_clause
from services.registry.models import Project
from services.registry.schemas import ProjectIn
from shared.clients.units import unit_directory
from shared.clock import today
from shared.errors import InvalidInput
from shared.identity import Principal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 200_000
IMPORT_CHUNK = 1000  # rows checked while the database copies the previous ones


def _book_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "项目台账"
    ws.append(HEADERS)
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "说明"])
    for header, text in [
        ("项目代码", "GB/T 40058-2021 24 位代码，或旧版 YYYY-AAAAAA-BB-CC-NNNNNN"),
        ("责任单位", "单位名称或单位编码（如 城关镇 / town-chengguan）"),
        ("统一社会信用代码", "18 位，按 GB 32100-2015 校验"),
        ("类别", "、".join(CATEGORIES_ZH.values())),
        ("总投资（万元）", "十进制数，最多 4 位小数，不得为负，不用科学计数法"),
        ("年度建设类型", "、".join(KINDS_ZH.values()) + "（列入年度库时必填）"),
        ("重点项目级别", "、".join(LEVELS_ZH.values()) + "（重点项目须同时列入年度库）"),
        ("项目阶段", "、".join(STAGES_ZH.values())),
        ("日期", "YYYY-MM-DD"),
        ("政府投资 / 重大产业项目", "是 或 否"),
        ("标签", "多个标签用分号 ; 分隔"),
    ]:
        notes.append([header, text])
    return _book_bytes(wb)


async def export(session: AsyncSession, *, principal: Principal, f: ProjectFilter) -> bytes:
    units = await unit_directory()
    names = {uid: u.get("name", uid) for uid, u in units.items()}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目台账")
    ws.append(HEADERS)
    rows = await session.scalars(
        select(Project).where(filter_clause(principal, f)).order_by(Project.project_code).limit(EXPORT_LIMIT)
    )
    for p in rows:
        ws.append(project_row(p, names))
    return _book_bytes(wb)


def read_rows(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The first sheet's rows below the header as (row number, {column key: cell value})."""
    date_columns: set[int] = set()
    it = xlsx_read.iter_rows(content, date_columns)
    try:
        first = next(it, None)
        cells = first[1] if first is not None and first[0] == 1 else {}
        header = [""] * (max(cells, default=-1) + 1)
        for i, h in cells.items():
            header[i] = str(h).strip()
        missing = [h for h in HEADERS if h not in header]
        if missing:
            raise InvalidInput(
                "表头缺少列：" + "、".join(missing) + "（请使用下载的模板）",
                code="import.bad_header",
                missing_columns=missing,
            )
        index = [(key, header.index(h)) for h, key in COLUMNS]
        date_columns.update(i for key, i in index if key in DATE_KEYS)
        out: list[tuple[int, dict[str, Any]]] = []
        limit = registry_settings().import_max_rows
        for n, row in it:
            if all(v is None or v == "" for v in row.values()):
                continue
            if len(out) >= limit:
                raise InvalidInput(f"一次最多导入 {limit} 行", code="import.too_many_rows")
            out.append((n, {key: row.get(i) for key, i in index}))
    except xlsx_read.NotXlsx as exc:
        raise InvalidInput(
            "无法读取该文件：请上传 .xlsx 格式的项目台账",
            code="import.bad_file",
            fields=[{"field": "file", "message": "不是有效的 xlsx 文件"}],
        ) from exc
    return out


def _field_header(loc: tuple) -> str:
    key = str(loc[0]) if loc else ""
    if key == "libraries":
        return "所属子库（储备/年度/重点列）"
    return HEADER_OF.get(key, key)


def _check_row(
    n: int, raw: dict[str, Any], ctx: dict[str, Any]
) -> tuple[ProjectIn | None, list[dict[str, Any]]]:
    """One ledger row → its project, or the problems found (row, column, problem)."""
    values, row_errors = {}, []
    for key, value in raw.items():
        try:
            values[key] = cell_value(key, value, ctx["by_name"])
        except ValueError as exc:
            row_errors.append({"row": n, "column": HEADER_OF[key], "problem": str(exc)})
    if row_errors:
        return None, row_errors
    try:
        data = ProjectIn.model_validate(row_to_input(values))
    except ValidationError as exc:
        for e in exc.errors():
            msg = str((e.get("ctx") or {}).get("error") or e.get("msg"))
            row_errors.append(
                {"row": n, "column": _field_header(e["loc"]), "problem": msg.removeprefix("Value error, ")}
            )
        return None, row_errors
    on, seen = ctx["on"], ctx["seen"]
    if data.unit_id not in ctx["units"]:
        row_errors.append({"row": n, "column": "责任单位", "problem": f"单位 {data.unit_id} 不在单位名录中"})
    elif not ctx["principal"].may_act_for_unit(data.unit_id):
        row_errors.append({"row": n, "column": "责任单位", "problem": "无权为其他单位导入项目"})
    elif (data.stage_on and data.stage_on > on) or any(m.until and m.until > on for m in data.libraries):
        row_errors.append({"row": n, "column": "阶段日期", "problem": "日期不能晚于今天"})
    elif missing := four_ones_missing(data, data.libraries):  # policy R14
        row_errors += [
            {"row": n, "column": HEADER_OF[f], "problem": "重点项目必填（四个一）"} for f in missing
        ]
    elif data.project_code in seen:
        row_errors.append(
            {"row": n, "column": "项目代码", "problem": f"与第 {seen[data.project_code]} 行重复"}
        )
    else:
        seen[data.project_code] = n
        if data.project_code not in ctx["registered"]:
            return data, row_errors
        row_errors.append({"row": n, "column": "项目代码", "problem": "项目代码已在库中"})
    return None, row_errors


async def _registered(session: AsyncSession, rows: list[tuple[int, dict[str, Any]]]) -> set[str]:
    """The file's project codes (as the schema normalises them) already in the library: one
    look-up before anything is copied."""
    candidates = {
        str(raw["project_code"]).strip().upper() for _, raw in rows if raw.get("project_code") is not None
    }
    # only codes of the standard's shape can be valid (and a NUL byte never reaches the query)
    candidates = {c for c in candidates if code_form(c) == "gbt40058"}
    if not candidates:
        return set()
    codes = bindparam("codes", sorted(candidates), type_=ARRAY(String))
    return set(
        await session.scalars(  # one array parameter, not 10 k bound values
            select(Project.project_code).where(Project.project_code == any_(codes))
        )
    )


async def import_projects(
    session: AsyncSession, *, principal: Principal, content: bytes, partial: bool
) -> dict[str, Any]:
    require_importer(principal)
    rows = read_rows(content)
    units = await unit_directory()
    ctx = {
        "units": units,
        "by_name": {u.get("name"): uid for uid, u in units.items()},
        "principal": principal,
        "on": today(),
        "seen": {},
        "registered": await _registered(session, rows),
    }
    errors: list[dict[str, Any]] = []
    writer = ChunkedWrite(session, principal)
    try:
        # the database copies chunk k while chunk k + 1 is checked, in the one transaction;
        # once a row is refused (and not partial) nothing more is added, and the refusal
        # below rolls back what was copied
        for i, (n, raw) in enumerate(rows, start=1):
            data, row_errors = _check_row(n, raw, ctx)
            errors += row_errors
            writing = partial or not errors
            if data is not None and writing:
                writer.add(n, data)
            if i % IMPORT_CHUNK == 0 and writing:
                await writer.flush()
            elif i % 10 == 0:
                await asyncio.sleep(0)  # the COPY in flight moves on
        if partial or not errors:
            await writer.flush()
        await writer.wait()
    except BaseException:
        await writer.abandon()
        raise
    errors.sort(key=lambda e: e["row"])
    bad_rows = sorted({e["row"] for e in errors})
    if errors and not partial:
        raise InvalidInput(
            f"导入文件有 {len(bad_rows)} 行错误，未写入任何数据（可修正后重传，"
            "或以 partial=true 只导入正确的行）",
            code="import.rows_invalid",
            rows=len(rows),
            bad_rows=len(bad_rows),
            errors=errors,
        )
    return {
        "rows": len(rows),
        "created": writer.created,
        "bad_rows": len(bad_rows),
        "errors": errors,
        "partial": partial,
    }
