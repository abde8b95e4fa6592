"""The pipeline tables each service keeps in its own schema.

outbox (what it produced), outbox_delivery (which consumer has acknowledged which event),
inbox (what it consumed), dead_letter (what it could not consume) and audit_log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared import clock


@dataclass(frozen=True)
class PipelineTables:
    outbox: Table
    inbox: Table
    audit: Table
    delivery: Table
    dead_letter: Table


def add_pipeline_tables(metadata: MetaData) -> PipelineTables:
    """The outbox, deliveries, inbox, dead letters and audit log of one service."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("seq", BigInteger, Identity(), nullable=False, unique=True),
        Column("type", String(80), nullable=False),
        Column("key", String(120)),
        Column("payload", JSONB, nullable=False),
        Column("request_id", String(64)),
        Column(
            "created_at",
            DateTime(timezone=True),
            nullable=False,
            default=clock.now,
            server_default=func.now(),
        ),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
    )
    # one row per (event, consumer) the relay sent; acked_at is set when the consumer
    # reports the event applied (or parked as a dead letter). Unacknowledged rows are
    # re-sent: Redis is never the only copy of an event (docs/events.md).
    delivery = Table(
        "outbox_delivery",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("consumer", String(40), primary_key=True),
        Column("sent_at", DateTime(timezone=True), nullable=False),
        Column("sends", Integer, nullable=False, server_default=text("1")),
        Column("acked_at", DateTime(timezone=True)),
        Index("ix_outbox_delivery_unacked", "sent_at", postgresql_where=text("acked_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("type", String(80), nullable=False),
        Column("source", String(40), nullable=False),
        Column(
            "processed_at",
            DateTime(timezone=True),
            nullable=False,
            default=clock.now,
            server_default=func.now(),
        ),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("type", String(80), nullable=False),
        Column("source", String(40), nullable=False),
        Column("event", JSONB, nullable=False),
        Column("error", Text, nullable=False),
        Column("tries", Integer, nullable=False),
        Column("first_failed_at", DateTime(timezone=True), nullable=False),
        Column("last_failed_at", DateTime(timezone=True), nullable=False),
        Index("ix_dead_letter_type", "type", "last_failed_at"),
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
    return PipelineTables(outbox, inbox, audit, delivery, dead_letter)
