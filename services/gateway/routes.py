"""Which service owns which public path (api-contract.md)."""

from __future__ import annotations

import re

# Ordered: the first match wins. Paths the gateway answers itself are not listed.
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/api/v1/units/[^/]+/notices$"), "scoring"),
    (re.compile(r"^/api/v1/(projects|plans|files)(/|$)"), "registry"),
    (re.compile(r"^/api/v1/(calendar|approval-cases|approval-kinds)(/|$)"), "approvals"),
    (re.compile(r"^/api/v1/(issues|meetings)(/|$)"), "issues"),
    (re.compile(r"^/api/v1/(assignments|assessments|rubrics|summons|bulletins)(/|$)"), "scoring"),
]


def owner_of(path: str) -> str | None:
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None
