"""The event pipeline: transactional outbox → relay → consumers' arq queues → idempotent inbox.

architecture (must): an event is written in the same transaction as the change that
causes it; a relay moves it to the consuming services' queues; a consumer processes an
event id once, however often it is delivered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.jsonutil import to_jsonable
from shared.logging import request_id_var

log = logging.getLogger("kpp.events")

# Which services consume which event types. The relay copies each outbox event to the
# queue of every subscriber; types without subscribers are only marked published.
# "gateway" turns each event into webhook deliveries for the platforms subscribed to it.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # registry
    "project.created": ("scoring", "gateway"),
    "project.updated": ("scoring", "gateway"),
    "project.stage_changed": ("scoring", "gateway"),
    "project.progress_reported": ("scoring", "gateway"),
    "project.report_missing": ("scoring", "gateway"),
    "project.revocation_warning": ("scoring", "gateway"),
    "project.revocation_due": ("scoring", "gateway"),
    "project.revoked": ("scoring", "gateway"),
    # approvals
    "approval.case_opened": ("scoring", "gateway"),
    "approval.step_completed": ("scoring", "gateway"),
    "approval.warning": ("scoring", "gateway"),
    "approval.overdue": ("issues", "scoring", "gateway"),
    "approval.completed": ("scoring", "gateway"),
    "approval.rejected": ("scoring", "gateway"),
    "approval.deadline_changed": ("scoring", "gateway"),
    "approval.missing_items_overdue": ("scoring", "gateway"),
    "calendar.year_changed": ("issues", "gateway"),
    # issues
    "issue.created": ("scoring", "gateway"),
    "issue.assigned": ("scoring", "gateway"),
    "issue.overdue": ("scoring", "gateway"),
    "issue.closure_requested": ("scoring", "gateway"),
    "issue.closed": ("scoring", "gateway"),
    "issue.reopened": ("scoring", "gateway"),
    # scoring (no KPP consumer besides the gateway's webhooks)
    "assignment.issued": ("gateway",),
    "assignment.completed": ("gateway",),
    "assignment.judged": ("gateway",),
    "notice.issued": ("gateway",),
    "summons.issued": ("gateway",),
    "summons.held": ("gateway",),
    "assessment.drafted": ("gateway",),
    "assessment.published": ("gateway",),
}


def queue_name(service: str) -> str:
    return f"kpp:{service}"


@dataclass(frozen=True)
class PipelineTables:
    outbox: Table
    inbox: Table
    audit: Table


def add_pipeline_tables(metadata: MetaData) -> PipelineTables:
    """The outbox, inbox and audit log of one service, in that service's schema."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("seq", BigInteger, Identity(), nullable=False, unique=True),
        Column("type", String(80), nullable=False),
        Column("key", String(120)),
        Column("payload", JSONB, nullable=False),
        Column("request_id", String(64)),
        Column("created_at", DateTime(timezone=True),
               nullable=False, default=clock.now, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("type", String(80), nullable=False),
        Column("source", String(40), nullable=False),
        Column("processed_at", DateTime(timezone=True),
               nullable=False, default=clock.now, server_default=func.now()),
    )
    audit = Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()),
        Column("actor", String(120), nullable=False),
        Column("actor_role", String(20), nullable=False),
        Column("actor_unit", String(40)),
        Column("entity", String(40), nullable=False),
        Column("entity_id", String(64), nullable=False),
        Column("action", String(60), nullable=False),
        Column("before", JSONB),
        Column("after", JSONB),
        Column("reason", Text),
        Column("request_id", String(64)),
        Index("ix_audit_log_entity", "entity", "entity_id", "id"),
    )
    return PipelineTables(outbox, inbox, audit)


class EventPipeline:
    """One service's outbox, inbox and audit log."""

    def __init__(self, service: str, metadata: MetaData) -> None:
        self.service = service
        self.tables = add_pipeline_tables(metadata)

    async def emit(
        self, session: AsyncSession, type_: str, payload: dict[str, Any], *, key: str | None = None
    ) -> uuid.UUID:
        """Write an event in the caller's transaction (it is published only if that commits)."""
        event_id = uuid.uuid4()
        await session.execute(
            insert(self.tables.outbox).values(
                id=event_id,
                type=type_,
                key=key,
                payload=to_jsonable(payload),
                request_id=request_id_var.get(),
            )
        )
        return event_id

    async def audit(
        self,
        session: AsyncSession,
        principal: Any,
        *,
        entity: str,
        entity_id: Any,
        action: str,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
    ) -> None:
        """Record who changed what, when, from what to what, and why (architecture: must)."""
        await session.execute(
            insert(self.tables.audit).values(
                actor=principal.subject,
                actor_role=str(principal.role),
                actor_unit=principal.unit_id,
                entity=entity,
                entity_id=str(entity_id),
                action=action,
                before=to_jsonable(before) if before is not None else None,
                after=to_jsonable(after) if after is not None else None,
                reason=reason,
                request_id=request_id_var.get(),
            )
        )

    async def history(self, session: AsyncSession, entity: str, entity_id: Any) -> list[dict]:
        t = self.tables.audit
        rows = await session.execute(
            select(t).where(t.c.entity == entity, t.c.entity_id == str(entity_id)).order_by(t.c.id)
        )
        return [
            {
                "at": r.at,
                "actor": r.actor,
                "actor_role": r.actor_role,
                "action": r.action,
                "before": r.before,
                "after": r.after,
                "reason": r.reason,
            }
            for r in rows
        ]

    async def relay(self, session: AsyncSession, redis: Any, *, batch: int = 500) -> int:
        """Move unpublished events to their subscribers' queues; returns how many moved.

        Rows are locked with SKIP LOCKED, so two relays never publish the same row; a crash
        between enqueue and commit re-sends an event, which the consumer's inbox absorbs.
        """
        t = self.tables.outbox
        rows = (
            await session.execute(
                select(t.c.id, t.c.type, t.c.key, t.c.payload, t.c.request_id, t.c.created_at)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.seq)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            event = {
                "id": str(row.id),
                "type": row.type,
                "key": row.key,
                "source": self.service,
                "payload": row.payload,
                "request_id": row.request_id,
                "created_at": row.created_at.isoformat(),
            }
            for consumer in SUBSCRIPTIONS.get(row.type, ()):
                await redis.enqueue_job(
                    "handle_event", event,
                    _job_id=f"evt:{consumer}:{row.id}", _queue_name=queue_name(consumer),
                )
        if rows:
            await session.execute(
                update(t)
                .where(t.c.id.in_([r.id for r in rows]))
                .values(published_at=clock.now())
            )
        return len(rows)

    async def consume_once(
        self,
        session: AsyncSession,
        event: dict[str, Any],
        handlers: dict[str, Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]],
    ) -> bool:
        """Apply an event once: the inbox row and the handler's effects share a transaction."""
        handler = handlers.get(event["type"])
        inserted = await session.execute(
            pg_insert(self.tables.inbox)
            .values(event_id=uuid.UUID(event["id"]), type=event["type"], source=event["source"])
            .on_conflict_do_nothing()
            .returning(self.tables.inbox.c.event_id)
        )
        if inserted.first() is None:
            log.info("event %s (%s) already processed; skipped", event["id"], event["type"])
            return False
        if handler is not None:
            await handler(session, event)
        return True
