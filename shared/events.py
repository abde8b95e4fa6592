"""The event pipeline: transactional outbox → relay → consumers' arq queues → idempotent inbox.

architecture (must): an event is written in the same transaction as the change that
causes it; a relay moves it to the consuming services' queues; a consumer processes an
event id once, however often it is delivered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import MetaData, delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock, contracts
from shared.contracts import EventContract
from shared.event_tables import AuditRow, EventRow, RowWriter, add_pipeline_tables, audit_row, event_row
from shared.settings import get_settings

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


# events per relay pass (one transaction, one batch job per subscriber)
RELAY_BATCH = 500


def queue_name(service: str) -> str:
    return f"kpp:{service}"


class EventPipeline:
    """One service's outbox, inbox and audit log."""

    def __init__(self, service: str, metadata: MetaData) -> None:
        self.service = service
        self.tables = add_pipeline_tables(metadata)
        self.writer = RowWriter(self.tables)  # the one writer of outbox and audit rows
        # a batch's inbox rows in one statement; a duplicate (even within the batch) is skipped
        self._inbox_sql = text(f"""
            INSERT INTO {self.tables.inbox.fullname} (event_id, type, source, processed_at)
            SELECT v.event_id, v.type, v.source, CAST(:now AS timestamptz)
              FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]), CAST(:sources AS text[]))
                   AS v(event_id, type, source)
            ON CONFLICT DO NOTHING
            RETURNING event_id""")
        # the relay's and the acknowledgements' statements take arrays, so each is compiled
        # once: a 1,000-row VALUES list or IN list was compiled anew on every pass and cost a
        # third of the relay's CPU (py-spy, bench.events_pipeline)
        d, t = self.tables.delivery.fullname, self.tables.outbox.fullname
        self._deliveries_sql = text(f"""
            INSERT INTO {d} (event_id, consumer, sent_at)
            SELECT v.event_id, v.consumer, CAST(:now AS timestamptz)
              FROM unnest(CAST(:ids AS uuid[]), CAST(:consumers AS text[])) AS v(event_id, consumer)
            ON CONFLICT DO NOTHING""")
        self._published_sql = text(
            f"UPDATE {t} SET published_at = CAST(:now AS timestamptz) WHERE id = ANY(CAST(:ids AS uuid[]))"
        )
        self._acked_sql = text(f"""
            UPDATE {d} AS d SET acked_at = CAST(:now AS timestamptz)
              FROM unnest(CAST(:ids AS uuid[]), CAST(:consumers AS text[])) AS v(event_id, consumer)
             WHERE d.event_id = v.event_id AND d.consumer = v.consumer AND d.acked_at IS NULL""")

    async def emit(self, session: AsyncSession, event: EventContract, *, key: str | None = None) -> uuid.UUID:
        """Write an event in the caller's transaction (it is published only if that commits).

        ``event`` is the type's contract (shared.contracts), validated when it was built.
        """
        row = event_row(event, key=key)
        await self.writer.write(session, [row], [])
        return row.id

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
        row = audit_row(
            principal,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=before,
            after=after,
            reason=reason,
        )
        await self.writer.write(session, [], [row])

    async def write(
        self, session: AsyncSession, *, events: Sequence[EventRow] = (), audits: Sequence[AuditRow] = ()
    ) -> None:
        """A change's events (``event_row``) and audit rows (``audit_row``) in ONE statement,
        in the caller's transaction: the batch form of ``emit`` + ``audit`` (emit_many and
        audit_many in one)."""
        await self.writer.write(session, list(events), list(audits))

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

    async def relay(self, session: AsyncSession, redis: Any, *, batch: int = RELAY_BATCH) -> int:
        """Move up to ``batch`` unpublished events to their subscribers' queues (one pass, one
        transaction); returns how many moved. Each subscriber gets ONE ``handle_events`` job
        carrying all of its events of the pass (shared.consume applies them in one
        transaction), not one job per event: issue 11, ≥ 2,000 events/s.

        Rows are locked with SKIP LOCKED, so two relays never publish the same row. Each
        (event, consumer) gets an ``outbox_delivery`` row that stays unacknowledged until
        the consumer reports the event applied or parked; unacknowledged deliveries are
        re-sent after ``event_redeliver_after_s`` (Redis may have lost them). The job id is
        the same every time, so arq ignores a re-send while the first copy still exists, and
        the consumer's inbox absorbs any duplicate that gets through (docs/events.md).
        """
        await self.take_acks(session, redis)
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
        now = clock.now()
        ids, consumers = [], []
        per_consumer: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            event = self._event(row)
            for consumer in SUBSCRIPTIONS.get(row.type, ()):
                per_consumer.setdefault(consumer, []).append(event)
                ids.append(row.id)
                consumers.append(consumer)
        for consumer, events in per_consumer.items():
            # the first event's id names the batch: each event is published once
            await redis.enqueue_job(
                "handle_events",
                events,
                _job_id=f"evts:{consumer}:{events[0]['id']}",
                _queue_name=queue_name(consumer),
            )
        if ids:
            await session.execute(self._deliveries_sql, {"ids": ids, "consumers": consumers, "now": now})
        if rows:
            await session.execute(self._published_sql, {"ids": [r.id for r in rows], "now": now})
        await self.resend_unacknowledged(session, redis, batch=batch)
        return len(rows)

    def _event(self, row: Any) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "type": row.type,
            "key": row.key,
            "source": self.service,
            "payload": row.payload,
            "request_id": row.request_id,
            "created_at": row.created_at.isoformat(),
        }

    @staticmethod
    async def _send(redis: Any, consumer: str, event: dict[str, Any]) -> None:
        """A single event's job: re-sends and retries (one job id per event and consumer, so
        arq ignores a re-send while a retry of the same event waits)."""
        await redis.enqueue_job(
            "handle_event", event, _job_id=f"evt:{consumer}:{event['id']}", _queue_name=queue_name(consumer)
        )

    async def take_acks(self, session: AsyncSession, redis: Any, *, batch: int = 5000) -> int:
        """Record the consumers' acknowledgements (``consumer|event id`` in ack_key)."""
        raw = await redis.lpop(ack_key(self.service), batch)
        if not raw:
            return 0
        pairs = set()
        for item in raw:
            consumer, _, event_id = (item.decode() if isinstance(item, bytes) else item).partition("|")
            try:
                pairs.add((uuid.UUID(event_id), consumer))
            except ValueError:
                log.warning("malformed acknowledgement %r ignored", item)
        if pairs:
            ids, consumers = zip(*pairs, strict=True)
            await session.execute(
                self._acked_sql, {"ids": list(ids), "consumers": list(consumers), "now": clock.now()}
            )
        return len(pairs)

    async def resend_unacknowledged(self, session: AsyncSession, redis: Any, *, batch: int) -> int:
        """Re-send deliveries no consumer acknowledged within the redelivery interval."""
        d, t = self.tables.delivery, self.tables.outbox
        now = clock.now()
        cutoff = now - timedelta(seconds=get_settings().event_redeliver_after_s)
        rows = (
            await session.execute(
                select(d.c.consumer, t.c.id, t.c.type, t.c.key, t.c.payload, t.c.request_id, t.c.created_at)
                .join(t, t.c.id == d.c.event_id)
                .where(d.c.acked_at.is_(None), d.c.sent_at < cutoff)
                .order_by(d.c.sent_at)
                .limit(batch)
                .with_for_update(of=d, skip_locked=True)
            )
        ).all()
        for row in rows:
            await self._send(redis, row.consumer, self._event(row))
        if rows:
            await session.execute(
                update(d)
                .where(tuple_(d.c.event_id, d.c.consumer).in_([(r.id, r.consumer) for r in rows]))
                .values(sent_at=now, sends=d.c.sends + 1)
            )
            log.info("%s: re-sent %d unacknowledged deliveries", self.service, len(rows))
        return len(rows)

    async def prune(self, session: AsyncSession) -> dict[str, int]:
        """Delete what no guarantee needs any more (KPP_EVENT_RETENTION_DAYS, default 30):
        outbox rows published before the cutoff whose every delivery was acknowledged (with
        those deliveries), and inbox rows processed before it. An unacknowledged delivery
        keeps its event — it may still be re-sent — and dead letters stay until an
        administrator replays or discards them."""
        cutoff = clock.now() - timedelta(days=get_settings().event_retention_days)
        t, d, inbox = self.tables.outbox, self.tables.delivery, self.tables.inbox
        unacked = select(d.c.event_id).where(d.c.event_id == t.c.id, d.c.acked_at.is_(None))
        done = select(t.c.id).where(t.c.published_at < cutoff, ~unacked.exists())
        deliveries = await session.execute(delete(d).where(d.c.event_id.in_(done)))
        events = await session.execute(delete(t).where(t.c.id.in_(done)))
        inboxed = await session.execute(delete(inbox).where(inbox.c.processed_at < cutoff))
        return {"outbox": events.rowcount, "deliveries": deliveries.rowcount, "inbox": inboxed.rowcount}

    async def consume_once(
        self,
        session: AsyncSession,
        event: dict[str, Any],
        handlers: dict[str, Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]],
    ) -> bool:
        """Apply an event once: the inbox row and the handler's effects share a transaction.

        An event type without a handler here is an error (it becomes a dead letter), not a
        silent success: SUBSCRIPTIONS promised this service would handle it.
        """
        if not await self.take_into_inbox(session, [event]):
            log.info("event %s (%s) already processed; skipped", event["id"], event["type"])
            return False
        await self.apply(session, event, handlers)
        return True

    async def take_into_inbox(self, session: AsyncSession, events: list[dict[str, Any]]) -> set[str]:
        """Insert the events' inbox rows in one statement; the ids not processed before."""
        if not events:
            return set()
        inserted = await session.execute(
            self._inbox_sql,
            {
                "ids": [uuid.UUID(e["id"]) for e in events],
                "types": [e["type"] for e in events],
                "sources": [e["source"] for e in events],
                "now": clock.now(),
            },
        )
        return {str(r.event_id) for r in inserted}

    async def apply(
        self,
        session: AsyncSession,
        event: dict[str, Any],
        handlers: dict[str, Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]],
    ) -> None:
        """Run the event's handler on its parsed contract.

        An event type without a handler here is an error (it becomes a dead letter), not a
        silent success: SUBSCRIPTIONS promised this service would handle it. The handler
        sees the contract's model, never the raw JSON (ContractViolation → a dead letter at
        once: shared.deadletters).
        """
        handler = handlers.get(event["type"])
        if handler is None:
            raise UnhandledEvent(f"{self.service} has no handler for {event['type']}")
        await handler(session, {**event, "payload": contracts.parse(event["type"], event["payload"])})

    async def apply_many(
        self,
        session: AsyncSession,
        events: list[dict[str, Any]],
        handlers: dict[str, Callable[..., Awaitable[None]]],
    ) -> None:
        """Run a set-based handler (``handler.many``) once for consecutive events of a type."""
        handler = handlers[events[0]["type"]]
        await handler.many(
            session,
            [  # type: ignore[attr-defined]
                {**e, "payload": contracts.parse(e["type"], e["payload"])} for e in events
            ],
        )


class UnhandledEvent(Exception):
    """An event reached a consumer that has no handler for its type."""


def ack_key(producer: str) -> str:
    """The Redis list where consumers acknowledge a producer's events."""
    return f"kpp:acks:{producer}"
