"""Who may open, read and record events on which approval cases (policy R16–R21).

Stated once here (issue 16):

- The key office, the government-service platform and the intake window of the
  administrative approval bureau (县行政审批服务局) open cases, read all of them and record
  events on any; leaders read all.
- A township or department reads the cases of its own projects and those where it is one of
  the approving agencies; an agency records events on the cases it handles.
- Anyone else (an enterprise) sees no case: 403 ``approval_case.forbidden``.

A case the principal may not read is 403 ``approval_case.forbidden``, as before issue 16
(the registry answers 404 for a project the caller may not see).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, or_, true

from services.approvals.models import ApprovalCase
from shared.errors import Forbidden
from shared.identity import Principal, Role

INTAKE_UNIT = "dept-xzsp"  # 县行政审批服务局: the service hall's intake


class CaseUnits(Protocol):
    """What the rules look at: the project's unit and the approving agencies."""

    unit_id: str | None
    agency_unit_ids: list[str]


def may_open(principal: Principal) -> bool:
    return (
        principal.is_office
        or principal.role == Role.platform
        or (principal.role == Role.department and principal.unit_id == INTAKE_UNIT)
    )


def require_open(principal: Principal) -> None:
    if not may_open(principal):
        raise Forbidden("仅审批局窗口、重点办或政务服务平台可开立审批案件", code="approval_case.intake_only")


def _reads_every_case(principal: Principal) -> bool:
    return principal.reads_all or may_open(principal)


def may_read(principal: Principal, case: CaseUnits) -> bool:
    if _reads_every_case(principal):
        return True
    return principal.unit_id is not None and (
        principal.unit_id == case.unit_id or principal.unit_id in case.agency_unit_ids
    )


def require_read(principal: Principal, case: CaseUnits) -> None:
    if not may_read(principal, case):
        raise Forbidden("无权查看该审批案件", code="approval_case.forbidden")


def read_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause restricting a case query to what the principal may read; 403 for a
    principal who may read none (no unit)."""
    if _reads_every_case(principal):
        return true()
    if principal.unit_id is None:
        raise Forbidden("无权查看审批案件", code="approval_case.forbidden")
    return or_(
        ApprovalCase.unit_id == principal.unit_id,
        ApprovalCase.agency_unit_ids.contains([principal.unit_id]),
    )


def may_post_event(principal: Principal, case: CaseUnits) -> bool:
    return may_open(principal) or (
        principal.role == Role.department and principal.unit_id in case.agency_unit_ids
    )


def require_may_post_events(principal: Principal) -> None:
    """A batch of events is refused as a whole for whoever may record events on no case."""
    if not (may_open(principal) or (principal.role == Role.department and principal.unit_id)):
        raise Forbidden("无权登记办件事件", code="approval_event.forbidden")


def require_post_event(principal: Principal, case: CaseUnits) -> None:
    if not may_post_event(principal, case):
        raise Forbidden("无权登记该案件的办件事件", code="approval_event.forbidden")
