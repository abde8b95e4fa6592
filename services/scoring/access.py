"""Who sees and acts on which supervision and assessment records (policy R28, R29).

Stated once here (issue 16):

- The key office (and admins) issue letters, run and publish assessments, and see all.
- Leaders and platforms read everything; the summoning leader (or the office) records a
  summons's outcome.
- A township or department sees its own unit's letters, notices, summons and objections,
  reports its own letters done and raises objections for itself
  (``principal.require_unit``); a unit it asks for other than its own is ignored.
- Enterprises see no rankings.

A letter the principal may not see is 404 ``assignment.not_found`` (no existence leak). The
office-only writes call ``principal.require_office()`` where they stand.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, true

from services.scoring.models import Assignment
from shared.errors import Forbidden, NotFound
from shared.identity import Principal, Role


def unit_scope(column: Any, principal: Principal, requested: str | None = None) -> ColumnElement[bool]:
    """The WHERE clause of a list of unit records (``column`` is its unit id): a reader of
    everything sees the ``requested`` unit or all; anyone else only their own unit's."""
    if principal.reads_all:
        return column == requested if requested else true()
    return column == principal.unit_id if principal.unit_id else false()


def require_read_assignment(principal: Principal, assignment: Assignment | None, ref: object) -> Assignment:
    if assignment is None or not (principal.reads_all or principal.may_act_for_unit(assignment.unit_id)):
        raise NotFound(f"交办函 {ref} 不存在", code="assignment.not_found")
    return assignment


def require_read_unit(principal: Principal, unit_id: str) -> None:
    """One unit's notices and summons: readers of everything, or the unit itself."""
    if not principal.reads_all:
        principal.require_unit(unit_id)


def require_ranking_reader(principal: Principal) -> None:
    """Rankings are read by government staff and platforms, not by enterprises."""
    if principal.role == Role.enterprise:
        raise Forbidden("企业用户无权查看考核排名", code="auth.role_forbidden")


def require_summons_recorder(principal: Principal) -> None:
    """The office or the summoning leader records how a summons went (R28)."""
    principal.require_role(Role.key_office, Role.leader)
