"""Who may use the green channel, from the registry's record of the project (R19, R20).

R19: 容缺受理 and 信用承诺 are for park industrial and transport infrastructure projects
(园区工业项目、交通基础设施项目) as the registry records them — category plus a tag
(``KPP_APPROVALS_PARK_TAGS`` / ``KPP_APPROVALS_TRANSPORT_TAGS``) — never a type the caller
declares.  R20: the fast track is for projects in a library; a key project (重点工程库) is
flagged automatically when its case opens (``KPP_APPROVALS_KEY_PROJECTS_FAST_TRACK``).
"""

from __future__ import annotations

from services.approvals.config import approvals_settings
from services.approvals.schemas import CaseIn
from shared.clients.registry import ProjectRef
from shared.errors import InvalidInput

PARK_INDUSTRIAL = "park_industrial"
TRANSPORT_INFRASTRUCTURE = "transport_infrastructure"
OTHER = "other"
TYPE_ZH = {PARK_INDUSTRIAL: "园区工业项目", TRANSPORT_INFRASTRUCTURE: "交通基础设施项目", OTHER: "其他项目"}
# the basis of a fast-track flag (R20)
KEY_PROJECT = "key_project"
OFFICE_DECISION = "office_decision"


def project_type_of(project: ProjectRef) -> str:
    """The R19 type of a project as the registry records it (category + tags)."""
    s = approvals_settings()
    tags = set(project.tags)
    if project.category == "industrial" and tags & set(s.park_tags):
        return PARK_INDUSTRIAL
    if project.category == "infrastructure" and tags & set(s.transport_tags):
        return TRANSPORT_INFRASTRUCTURE
    return OTHER


def check_acceptance(data: CaseIn, project: ProjectRef) -> str:
    """R19: the project's type (returned) allows the acceptance mode asked for."""
    derived = project_type_of(project)
    if data.project_type is not None and data.project_type != derived:
        raise InvalidInput(
            f"申报的项目类型与项目库记录不符：项目库记载为{TYPE_ZH[derived]}",
            code="approval_case.project_type_mismatch",
            fields=[{"field": "project_type", "message": f"项目库为 {derived}"}],
        )
    if data.acceptance_mode != "standard" and derived not in approvals_settings().tolerance_project_types:
        raise InvalidInput(
            "容缺受理、信用承诺仅适用于园区工业项目和交通基础设施项目；项目库记载该项目为"
            f"{TYPE_ZH[derived]}（类别 {project.category}，标签 {'、'.join(project.tags) or '无'}）",
            code="approval_case.tolerance_not_eligible",
            fields=[{"field": "acceptance_mode", "message": "该项目不适用容缺受理/信用承诺"}],
        )
    return derived


def require_in_library(project: ProjectRef) -> None:
    """R20: the fast track serves projects in the registry's libraries."""
    if not project.in_library:
        raise InvalidInput(
            "该项目未列入项目库（储备库、年度库或重点工程库），不能进入绿色通道",
            code="approval_case.fast_track_not_in_library",
            fields=[{"field": "fast_track", "message": "项目不在任何子库"}],
        )


def fast_track_basis(data: CaseIn, project: ProjectRef) -> str | None:
    """R20: why the case opens on the fast track, or None."""
    if project.is_key_project and approvals_settings().key_projects_fast_track:
        return KEY_PROJECT
    if data.fast_track:
        require_in_library(project)
        return OFFICE_DECISION
    return None
