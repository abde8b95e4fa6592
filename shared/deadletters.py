"""Retries and dead letters of a consumer (docs/events.md).

A handler that raises is retried after ``event_retry_delays_s`` (5 s, 30 s, 2 min, 10 min
by default); after the last try the event is parked in the consumer's own ``dead_letter``
table — never dropped. Operators list, replay and discard dead letters through the
gateway (``/api/v1/admin/dead-letters``), which calls each consumer's internal endpoints
below; every replay and discard is audited.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from arq import Retry
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.contracts import ContractViolation
from shared.db import DbSession, UnitOfWorkRoute, job_session
from shared.errors import Conflict, NotFound
from shared.events import EventPipeline, ack_key, queue_name
from shared.identity import CurrentPrincipal, Role
from shared.settings import get_settings

log = logging.getLogger("kpp.events")
Handlers = dict[str, Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]]
FIRST_FAILURE_TTL_S = 2 * 24 * 3600


def retry_delays() -> list[float]:
    raw = get_settings().event_retry_delays_s
    return [float(x) for x in raw.split(",") if x.strip()]


def _metric_key(service: str, name: str) -> str:
    return f"kpp:metrics:{service}:{name}"


def parks_at_once(exc: Exception) -> bool:
    """A payload that breaks its contract will not mend itself: no retries."""
    return isinstance(exc, ContractViolation)


async def _note_retry(
    redis: Any, service: str, event: dict[str, Any], tries: int, delay: float, error: str
) -> None:
    log.warning(
        "%s: event %s (%s) failed on try %d, retry in %ss: %s",
        service,
        event["id"],
        event["type"],
        tries,
        delay,
        error,
    )
    try:
        await redis.set(
            f"kpp:evtfail:{service}:{event['id']}", clock.now().isoformat(), nx=True, ex=FIRST_FAILURE_TTL_S
        )
        await redis.incr(_metric_key(service, "event_retries_total"))
    except Exception:  # Redis counters are best effort; the retry itself is arq's
        pass


async def after_batch_failure(
    ctx: dict[str, Any], service: str, pipeline: EventPipeline, event: dict[str, Any], exc: Exception
) -> None:
    """A handler raised inside a batch (the event's first try): the event leaves the batch
    for its own ``handle_event`` job, tried again after the first delay as its try 2 — or is
    parked now when it cannot succeed (a contract violation, or no retries configured)."""
    delays = retry_delays()
    if parks_at_once(exc) or not delays:
        await after_failure({"redis": ctx["redis"], "job_try": 1}, service, pipeline, event, exc)
        return
    error = f"{type(exc).__name__}: {exc}"[:4000]
    await _note_retry(ctx["redis"], service, event, 1, delays[0], error)
    await ctx["redis"].enqueue_job(
        "handle_event",
        event,
        prior_tries=1,
        _job_id=f"evt:{service}:{event['id']}",
        _queue_name=queue_name(service),
        _defer_by=delays[0],
    )


async def after_failure(
    ctx: dict[str, Any],
    service: str,
    pipeline: EventPipeline,
    event: dict[str, Any],
    exc: Exception,
    prior_tries: int = 0,
) -> None:
    """Retry the event with back-off, or park it as a dead letter after the last try.

    ``prior_tries``: failed tries before this job (the one inside a batch)."""
    tries = int(ctx.get("job_try") or 1) + prior_tries
    delays = retry_delays()
    redis = ctx["redis"]
    fail_key = f"kpp:evtfail:{service}:{event['id']}"
    error = f"{type(exc).__name__}: {exc}"[:4000]
    if tries <= len(delays) and not parks_at_once(exc):
        await _note_retry(redis, service, event, tries, delays[tries - 1], error)
        raise Retry(defer=delays[tries - 1]) from exc
    first = None
    try:
        first = await redis.get(fail_key)
    except Exception:
        pass
    first_at = datetime.fromisoformat(first.decode()) if first else clock.now()
    try:
        await park(pipeline, event, error=error, tries=tries, first_failed_at=first_at)
    except Exception as park_exc:  # the database is away: keep the job, try again later
        log.error("%s: cannot park event %s yet: %r", service, event["id"], park_exc)
        raise Retry(defer=delays[-1] if delays else 60) from park_exc
    log.error(
        "%s: event %s (%s) parked as a dead letter after %d tries: %s",
        service,
        event["id"],
        event["type"],
        tries,
        error,
    )
    try:
        await redis.incr(_metric_key(service, "event_dead_letters_total"))
        await redis.delete(fail_key)
    except Exception:
        pass


async def park(
    pipeline: EventPipeline, event: dict[str, Any], *, error: str, tries: int, first_failed_at: datetime
) -> None:
    t = pipeline.tables.dead_letter
    now = clock.now()
    async with job_session() as session:
        stmt = pg_insert(t).values(
            event_id=uuid.UUID(event["id"]),
            type=event["type"],
            source=event["source"],
            event=event,
            error=error,
            tries=tries,
            first_failed_at=first_failed_at,
            last_failed_at=now,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.c.event_id],
                set_={
                    "error": stmt.excluded.error,
                    "tries": t.c.tries + stmt.excluded.tries,
                    "last_failed_at": now,
                },
            )
        )


async def acknowledge_many(redis: Any, service: str, events: list[dict[str, Any]]) -> None:
    """Acknowledge a batch: one RPUSH per producer."""
    by_source: dict[str, list[str]] = {}
    for event in events:
        by_source.setdefault(event["source"], []).append(f"{service}|{event['id']}")
    for source, items in by_source.items():
        try:
            await redis.rpush(ack_key(source), *items)
        except Exception as exc:
            log.warning(
                "%s: %d acknowledgements to %s not sent (%r); they will be re-sent",
                service,
                len(items),
                source,
                exc,
            )


async def acknowledge(redis: Any, service: str, event: dict[str, Any]) -> None:
    """Tell the producer this event is applied or parked; a lost ack only means a re-send."""
    try:
        await redis.rpush(ack_key(event["source"]), f"{service}|{event['id']}")
    except Exception as exc:
        log.warning("%s: acknowledgement of %s not sent (%r); it will be re-sent", service, event["id"], exc)


async def event_metrics(service: str, pipeline: EventPipeline, redis: Any) -> str:
    """Prometheus lines: retries and dead letters counted by the worker, dead letters held."""
    lines = []
    for name, help_ in (
        ("event_retries_total", "Event handler retries"),
        ("event_dead_letters_total", "Events parked as dead letters"),
    ):
        value = await redis.get(_metric_key(service, name))
        lines += [
            f"# HELP kpp_{name} {help_}",
            f"# TYPE kpp_{name} counter",
            f'kpp_{name}{{service="{service}"}} {int(value or 0)}',
        ]
    async with job_session() as session:
        held = await session.scalar(select(func.count()).select_from(pipeline.tables.dead_letter))
    lines += [
        "# HELP kpp_dead_letters Dead letters waiting for an operator",
        "# TYPE kpp_dead_letters gauge",
        f'kpp_dead_letters{{service="{service}"}} {held}',
    ]
    return "\n".join(lines) + "\n"


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: uuid.UUID
    type: str
    source: str
    error: str
    tries: int
    first_failed_at: datetime
    last_failed_at: datetime
    event: dict[str, Any]


class DiscardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=2, max_length=500, description="丢弃原因（必填）")


class ReplayResult(BaseModel):
    replayed: list[uuid.UUID]
    failed: list[DeadLetterOut]


async def list_dead_letters(
    session: AsyncSession, pipeline: EventPipeline, type_: str | None, limit: int
) -> list[Any]:
    t = pipeline.tables.dead_letter
    q = select(t).order_by(t.c.first_failed_at).limit(limit)
    if type_:
        q = q.where(t.c.type == type_)
    return list((await session.execute(q)).all())


async def replay(
    session: AsyncSession, pipeline: EventPipeline, handlers: Handlers, principal: Any, rows: list[Any]
) -> ReplayResult:
    """Apply parked events again, each in its own savepoint; applied ones leave the table."""
    t = pipeline.tables.dead_letter
    result = ReplayResult(replayed=[], failed=[])
    for row in rows:
        try:
            async with session.begin_nested():
                await pipeline.consume_once(session, row.event, handlers)
                await session.execute(delete(t).where(t.c.event_id == row.event_id))
                await pipeline.audit(
                    session,
                    principal,
                    entity="dead_letter",
                    entity_id=row.event_id,
                    action="replay",
                    before={"type": row.type, "error": row.error, "tries": row.tries},
                )
            result.replayed.append(row.event_id)
        except Exception as exc:
            log.warning("replay of %s failed again: %r", row.event_id, exc)
            failed = DeadLetterOut.model_validate(row)
            failed.error = f"{type(exc).__name__}: {exc}"[:4000]
            result.failed.append(failed)
    return result


def dead_letter_router(pipeline: EventPipeline, handlers: Handlers) -> APIRouter:
    """The consumer's internal endpoints the gateway's admin paths call (admin only)."""
    router = APIRouter(prefix="/internal/dead-letters", route_class=UnitOfWorkRoute, include_in_schema=False)
    t = pipeline.tables.dead_letter

    async def one(session: AsyncSession, event_id: uuid.UUID) -> Any:
        row = (await session.execute(select(t).where(t.c.event_id == event_id).with_for_update())).first()
        if row is None:
            raise NotFound("死信不存在或已处理", code="dead_letter.not_found")
        return row

    @router.get("", response_model=list[DeadLetterOut])
    async def list_(
        session: DbSession,
        principal: CurrentPrincipal,
        type_: Annotated[str | None, Query(alias="type", max_length=80)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[Any]:
        principal.require_role(Role.admin)
        return await list_dead_letters(session, pipeline, type_, limit)

    @router.post("/{event_id}/replay", response_model=ReplayResult)
    async def replay_one(
        event_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal
    ) -> ReplayResult:
        principal.require_role(Role.admin)
        result = await replay(session, pipeline, handlers, principal, [await one(session, event_id)])
        if result.failed:
            raise Conflict(f"重放仍然失败：{result.failed[0].error}", code="dead_letter.replay_failed")
        return result

    @router.post("/replay", response_model=ReplayResult)
    async def replay_type(
        session: DbSession,
        principal: CurrentPrincipal,
        type_: Annotated[str, Query(alias="type", min_length=1, max_length=80)],
        limit: Annotated[int, Query(ge=1, le=500)] = 500,
    ) -> ReplayResult:
        principal.require_role(Role.admin)
        rows = (
            await session.execute(
                select(t)
                .where(t.c.type == type_)
                .order_by(t.c.first_failed_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return await replay(session, pipeline, handlers, principal, list(rows))

    @router.post("/{event_id}/discard", status_code=204)
    async def discard(
        event_id: uuid.UUID, body: DiscardIn, session: DbSession, principal: CurrentPrincipal
    ) -> None:
        principal.require_role(Role.admin)
        row = await one(session, event_id)
        await session.execute(delete(t).where(t.c.event_id == event_id))
        await pipeline.audit(
            session,
            principal,
            entity="dead_letter",
            entity_id=event_id,
            action="discard",
            before=DeadLetterOut.model_validate(row).model_dump(mode="json"),
            reason=body.reason,
        )

    return router
