"""The dossier workbook's project sheets: overview, progress, photos and documents
(policy R7 一项一档)."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

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
from services.registry.dossier_cells import (
    BOLD,
    CODE_FORMS_ZH,
    REVOCATION_ZH,
    STATUS_ZH,
    TARGET_KINDS_ZH,
    put,
    sheet,
    table,
    zh,
)


def overview(wb: Workbook, p: dict[str, Any], stages: list[dict[str, Any]], units: dict[str, str]) -> None:
    latest = p.get("latest_progress") or {}
    rev = p.get("revocation") or {}
    fields: list[tuple[str, Any, str]] = [
        ("项目代码", p["project_code"], "text"),
        ("代码形式", zh(CODE_FORMS_ZH, p["code_form"]), "text"),
        ("项目名称", p["name"], "text"),
        ("责任单位", units.get(p["unit_id"], p["unit_id"]), "text"),
        ("项目承载单位", p.get("carrying_unit_name"), "text"),
        ("统一社会信用代码", p.get("carrying_unit_credit_code"), "text"),
        ("类别", zh(CATEGORIES_ZH, p["category"]), "text"),
        ("总投资", p["total_investment"], "money"),
        ("规模档", zh(SCALE_BANDS_ZH, p["scale_band"]), "text"),
        ("政府投资项目", p["government_investment"], "yes"),
        ("重大产业项目", p["major_industrial"], "yes"),
        ("当前阶段", zh(STAGES_ZH, p["stage"]), "text"),
        ("具备开工条件日期", p.get("start_conditions_met_on"), "date"),
        ("计划开工", p.get("planned_start"), "date"),
        ("计划竣工", p.get("planned_finish"), "date"),
        ("实际开工", p.get("actual_start"), "date"),
        ("投运日期", p.get("operation_started_on"), "date"),
        ("达产达效日期", p.get("capacity_reached_on"), "date"),
        ("包联领导", p.get("contact_leader"), "text"),
        ("工作专班", p.get("team"), "text"),
        ("推进方案", p.get("work_plan"), "text"),
        ("一抓到底责任人", p.get("follow_owner"), "text"),
        ("标签", "；".join(p.get("tags") or []), "text"),
        ("最近月报月份", latest.get("month"), "text"),
        ("最近形象进度", latest.get("progress_pct"), "pct"),
        ("最近累计完成投资", latest.get("cumulative_investment"), "money"),
        ("收回状态（R13）", zh(REVOCATION_ZH, rev.get("state")), "text"),
        ("收回期限", rev.get("due_on"), "date"),
        ("收回日期", rev.get("revoked_on"), "date"),
        ("版本", p["version"], "int"),
        ("入库时间", p["created_at"], "time"),
        ("更新时间", p["updated_at"], "time"),
    ]
    ws = sheet(wb, "项目概况", [("字段", "text", 22), ("值", "text", 44)], [])
    for letter in "CDEF":  # the sections' further columns
        ws.column_dimensions[letter].width = 14
    for r, (label, value, kind) in enumerate(fields, 2):
        ws.cell(row=r, column=1, value=label)
        put(ws, r, 2, value, kind)
    row = len(fields) + 3
    ws.cell(row=row, column=1, value="所属子库").font = BOLD
    row = (
        table(
            ws,
            row + 1,
            [
                ("子库", "text", 0),
                ("建设类型", "text", 0),
                ("级别", "text", 0),
                ("入库日期", "date", 0),
                ("出库日期", "date", 0),
            ],
            [
                (
                    zh(LIBRARIES_ZH, m["library"]),
                    zh(KINDS_ZH, m.get("kind")),
                    zh(LEVELS_ZH, m.get("level")),
                    m["since"],
                    m.get("until"),
                )
                for m in p.get("libraries") or []
            ],
        )
        + 1
    )
    ws.cell(row=row, column=1, value="项目生命周期（R8）").font = BOLD
    dates = p.get("stage_dates") or {}
    row = (
        table(
            ws,
            row + 1,
            [("阶段", "text", 0), ("到达日期", "date", 0)],
            [(STAGES_ZH[s], dates[s]) for s in STAGES if s in dates],
        )
        + 1
    )
    row = (
        table(
            ws,
            row,
            [
                ("原阶段", "text", 0),
                ("新阶段", "text", 0),
                ("日期", "date", 0),
                ("操作人", "text", 0),
                ("原因", "text", 0),
                ("记录时间", "time", 0),
            ],
            [
                (
                    zh(STAGES_ZH, s.get("from_stage")),
                    zh(STAGES_ZH, s.get("to_stage")),
                    s.get("on"),
                    s.get("actor"),
                    s.get("reason"),
                    s.get("at"),
                )
                for s in stages
            ],
        )
        + 1
    )
    ws.cell(row=row, column=1, value="节点目标（R11）").font = BOLD
    row = (
        table(
            ws,
            row + 1,
            [
                ("目标", "text", 0),
                ("类型", "text", 0),
                ("期限", "date", 0),
                ("形象进度目标", "pct", 0),
                ("达成日期", "date", 0),
                ("状态", "text", 0),
            ],
            [
                (
                    t["name"],
                    zh(TARGET_KINDS_ZH, t["kind"]),
                    t["due_on"],
                    t.get("threshold_pct"),
                    t.get("met_on"),
                    zh(STATUS_ZH, t["status"]),
                )
                for t in p.get("targets") or []
            ],
        )
        + 1
    )
    ws.cell(row=row, column=1, value="一二三节点（R10）").font = BOLD
    table(
        ws,
        row + 1,
        [("节点", "text", 0), ("期限", "date", 0), ("达到日期", "date", 0), ("状态", "text", 0)],
        [
            (m["label"], m["due_on"], m.get("reached_on"), zh(STATUS_ZH, m["status"]))
            for m in p.get("milestones") or []
        ],
    )


def progress_sheet(wb: Workbook, reports: list[dict[str, Any]]) -> None:
    rows = sorted(reports, key=lambda r: (r["month"], r["version"]))
    sheet(
        wb,
        "月度进度",
        [
            ("月份", "text", 10),
            ("本月完成投资", "money", 18),
            ("累计完成投资", "money", 18),
            ("形象进度", "pct", 11),
            ("节点", "text", 24),
            ("存在问题", "text", 36),
            ("填报人", "text", 14),
            ("版本", "int", 7),
            ("现行版本", "yes", 9),
            ("按期报送", "yes", 9),
            ("更正原因", "text", 24),
            ("报送时间", "time", 20),
        ],
        [
            (
                r["month"],
                r["investment_month"],
                r["cumulative_investment"],
                r["progress_pct"],
                r.get("milestone"),
                r.get("problems"),
                r.get("reporter_name") or r["reporter"],
                r["version"],
                r["current"],
                r["on_time"],
                r.get("correction_reason"),
                r["reported_at"],
            )
            for r in rows
        ],
    )


def photos_sheet(wb: Workbook, photos: list[dict[str, Any]]) -> None:
    sheet(
        wb,
        "照片",
        [
            ("文件名", "text", 28),
            ("月份", "text", 10),
            ("类型", "text", 12),
            ("大小（字节）", "int", 13),
            ("SHA-256", "text", 66),
            ("上传人", "text", 14),
            ("上传时间", "time", 20),
            ("下载路径", "text", 52),
        ],
        [
            (
                ph.get("filename"),
                ph["month"],
                ph["content_type"],
                ph["size"],
                ph["sha256"],
                ph["uploaded_by"],
                ph["uploaded_at"],
                f"/api/v1/files/{ph['id']}",
            )
            for ph in photos
        ],
    )


def documents_sheet(wb: Workbook, docs: list[dict[str, Any]]) -> None:
    """policy R7: approval replies, certificates, contracts in the file."""
    sheet(
        wb,
        "文件",
        [
            ("类型", "text", 10),
            ("文件名称", "text", 30),
            ("出具单位", "text", 24),
            ("出具日期", "date", 12),
            ("文号/证号", "text", 22),
            ("文件类型", "text", 16),
            ("大小（字节）", "int", 13),
            ("SHA-256", "text", 66),
            ("上传人", "text", 14),
            ("上传时间", "time", 20),
            ("下载路径", "text", 52),
        ],
        [
            (
                zh(DOC_TYPES_ZH, d["doc_type"]),
                d["title"],
                d.get("issuer"),
                d.get("issued_on"),
                d.get("doc_number"),
                d["content_type"],
                d["size"],
                d["sha256"],
                d["uploaded_by"],
                d["uploaded_at"],
                f"/api/v1/files/{d['id']}",
            )
            for d in docs
        ],
    )
