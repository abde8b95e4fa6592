"""Who sees and acts on which problems (policy R22–R25).

Stated once here (issue 16):

- The key office (and admins) see every problem and take every action.
- Leaders and platforms read every problem and act on none; they report none either.
- A township or department sees the problems of its own projects and those it is the
  responsible or an assisting unit of. It acts as the flow table's ``who`` says: ``owner``
  (the project's unit or the responsible unit), ``responsible`` (the responsible unit),
  ``worker`` (the responsible or an assisting unit), ``office`` (the key office only).
- An enterprise sees the problems of the projects it carries (its credit code) and reports
  problems only on those.

A problem the principal may not see is 403 ``issue.forbidden``, as before issue 16 (the
registry answers 404 for a project the caller may not see).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from services.issues.models import Issue, Reminder, SubTask
from shared.errors import Forbidden
from shared.identity import Principal, Role

ACTORS_ZH = {
    "office": "重点办",
    "owner": "项目责任乡镇/部门、责任单位或重点办",
    "responsible": "责任单位（领办）或重点办",
    "worker": "责任单位、帮办单位或重点办",
}


def _own_unit(principal: Principal) -> str | None:
    """The unit a township or department acts for; no one else acts for a unit."""
    if principal.role in (Role.township, Role.department):
        return principal.unit_id
    return None


def read_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause restricting a problem query to what the principal may see."""
    if principal.reads_all:
        return true()
    unit = _own_unit(principal)
    if unit:
        return or_(
            Issue.project_unit_id == unit,
            Issue.responsible_unit_id == unit,
            Issue.assisting_unit_ids.contains([unit]),
        )
    if principal.role == Role.enterprise and principal.org_code:
        return Issue.enterprise_code == principal.org_code
    return false()


def may_read(principal: Principal, issue: Issue) -> bool:
    if principal.reads_all:
        return True
    unit = _own_unit(principal)
    if unit:
        return unit in (issue.project_unit_id, issue.responsible_unit_id) or unit in (
            issue.assisting_unit_ids or []
        )
    if principal.role == Role.enterprise and principal.org_code:
        return issue.enterprise_code == principal.org_code
    return False


def require_read(principal: Principal, issue: Issue) -> None:
    if not may_read(principal, issue):
        raise Forbidden("无权查看或办理该问题", code="issue.forbidden")


def require_action(principal: Principal, issue: Issue, who: str) -> None:
    """``who`` is the flow table's actor for the transition (office/owner/responsible/worker)."""
    if principal.is_office:
        return
    allowed = {
        "office": set(),
        "owner": {issue.project_unit_id, issue.responsible_unit_id},
        "responsible": {issue.responsible_unit_id},
        "worker": {issue.responsible_unit_id, *(issue.assisting_unit_ids or [])},
    }[who]
    unit = _own_unit(principal)
    if unit is None or unit not in allowed:
        raise Forbidden(f"此操作只能由{ACTORS_ZH[who]}执行", code="issue.action_forbidden")


def require_sub_task_report(principal: Principal, issue: Issue, task: SubTask) -> None:
    """A sub-task's progress is reported by its own unit or the responsible unit (or the office)."""
    if principal.is_office or principal.unit_id in (task.unit_id, issue.responsible_unit_id):
        return
    raise Forbidden("只能报告本单位子任务的进展", code="issue.action_forbidden")


def require_reporter(principal: Principal) -> None:
    """Leaders and platforms read problems; they do not report them."""
    if principal.role in (Role.leader, Role.platform):
        raise Forbidden("当前角色只能查阅问题，不能反映问题", code="auth.role_forbidden")


def require_report_on(principal: Principal, carrying_unit_credit_code: str | None) -> None:
    """An enterprise reports problems only on the projects it carries."""
    if principal.role == Role.enterprise and (
        not carrying_unit_credit_code or carrying_unit_credit_code != principal.org_code
    ):
        raise Forbidden("企业只能就本企业承建的项目反映问题", code="issue.project_forbidden")


def reminder_scope(principal: Principal, requested: str | None = None) -> ColumnElement[bool]:
    """A WHERE clause for reminders: a reader of everything sees the ``requested`` unit's (or
    all); anyone else only their own unit's, whatever they ask for."""
    if principal.reads_all:
        return Reminder.unit_id == requested if requested else true()
    return Reminder.unit_id == principal.unit_id if principal.unit_id else false()
