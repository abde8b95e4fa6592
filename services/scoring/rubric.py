"""Rubrics and the scoring arithmetic (policy R27, R29, R30). Pure functions over JSON inputs.

Everything here is deterministic Decimal arithmetic over the inputs a run stored, so a
re-run from those inputs and the same rubric version gives the published result exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.errors import InvalidInput

CENT = Decimal("0.01")
RATE_Q = Decimal("0.0001")
HUNDRED = Decimal(100)

# metric → (Chinese name, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "starts": ("当月新开工项目数", True),
    "start_rate": ("年度计划开工率（截至当月）", True),
    "investment_completed": ("当月完成投资（万元）", True),
    "investment_ytd": ("年度累计完成投资（万元）", True),
    "report_on_time_rate": ("月报按时报送率", True),
    "reserve_added": ("当月新增储备项目数", True),
    "approval_on_time_rate": ("审批按时办结率", True),
    "problem_on_time_rate": ("问题按期办结率", True),
    "satisfaction_rate": ("问题办理满意率", True),
    "overdue_matters": ("逾期事项数", False),
    "notices": ("被通报次数", False),
}
METHODS = ("rank", "ratio_to_top")
KINDS = ("township", "department")

DEFAULT_ITEMS: dict[str, list[dict[str, str]]] = {
    "township": [
        {"metric": "starts", "weight": "15", "method": "rank"},
        {"metric": "start_rate", "weight": "10", "method": "ratio_to_top"},
        {"metric": "investment_completed", "weight": "20", "method": "ratio_to_top"},
        {"metric": "report_on_time_rate", "weight": "10", "method": "ratio_to_top"},
        {"metric": "reserve_added", "weight": "10", "method": "rank"},
        {"metric": "problem_on_time_rate", "weight": "10", "method": "ratio_to_top"},
        {"metric": "satisfaction_rate", "weight": "5", "method": "ratio_to_top"},
        {"metric": "overdue_matters", "weight": "10", "method": "ratio_to_top"},
        {"metric": "notices", "weight": "10", "method": "ratio_to_top"},
    ],
    "department": [
        {"metric": "approval_on_time_rate", "weight": "25", "method": "ratio_to_top"},
        {"metric": "problem_on_time_rate", "weight": "20", "method": "ratio_to_top"},
        {"metric": "satisfaction_rate", "weight": "15", "method": "ratio_to_top"},
        {"metric": "overdue_matters", "weight": "15", "method": "ratio_to_top"},
        {"metric": "notices", "weight": "10", "method": "ratio_to_top"},
        {"metric": "report_on_time_rate", "weight": "5", "method": "ratio_to_top"},
        {"metric": "investment_completed", "weight": "10", "method": "rank"},
    ],
}

# R30 五晒五比, the policy's own five pairs and wording:
# (key, Chinese name, primary input, secondary input for ties)
COMPARISONS: list[tuple[str, str, str, str]] = [
    ("planning", "一比谋划、晒前期", "reserve_added", "approvals_completed"),
    ("contracts", "二比招商、晒签约", "signed_investment", "signed_count"),
    ("starts", "三比开工、晒进度", "starts", "investment_completed"),
    ("production", "四比投产、晒成效", "in_production", "investment_ytd"),
    ("service", "五比服务、晒质量", "service_index", "overdue_matters_neg"),
]


def validate_items(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Normalise rubric items; 422 unless metrics are known, unique, and weights sum to 100."""
    if not items:
        raise InvalidInput(
            "评分细则至少需要一项", code="rubric.empty", fields=[{"field": "items", "message": "不能为空"}]
        )
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        metric, method = item.get("metric"), item.get("method")
        if metric not in METRICS:
            raise InvalidInput(
                f"未知的考核指标 {metric!r}",
                code="rubric.unknown_metric",
                fields=[{"field": f"items.{i}.metric", "message": "未知指标"}],
            )
        if metric in seen:
            raise InvalidInput(
                f"考核指标 {metric} 重复",
                code="rubric.duplicate_metric",
                fields=[{"field": f"items.{i}.metric", "message": "指标重复"}],
            )
        if method not in METHODS:
            raise InvalidInput(
                f"计分方法 {method!r} 无效（rank 或 ratio_to_top）",
                code="rubric.unknown_method",
                fields=[{"field": f"items.{i}.method", "message": "方法无效"}],
            )
        weight = Decimal(str(item.get("weight")))
        if weight <= 0:
            raise InvalidInput(
                "权重必须大于 0",
                code="rubric.weight_invalid",
                fields=[{"field": f"items.{i}.weight", "message": "必须大于 0"}],
            )
        seen.add(metric)
        out.append({"metric": metric, "weight": str(weight), "method": method})
    total = sum((Decimal(x["weight"]) for x in out), Decimal(0))
    if total != HUNDRED:
        raise InvalidInput(
            f"各项权重之和为 {total}，应为 100",
            code="rubric.weights_not_100",
            fields=[{"field": "items", "message": "权重之和应为 100"}],
            weight_sum=str(total),
        )
    return out


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def competition_ranks(values: dict[str, Decimal], *, higher_is_better: bool = True) -> dict[str, int]:
    """1224 ranking: equal values share a rank."""
    ordered = sorted(values.items(), key=lambda kv: (-kv[1] if higher_is_better else kv[1], kv[0]))
    ranks: dict[str, int] = {}
    prev: Decimal | None = None
    rank = 0
    for i, (uid, v) in enumerate(ordered, start=1):
        if prev is None or v != prev:
            rank, prev = i, v
        ranks[uid] = rank
    return ranks


def item_points(
    values: dict[str, Decimal | None], *, weight: Decimal, method: str, higher_is_better: bool
) -> dict[str, Decimal]:
    """Points per unit for one rubric item (units without the item get the full weight)."""
    present = {u: v for u, v in values.items() if v is not None}
    points = {u: weight for u, v in values.items() if v is None}  # 不涉及此项工作，不扣分
    if not present:
        return points
    if method == "rank":
        n = len(present)
        for uid, rank in competition_ranks(present, higher_is_better=higher_is_better).items():
            points[uid] = weight * Decimal(n - rank + 1) / Decimal(n)
    elif higher_is_better:
        top = max(present.values())
        for uid, v in present.items():
            points[uid] = weight if top <= 0 else weight * max(v, Decimal(0)) / top
    else:
        best = min(present.values())
        for uid, v in present.items():
            points[uid] = weight * (Decimal(1) + best) / (Decimal(1) + v)
    return {u: p.quantize(CENT, ROUND_HALF_UP) for u, p in points.items()}


def score_kind(units: dict[str, dict[str, Any]], items: Iterable[dict[str, str]]) -> dict[str, Any]:
    """Scores and ranks for the units of one kind under one rubric."""
    per_unit: dict[str, dict[str, str]] = {uid: {} for uid in units}
    totals = {uid: Decimal(0) for uid in units}
    for item in items:
        metric = item["metric"]
        pts = item_points(
            {uid: dec(u["metrics"].get(metric)) for uid, u in units.items()},
            weight=Decimal(item["weight"]),
            method=item["method"],
            higher_is_better=METRICS[metric][1],
        )
        for uid, p in pts.items():
            per_unit[uid][metric] = str(p)
            totals[uid] += p
    ranks = competition_ranks(totals)
    return {
        uid: {"score": str(totals[uid].quantize(CENT)), "rank": ranks[uid], "points": per_unit[uid]}
        for uid in sorted(units)
    }


def comparison_tables(units: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """R30: five ranked tables, each ranked within townships and within departments."""
    tables: dict[str, Any] = {}
    for key, name, primary, secondary in COMPARISONS:
        groups: dict[str, list[dict[str, Any]]] = {}
        for kind in KINDS:
            members = {uid: u for uid, u in units.items() if u["kind"] == kind}
            keyed = {
                uid: (
                    dec(u["metrics"].get(primary)) or Decimal(0),
                    dec(u["metrics"].get(secondary)) or Decimal(0),
                )
                for uid, u in members.items()
            }
            ordered = sorted(keyed.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
            rows, prev, rank = [], None, 0
            for i, (uid, pair) in enumerate(ordered, start=1):
                if pair != prev:
                    rank, prev = i, pair
                rows.append(
                    {
                        "unit_id": uid,
                        "unit_name": members[uid]["name"],
                        "rank": rank,
                        "value": str(pair[0]),
                        "secondary": str(pair[1]),
                    }
                )
            groups[kind] = rows
        tables[key] = {"name": name, "primary": primary, "secondary": secondary, **groups}
    return tables


def compute_result(inputs: dict[str, Any], rubrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The month's result from its stored inputs and rubric versions (kind → {id, version, items})."""
    units = inputs["units"]
    scores: dict[str, Any] = {}
    for kind in KINDS:
        members = {uid: u for uid, u in units.items() if u["kind"] == kind}
        if members:
            scores.update(score_kind(members, rubrics[kind]["items"]))
    rows = []
    for uid in sorted(units, key=lambda x: (units[x]["kind"], scores[x]["rank"], x)):
        u = units[uid]
        rows.append(
            {
                "unit_id": uid,
                "unit_name": u["name"],
                "kind": u["kind"],
                **scores[uid],
                "notices": int(u["metrics"].get("notices") or 0),
            }
        )
    return {
        "month": inputs["month"],
        "rubric_versions": {k: rubrics[k]["version"] for k in rubrics},
        "units": rows,
        "comparisons": comparison_tables(units),
    }
