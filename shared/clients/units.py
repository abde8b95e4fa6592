"""The organisational-unit directory, as other services see it.

The gateway owns the directory (``gateway.units``); services read it over HTTP and keep
it for a minute, so checking a unit id costs no call on the hot path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInput, ServiceUnavailable
from shared.http import service_client

_CACHE_TTL_S = 60.0
_cache: tuple[float, dict[str, dict[str, Any]]] | None = None


async def unit_directory(*, refresh: bool = False) -> dict[str, dict[str, Any]]:
    """Unit id → {id, name, kind, leader_name, leader_title, principal_leader, deputy_heads, ...}."""
    global _cache
    now = time.monotonic()
    if not refresh and _cache is not None and _cache[0] > now:
        return _cache[1]
    resp = await service_client.get("gateway", "/internal/units")
    if not resp.ok:  # never mistake a directory that did not answer for an unknown unit
        raise ServiceUnavailable(
            "单位名录（网关）暂不可用，请稍后重试", code="service.unavailable", service="gateway"
        )
    units = {u["id"]: u for u in resp.json() or []}
    _cache = (now + _CACHE_TTL_S, units)
    return units


async def require_unit(unit_id: str, *, field: str = "unit_id") -> dict[str, Any]:
    """The unit, or a 422 naming the field (policy R14: the township/department in charge)."""
    units = await unit_directory()
    if unit_id not in units:
        units = await unit_directory(refresh=True)
    if unit_id not in units:
        raise InvalidInput(
            f"单位 {unit_id} 不在单位名录中",
            code="unit.unknown",
            fields=[{"field": field, "message": "未知单位"}],
        )
    return units[unit_id]


@dataclass(frozen=True)
class UnitLeaders:
    """Who is summoned and who summons (policy R28), as the key office keeps them."""

    unit_id: str
    unit_name: str
    head: str  # the unit's head (主要负责人), with title: the one summoned
    principal_leader: str | None  # the county's principal leader (主要领导)
    deputy_heads: tuple[str, ...]  # the deputy county heads in charge (分管县领导)


def leaders_of(unit: dict[str, Any]) -> UnitLeaders:
    head = " ".join(x for x in (unit.get("leader_title"), unit.get("leader_name")) if x)
    return UnitLeaders(
        unit_id=unit["id"],
        unit_name=unit.get("name") or unit["id"],
        head=head,
        principal_leader=unit.get("principal_leader") or None,
        deputy_heads=tuple(unit.get("deputy_heads") or ()),
    )
