"""Scopes: what a path needs, what an app key or a staff role holds.

A request needs one scope, decided by the owning service and the method (GET/HEAD read,
anything else write); a few paths need a narrower scope of their own, which the broad
write scope also satisfies (the service hall's ``approvals.events:write`` is enough to
post clock events, ``approvals:write`` covers it too).
"""

from __future__ import annotations

import re

from shared.identity import Role

SERVICE_SCOPES = ("registry", "approvals", "issues", "scoring")
# (method, path pattern, scope) checked before the per-service rule
SPECIAL: list[tuple[str, re.Pattern[str], str]] = [
    # one case's event, or a batch of events (issue 15)
    ("POST", re.compile(r"^/api/v1/approval-cases(/[^/]+)?/events$"), "approvals.events:write"),
]
# the broad scope that also grants a narrow one
IMPLIED_BY = {"approvals.events:write": "approvals:write"}

ADMIN_SCOPES = ("admin:audit", "admin:app-keys", "admin:webhooks", "admin:events", "admin:users")
ALL_SCOPES = (
    *(f"{s}:{m}" for s in SERVICE_SCOPES for m in ("read", "write")),
    "approvals.events:write",
    "units:read",
    "webhooks:manage",
    *ADMIN_SCOPES,
)
_READ = frozenset(f"{s}:read" for s in (*SERVICE_SCOPES, "units"))
_WRITE = frozenset(f"{s}:write" for s in SERVICE_SCOPES)

# What each staff role may reach at the gateway; the services still decide by role and
# unit (a township reads and edits its own projects only).
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(ALL_SCOPES),
    Role.key_office: _READ | _WRITE | {"admin:webhooks", "admin:users"},
    Role.township: _READ | _WRITE,
    Role.department: _READ | _WRITE,
    # the county leader reads everything, chairs meetings (issues) and summons (scoring)
    Role.leader: _READ | {"issues:write", "scoring:write"},
    # an enterprise declares and follows its own projects and problems
    Role.enterprise: _READ | {"registry:write", "issues:write"},
}

# a webhook subscriber must be able to read what the event tells
EVENT_READ_SCOPE = {
    "project": "registry:read",
    "approval": "approvals:read",
    "issue": "issues:read",
    "assignment": "scoring:read",
    "notice": "scoring:read",
    "summons": "scoring:read",
    "assessment": "scoring:read",
}


def required_scope(method: str, path: str, service: str) -> str:
    for m, pattern, scope in SPECIAL:
        if m == method and pattern.match(path):
            return scope
    return f"{service}:{'read' if method in ('GET', 'HEAD', 'OPTIONS') else 'write'}"


def holds(scopes: frozenset[str], scope: str) -> bool:
    return scope in scopes or IMPLIED_BY.get(scope, "") in scopes


def event_scope(event_type: str) -> str | None:
    return EVENT_READ_SCOPE.get(event_type.split(".", 1)[0])
