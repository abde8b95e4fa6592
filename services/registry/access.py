"""Who may read and write which projects (architecture: authorisation in each service).

A township or department writes only its own projects, the key office writes all,
leaders and platforms read all, an enterprise reads the projects it carries (its org_code
is the carrying unit's unified social credit code).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from services.registry.models import Project
from shared.errors import Forbidden, NotFound
from shared.identity import Principal, Role


def may_read(principal: Principal, project: Project) -> bool:
    if principal.reads_all:
        return True
    if principal.role in (Role.township, Role.department):
        return project.unit_id == principal.unit_id
    if principal.role == Role.enterprise:
        return bool(principal.org_code) and project.carrying_unit_credit_code == principal.org_code
    return False


def require_read(principal: Principal, project: Project | None, ref: object) -> Project:
    """The project if the principal may see it; 404 otherwise (no existence leak)."""
    if project is None or not may_read(principal, project):
        raise NotFound(f"项目 {ref} 不存在或无权查看", code="project.not_found")
    return project


def require_write(principal: Principal, project: Project) -> None:
    if not principal.may_act_for_unit(project.unit_id):
        raise Forbidden("只能修改本单位负责的项目", code="auth.unit_forbidden")


def read_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause restricting a project query to what the principal may read."""
    if principal.reads_all:
        return true()
    if principal.role in (Role.township, Role.department) and principal.unit_id:
        return Project.unit_id == principal.unit_id
    if principal.role == Role.enterprise and principal.org_code:
        return Project.carrying_unit_credit_code == principal.org_code
    return false()


def require_importer(principal: Principal) -> None:
    """A workbook import is by the office or a township/department (each row its own unit's)."""
    if not (principal.is_office or principal.role in (Role.township, Role.department)):
        raise Forbidden("当前角色无权导入项目", code="auth.role_forbidden")


def require_staff(principal: Principal) -> None:
    """County-level figures (plans, summaries) are for staff, leaders and platforms."""
    if principal.role == Role.enterprise:
        raise Forbidden("企业用户无权查看全县计划汇总", code="auth.role_forbidden")
