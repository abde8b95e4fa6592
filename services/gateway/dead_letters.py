"""Dead letters of every consumer, for the administrator (docs/events.md).

The letters live in each consumer's own schema; these paths call the consumer's internal
``/internal/dead-letters`` endpoints with the administrator's identity, so the consumer
audits the replay or discard under that name.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from services.gateway.guard import require_scope
from shared.deadletters import DiscardIn
from shared.errors import KPPError
from shared.events import SUBSCRIPTIONS
from shared.http import service_client
from shared.identity import Principal

# every service some event type is delivered to
CONSUMERS = tuple(sorted({c for consumers in SUBSCRIPTIONS.values() for c in consumers}))
Consumer = Literal[CONSUMERS]  # type: ignore[valid-type]
EventAdmin = Annotated[Principal, require_scope("admin:events")]

dead_letters = APIRouter(prefix="/api/v1/admin/dead-letters", tags=["events"])


class DeadLetterPage(BaseModel):
    items: list[dict[str, Any]]
    unavailable: list[str]


def _forward(resp: Any) -> Response:
    return Response(
        resp.body, status_code=resp.status, media_type=resp.headers.get("Content-Type", "application/json")
    )


@dead_letters.get("", response_model=DeadLetterPage, summary="死信列表（管理员）")
async def list_dead_letters(
    principal: EventAdmin,
    service: Annotated[Consumer | None, Query(description="消费服务")] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=80, description="事件类型")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="每个服务最多条数")] = 100,
) -> DeadLetterPage:
    items: list[dict[str, Any]] = []
    unavailable: list[str] = []
    params = {"limit": limit, **({"type": type_} if type_ else {})}
    for consumer in [service] if service else CONSUMERS:
        try:
            resp = await service_client.get(
                consumer, "/internal/dead-letters", principal=principal, params=params
            )
        except KPPError:
            unavailable.append(consumer)
            continue
        if not resp.ok:
            unavailable.append(consumer)
            continue
        items += [{"consumer": consumer, **row} for row in resp.json()]
    return DeadLetterPage(items=items, unavailable=unavailable)


@dead_letters.post("/{service}/{event_id}/replay", summary="重放一条死信（管理员）")
async def replay_one(service: Consumer, event_id: uuid.UUID, principal: EventAdmin) -> Response:
    return _forward(
        await service_client.request(
            service, "POST", f"/internal/dead-letters/{event_id}/replay", principal=principal
        )
    )


@dead_letters.post("/{service}/replay", summary="重放某类事件的全部死信（管理员）")
async def replay_type(
    service: Consumer,
    principal: EventAdmin,
    type_: Annotated[str, Query(alias="type", min_length=1, max_length=80, description="事件类型")],
) -> Response:
    return _forward(
        await service_client.request(
            service, "POST", "/internal/dead-letters/replay", principal=principal, params={"type": type_}
        )
    )


@dead_letters.post("/{service}/{event_id}/discard", status_code=204, summary="丢弃一条死信（管理员）")
async def discard(service: Consumer, event_id: uuid.UUID, body: DiscardIn, principal: EventAdmin) -> Response:
    return _forward(
        await service_client.request(
            service,
            "POST",
            f"/internal/dead-letters/{event_id}/discard",
            principal=principal,
            json_body=body.model_dump(),
        )
    )
