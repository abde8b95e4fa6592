"""The ledger's columns (Chinese headers) and cell conversions shared by template, import and
export. Money is written as text so it never passes through a float."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.registry.codes import CATEGORIES_ZH, KINDS_ZH, LEVELS_ZH, STAGES_ZH
from services.registry.models import Project

# (header, key)
COLUMNS: list[tuple[str, str]] = [
    ("项目代码", "project_code"),
    ("项目名称", "name"),
    ("责任单位", "unit_id"),
    ("项目承载单位", "carrying_unit_name"),
    ("统一社会信用代码", "carrying_unit_credit_code"),
    ("包联领导", "contact_leader"),
    ("工作专班", "team"),
    ("推进方案", "work_plan"),
    ("一抓到底责任人", "follow_owner"),
    ("类别", "category"),
    ("总投资（万元）", "total_investment"),
    ("政府投资", "government_investment"),
    ("储备库入库日期", "reserve_since"),
    ("年度建设类型", "annual_kind"),
    ("年度库入库日期", "annual_since"),
    ("重点项目级别", "key_level"),
    ("重点库入库日期", "key_since"),
    ("项目阶段", "stage"),
    ("阶段日期", "stage_on"),
    ("具备开工条件日期", "start_conditions_met_on"),
    ("计划开工日期", "planned_start"),
    ("计划竣工日期", "planned_finish"),
    ("实际开工日期", "actual_start"),
    ("标签", "tags"),
    ("重大产业项目", "major_industrial"),
    ("达产达效日期", "capacity_reached_on"),
    ("投运日期", "operation_started_on"),
    # policy R13: how the project was authorised (use-it-or-lose-it is for county level only)
    ("核准/备案", "approval_kind"),
    ("核准/备案机关层级", "approval_level"),
    ("核准/备案机关", "approval_authority"),
]
HEADERS = [h for h, _ in COLUMNS]
HEADER_OF = {k: h for h, k in COLUMNS}
DATE_KEYS = {
    "reserve_since",
    "annual_since",
    "key_since",
    "stage_on",
    "start_conditions_met_on",
    "planned_start",
    "planned_finish",
    "actual_start",
    "capacity_reached_on",
    "operation_started_on",
}
BOOL_KEYS = {"government_investment", "major_industrial"}
APPROVAL_KINDS_ZH = {"approval": "核准", "filing": "备案"}
APPROVAL_LEVELS_ZH = {"national": "国家", "provincial": "省级", "municipal": "市级", "county": "县级"}
ENUMS = {
    "category": CATEGORIES_ZH,
    "annual_kind": KINDS_ZH,
    "key_level": LEVELS_ZH,
    "stage": STAGES_ZH,
    "approval_kind": APPROVAL_KINDS_ZH,
    "approval_level": APPROVAL_LEVELS_ZH,
}
FROM_ZH = {k: {zh: code for code, zh in table.items()} for k, table in ENUMS.items()}
TRUE, FALSE = {"是", "true", "TRUE", "1", "Y", "y"}, {"否", "false", "FALSE", "0", "N", "n", ""}


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ValueError("日期格式应为 YYYY-MM-DD") from exc


def _bool(raw: Any) -> bool:
    text = str(raw)
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("应填“是”或“否”")


def _enum(key: str) -> Callable[[Any], str]:
    from_zh, table = FROM_ZH[key], ENUMS[key]
    choices = "取值应为：" + "、".join(table.values())

    def convert(raw: Any) -> str:
        text = str(raw)
        if text in from_zh:
            return from_zh[text]
        if text in table:
            return text
        raise ValueError(choices)

    return convert


def _money(raw: Any) -> Any:
    if isinstance(raw, float):  # a number typed in Excel: its shortest exact decimal form
        try:
            return format(Decimal(repr(raw)), "f")
        except InvalidOperation as exc:
            raise ValueError("金额格式错误") from exc
    return raw if isinstance(raw, int) else str(raw)


def _tags(raw: Any) -> list[str]:
    return [t for t in str(raw).replace("；", ";").split(";") if t.strip()]


def _text(raw: Any) -> str:
    return str(raw) if not isinstance(raw, str) else raw


# one converter a column, chosen once (a 10 k-row import converts 300 k cells)
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    **{k: _text for _, k in COLUMNS},
    **{k: _date for k in DATE_KEYS},
    **{k: _bool for k in BOOL_KEYS},
    **{k: _enum(k) for k in ENUMS},
    "total_investment": _money,
    "tags": _tags,
}


def cell_value(key: str, raw: Any, unit_by_name: dict[str, str]) -> Any:
    """One cell → the API's value; raises ValueError with a Chinese reason."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        return False if key in BOOL_KEYS else ([] if key == "tags" else None)
    if key == "unit_id":
        return unit_by_name.get(str(raw), str(raw))
    return CONVERTERS[key](raw)


def row_to_input(values: dict[str, Any]) -> dict[str, Any]:
    """Converted cells → a ProjectIn body."""
    body = {
        k: v
        for k, v in values.items()
        if k not in ("reserve_since", "annual_kind", "annual_since", "key_level", "key_since")
    }
    libs = []
    if values.get("reserve_since"):
        libs.append({"library": "reserve", "since": values["reserve_since"]})
    if values.get("annual_kind") or values.get("annual_since"):
        libs.append(
            {"library": "annual", "kind": values.get("annual_kind"), "since": values.get("annual_since")}
        )
    if values.get("key_level") or values.get("key_since"):
        libs.append({"library": "key", "level": values.get("key_level"), "since": values.get("key_since")})
    body["libraries"] = libs
    if body.get("stage") is None:
        body.pop("stage", None)
    return {k: v for k, v in body.items() if v is not None}


def project_row(p: Project, unit_names: dict[str, str]) -> list[Any]:
    """A project as one ledger row (current memberships only)."""
    current = {m.library: m for m in p.memberships if m.until is None}
    res, ann, key = current.get("reserve"), current.get("annual"), current.get("key")
    stage_on = (p.stage_dates or {}).get(p.stage)
    values = {
        "project_code": p.project_code,
        "name": p.name,
        "unit_id": unit_names.get(p.unit_id, p.unit_id),
        "carrying_unit_name": p.carrying_unit_name,
        "carrying_unit_credit_code": p.carrying_unit_credit_code,
        "contact_leader": p.contact_leader,
        "team": p.team,
        "work_plan": p.work_plan,
        "follow_owner": p.follow_owner,
        "category": CATEGORIES_ZH[p.category],
        "total_investment": format(p.total_investment, "f"),
        "government_investment": "是" if p.government_investment else "否",
        "reserve_since": res.since if res else None,
        "annual_kind": KINDS_ZH[ann.kind] if ann and ann.kind else None,
        "annual_since": ann.since if ann else None,
        "key_level": LEVELS_ZH[key.level] if key and key.level else None,
        "key_since": key.since if key else None,
        "stage": STAGES_ZH[p.stage],
        "stage_on": date.fromisoformat(stage_on) if stage_on else None,
        "start_conditions_met_on": p.start_conditions_met_on,
        "planned_start": p.planned_start,
        "planned_finish": p.planned_finish,
        "actual_start": p.actual_start,
        "tags": ";".join(p.tags or []),
        "major_industrial": "是" if p.major_industrial else "否",
        "capacity_reached_on": p.capacity_reached_on,
        "operation_started_on": p.operation_started_on,
        "approval_kind": APPROVAL_KINDS_ZH.get(p.approval_kind or ""),
        "approval_level": APPROVAL_LEVELS_ZH.get(p.approval_level or ""),
        "approval_authority": p.approval_authority,
    }
    return [values[k] for _, k in COLUMNS]
