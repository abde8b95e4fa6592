"""The five steps (policy R22) as ONE transition table: step × action → next step, guard, who.

Every action on a problem goes through ``transition()``; nothing else changes ``step``.

    discovered ─analyse→ analysed ─decompose→ decomposed ─assign*→ assigned
    assigned ─request_close→ closure_requested ─record_visit(satisfied)→ closed
                                               ─record_visit(dissatisfied)→ assigned (redo)
    closed ─reopen→ assigned (redo)

    * assign is guarded by the five in place (policy R23).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import Conflict

# step → (R22 step number, Chinese name)
STEPS: dict[str, tuple[int, str]] = {
    "discovered": (1, "问题发现"),
    "analysed": (2, "分析研判"),
    "decomposed": (3, "梳理分解"),
    "assigned": (4, "交办督办"),
    "closure_requested": (5, "清零销号（待回访）"),
    "closed": (5, "已销号"),
}
OPEN_STEPS = ("discovered", "analysed", "decomposed", "assigned", "closure_requested")

ACTION_NAMES_ZH = {
    "analyse": "分析研判",
    "decompose": "梳理分解",
    "assign": "交办",
    "report_progress": "报告进展",
    "request_close": "申请销号",
    "record_visit": "记录回访",
    "reopen": "重新打开",
}

# who may take an action:
#   office      – the key office (重点办) and admins only
#   owner       – the project's unit in charge, the responsible unit, or the office
#   responsible – the responsible (lead, 领办) unit or the office
#   worker      – the responsible unit, an assisting (帮办) unit, or the office


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str  # "*" = decided by the action's outcome (see ``outcome``)
    who: str
    guard: str | None = None  # the name of a check in actions.GUARDS
    redo: bool = False


TABLE: tuple[Transition, ...] = (
    Transition("analyse", "discovered", "analysed", "owner"),
    Transition("analyse", "analysed", "analysed", "owner"),
    Transition("decompose", "analysed", "decomposed", "owner"),
    Transition("decompose", "decomposed", "decomposed", "owner"),
    Transition("assign", "decomposed", "assigned", "office", guard="five_in_place"),
    Transition("report_progress", "assigned", "assigned", "worker"),
    Transition("request_close", "assigned", "closure_requested", "responsible"),
    # policy R25: only the enterprise's verdict moves a problem out of closure_requested
    Transition("record_visit", "closure_requested", "*", "office"),
    Transition("reopen", "closed", "assigned", "office", redo=True),
)
_INDEX: dict[tuple[str, str], Transition] = {(t.source, t.action): t for t in TABLE}
ACTIONS = tuple(dict.fromkeys(t.action for t in TABLE))


def allowed_actions(step: str) -> list[str]:
    return [t.action for t in TABLE if t.source == step]


def transition(step: str, action: str) -> Transition:
    """The transition for ``action`` at ``step``; 409 listing the actions allowed now."""
    found = _INDEX.get((step, action))
    if found is None:
        allowed = allowed_actions(step)
        names = "、".join(f"{a}（{ACTION_NAMES_ZH[a]}）" for a in allowed) or "无"
        raise Conflict(
            f"问题处于「{STEPS[step][1]}」环节，不能执行「{ACTION_NAMES_ZH.get(action, action)}」；"
            f"当前可执行：{names}",
            code="issue.action_not_allowed",
            step=step,
            action=action,
            allowed_actions=allowed,
        )
    return found


def outcome(t: Transition, data: Any) -> tuple[str, bool]:
    """(next step, counts as a redo) for a transition and the action's data."""
    if t.target != "*":
        return t.target, t.redo
    # record_visit: satisfied closes; dissatisfied sends it back to supervision as a redo
    if getattr(data, "satisfied", False):
        return "closed", False
    return "assigned", True


def step_info(step: str) -> dict[str, Any]:
    number, name = STEPS[step]
    return {"step": step, "step_no": number, "step_name": name, "allowed_actions": allowed_actions(step)}
