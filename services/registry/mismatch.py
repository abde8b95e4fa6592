"""Every mismatch between a declared plan and the records, and inside the plan (policy R4).

Neither side is "fixed": both numbers are reported with their difference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.registry.codes import CATEGORIES_ZH, LEVELS_ZH, SCALE_BANDS_ZH
from services.registry.schemas_plans import PlanIn
from shared.money import money_str, to_yi

_DIMS = {"by_band": SCALE_BANDS_ZH, "by_category": CATEGORIES_ZH, "by_level": LEVELS_ZH}
_DIM_ZH = {"by_band": "规模档", "by_category": "类别", "by_level": "级别"}


def _fmt(value: Any, money: bool) -> str:
    return money_str(value) if money else str(value)


def _mm(kind: str, field: str, declared: Any, other: Any, money: bool, detail: str) -> dict:
    diff = declared - other
    if money:
        detail += f"（申报 {to_yi(declared)} 亿元，对比 {to_yi(other)} 亿元，差 {to_yi(diff)} 亿元）"
    else:
        detail += f"（申报 {declared}，对比 {other}，差 {diff}）"
    return {
        "kind": kind,
        "field": field,
        "unit": "万元" if money else "count",
        "declared": _fmt(declared, money),
        "compared_with": _fmt(other, money),
        "difference": _fmt(diff, money) if not money else format(diff, "f"),
        "detail": detail,
    }


def mismatches(plan: PlanIn, actual: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # 1. inside the plan: the parts against the declared whole
    for dim, names in _DIMS.items():
        parts = getattr(plan, dim)
        if not parts:
            continue
        for attr, money in (("count", False), ("total_investment", True)):
            values = [getattr(parts[n], attr) for n in names if n in parts]
            if not values or any(v is None for v in values):
                continue
            total = sum(values, Decimal(0) if money else 0)
            whole = getattr(plan, attr)
            if total != whole:
                out.append(
                    _mm(
                        "declared_internal",
                        f"{dim}.{attr}",
                        whole,
                        total,
                        money,
                        f"计划各{_DIM_ZH[dim]}{'投资' if money else '个数'}之和与计划合计不符",
                    )
                )
    muni = plan.by_level.get("municipal")
    if (
        muni
        and muni.count is not None
        and muni.continued is not None
        and muni.new is not None
        and muni.continued + muni.new != muni.count
    ):
        out.append(
            _mm(
                "declared_internal",
                "by_level.municipal.count",
                muni.count,
                muni.continued + muni.new,
                False,
                "市级续建与新开工个数之和与市级个数不符",
            )
        )
    # 2. the plan against the records
    key = actual["key"]
    for attr, money in (("count", False), ("total_investment", True)):
        if getattr(plan, attr) != key[attr]:
            out.append(
                _mm(
                    "declared_vs_actual",
                    attr,
                    getattr(plan, attr),
                    key[attr],
                    money,
                    f"计划{'总投资' if money else '项目个数'}与库内重点项目记录不符",
                )
            )
    for dim, names in _DIMS.items():
        for name, fig in getattr(plan, dim).items():
            act = actual[dim][name]
            for attr, money in (("count", False), ("total_investment", True)):
                declared = getattr(fig, attr)
                if declared is not None and declared != act[attr]:
                    out.append(
                        _mm(
                            "declared_vs_actual",
                            f"{dim}.{name}.{attr}",
                            declared,
                            act[attr],
                            money,
                            f"{names[name]}{'投资' if money else '个数'}与库内记录不符",
                        )
                    )
    if muni:
        for attr in ("continued", "new"):
            declared = getattr(muni, attr)
            if declared is not None and declared != actual["municipal"][attr]:
                out.append(
                    _mm(
                        "declared_vs_actual",
                        f"by_level.municipal.{attr}",
                        declared,
                        actual["municipal"][attr],
                        False,
                        f"市级{'续建' if attr == 'continued' else '新开工'}个数与库内记录不符",
                    )
                )
    return out
