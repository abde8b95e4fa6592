"""The one registry client: a project as other services need it (``ProjectRef``).

Every service that checks a project against the registry calls ``get_project``, so the
answers are the same everywhere: the registry's 404 is ``project.not_found`` (422 naming
the field when the project id is input of a write, 404 on reads), its 403 is 403
``project.forbidden``, and anything else — another status, or no answer at all — is 503
``service.unavailable`` naming ``service=registry`` (never mistaken for an unknown project).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable
from shared.http import service_client
from shared.identity import SYSTEM_PRINCIPAL, Principal


@dataclass(frozen=True)
class Membership:
    library: str  # reserve 储备库 | annual 年度库 | key 重点工程库 (policy R1, R2)
    kind: str | None  # new | continued
    level: str | None  # provincial | municipal | county


@dataclass(frozen=True)
class ProjectRef:
    """What the other services read of a registry project."""

    id: uuid.UUID
    code: str
    name: str | None
    unit_id: str | None  # the township or department in charge
    category: str | None  # industrial | infrastructure | livelihood
    tags: tuple[str, ...]
    libraries: tuple[Membership, ...]  # current memberships only
    carrying_unit_name: str | None
    carrying_unit_credit_code: str | None
    stage: str | None

    @property
    def in_library(self) -> bool:
        return bool(self.libraries)

    @property
    def is_key_project(self) -> bool:
        return any(m.library == "key" for m in self.libraries)

    @property
    def key_level(self) -> str | None:
        return next((m.level for m in self.libraries if m.library == "key"), None)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ProjectRef:
        current = tuple(
            Membership(m["library"], m.get("kind"), m.get("level"))
            for m in body.get("libraries") or []
            if m.get("until") is None
        )
        return cls(
            id=uuid.UUID(str(body["id"])),
            code=body["project_code"],
            name=body.get("name"),
            unit_id=body.get("unit_id"),
            category=body.get("category"),
            tags=tuple(body.get("tags") or ()),
            libraries=current,
            carrying_unit_name=body.get("carrying_unit_name"),
            carrying_unit_credit_code=body.get("carrying_unit_credit_code"),
            stage=body.get("stage"),
        )


async def get_project(
    project_id: uuid.UUID, *, principal: Principal | None = None, field: str | None = None
) -> ProjectRef:
    """The project, read as ``principal`` (the system when None).

    ``field`` names the input that carried the id: then an unknown project is a 422 on that
    field (a write refers to it); without it, a 404 (a read of it)."""
    resp = await service_client.get(
        "registry", f"/api/v1/projects/{project_id}", principal=principal or SYSTEM_PRINCIPAL
    )
    if resp.status == 404:
        detail = f"项目 {project_id} 不在项目库中"
        if field:
            raise InvalidInput(
                detail, code="project.not_found", fields=[{"field": field, "message": "项目库中无此项目"}]
            )
        raise NotFound(detail, code="project.not_found")
    if resp.status == 403:
        raise Forbidden("无权查看该项目", code="project.forbidden")
    if not resp.ok:
        raise ServiceUnavailable(
            f"项目库服务（registry）返回 {resp.status}，暂无法核验项目，请稍后重试",
            code="service.unavailable",
            service="registry",
        )
    return ProjectRef.from_json(resp.json())
