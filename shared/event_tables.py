"""The pipeline tables each service keeps in its own schema, and the one writer of their
outbox and audit rows.

outbox (what it produced), outbox_delivery (which consumer has acknowledged which event),
inbox (what it consumed), dead_letter (what it could not consume) and audit_log.

Every outbox and audit row of every service is written by ``RowWriter`` (issue 16:
``tests/spine/test_one_writer.py`` greps the tree for any other INSERT or COPY into them):
``write`` puts a request's events and audit rows in with ONE statement, ``copy`` is the bulk
import's COPY, and ``insert_ctes`` / ``events_from`` / ``audits_from`` are the same inserts
as parts of a caller's own set-based statement (the approvals intake and sweeper).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

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
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.jsonutil import dumps
from shared.logging import request_id_var


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


class EventRow(NamedTuple):
    """An outbox row; ``payload`` is the contract's JSON text (``EventContract.payload_json``)."""

    id: uuid.UUID
    type: str
    key: str | None
    payload: str
    request_id: str | None
    created_at: datetime


class AuditRow(NamedTuple):
    """An audit row; ``before`` / ``after`` are JSON text (or None)."""

    actor: str
    actor_role: str
    actor_unit: str | None
    entity: str
    entity_id: str
    action: str
    before: str | None
    after: str | None
    reason: str | None
    request_id: str | None
    at: datetime


EVENT_COLUMNS = EventRow._fields
AUDIT_COLUMNS = AuditRow._fields
_EVENT_TYPES = ("uuid", "text", "text", "text", "text", "timestamptz")
_AUDIT_TYPES = ("text",) * 10 + ("timestamptz",)
_JSON_COLUMNS = {"payload", "before", "after"}
_EVENT_NAMES = tuple("e_" + c for c in EVENT_COLUMNS)
_AUDIT_NAMES = tuple("a_" + c for c in AUDIT_COLUMNS)


def event_row(event: Any, *, key: str | None, now: datetime | None = None) -> EventRow:
    """The outbox row of an event contract (shared.contracts), written in the caller's
    transaction by ``RowWriter.write``."""
    if not getattr(event, "event_type", None):
        raise TypeError(f"{type(event).__name__} is not an event contract")
    return EventRow(
        uuid.uuid4(), event.event_type, key, event.payload_json(), request_id_var.get(), now or clock.now()
    )


def audit_row(
    principal: Any,
    *,
    entity: str,
    entity_id: Any,
    action: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> AuditRow:
    """Who changed what, when, from what to what, and why (architecture: must)."""
    return AuditRow(
        principal.subject,
        str(principal.role),
        principal.unit_id,
        entity,
        str(entity_id),
        action,
        None if before is None else dumps(before),
        None if after is None else dumps(after),
        reason,
        request_id_var.get(),
        now or clock.now(),
    )


def _unnest_insert(
    table: Table, columns: tuple[str, ...], types: tuple[str, ...], prefix: str, guard: str
) -> str:
    arrays = ", ".join(f"CAST(:{prefix}{c} AS {t}[])" for c, t in zip(columns, types, strict=True))
    values = ", ".join(f"CAST(v.{c} AS jsonb)" if c in _JSON_COLUMNS else f"v.{c}" for c in columns)
    where = f" WHERE {guard}" if guard else ""
    # ORDER BY the arrays' order: identity columns (outbox seq, audit id) follow the caller's order
    return (
        f"INSERT INTO {table.fullname} ({', '.join(columns)}) SELECT {values} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS v({', '.join(columns)}, ord){where} ORDER BY v.ord"
    )


def _values_insert(
    table: Table, columns: tuple[str, ...], types: tuple[str, ...], prefix: str, guard: str
) -> str:
    values = ", ".join(
        f"CAST(:{prefix}{c} AS {'jsonb' if c in _JSON_COLUMNS else t})"
        for c, t in zip(columns, types, strict=True)
    )
    where = f" WHERE {guard}" if guard else ""
    return f"INSERT INTO {table.fullname} ({', '.join(columns)}) SELECT {values}{where}"


def _insert_select(table: Table, columns: tuple[str, ...], source: str, order_by: str) -> str:
    names = ", ".join(columns)
    order = f" ORDER BY {order_by}" if order_by else ""
    return f"INSERT INTO {table.fullname} ({names}) SELECT {names} FROM {source}{order}"


class RowWriter:
    """The one writer of a service's outbox and audit rows (issue 16)."""

    def __init__(self, tables: PipelineTables) -> None:
        self.outbox, self.audit = tables.outbox, tables.audit
        self._write = text(f"WITH {self.insert_ctes()} SELECT 1")

    def insert_ctes(self, guard: str = "") -> str:
        """``events AS (INSERT …), audits AS (INSERT …)`` over the arrays ``params`` gives,
        for a caller's own ``WITH`` statement; ``guard`` (SQL) must hold for rows to go in."""
        events = _unnest_insert(self.outbox, EVENT_COLUMNS, _EVENT_TYPES, "e_", guard)
        audits = _unnest_insert(self.audit, AUDIT_COLUMNS, _AUDIT_TYPES, "a_", guard)
        return f"events AS ({events}), audits AS ({audits})"

    @staticmethod
    def params(events: list[EventRow], audits: list[AuditRow]) -> dict[str, list]:
        """The arrays ``insert_ctes`` reads (one per column)."""
        out: dict[str, list] = {}
        for prefix, rows, columns in (("e_", events, EVENT_COLUMNS), ("a_", audits, AUDIT_COLUMNS)):
            cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
            out |= {prefix + c: list(v) for c, v in zip(columns, cols, strict=True)}
        return out

    def insert_row_ctes(self, guard: str = "") -> str:
        """``insert_ctes`` for exactly one event and one audit row, from the scalar parameters
        ``row_params`` gives (issue 15: the driver encodes a one-element array per column at
        about twice the cost of the value itself, on a request's hottest write)."""
        events = _values_insert(self.outbox, EVENT_COLUMNS, _EVENT_TYPES, "e_", guard)
        audits = _values_insert(self.audit, AUDIT_COLUMNS, _AUDIT_TYPES, "a_", guard)
        return f"events AS ({events}), audits AS ({audits})"

    @staticmethod
    def row_params(event: EventRow, audit: AuditRow) -> dict[str, Any]:
        """The scalars ``insert_row_ctes`` reads."""
        return dict(zip(_EVENT_NAMES, event, strict=True)) | dict(zip(_AUDIT_NAMES, audit, strict=True))

    async def write(self, session: AsyncSession, events: list[EventRow], audits: list[AuditRow]) -> None:
        """Events and audit rows in the session's transaction: one statement for both."""
        if events or audits:
            await session.execute(self._write, self.params(events, audits))

    def events_from(self, source: str, *, order_by: str = "") -> str:
        """INSERT of outbox rows from ``source`` (a CTE or subquery, SQL) whose columns are
        named as the outbox's (``EVENT_COLUMNS``; payload jsonb), for set-based statements."""
        return _insert_select(self.outbox, EVENT_COLUMNS, source, order_by)

    def audits_from(self, source: str, *, order_by: str = "") -> str:
        """INSERT of audit rows from ``source`` named as ``AUDIT_COLUMNS`` (before/after jsonb)."""
        return _insert_select(self.audit, AUDIT_COLUMNS, source, order_by)

    async def copy(self, session: AsyncSession, events: list[EventRow], audits: list[AuditRow]) -> None:
        """COPY the rows in the session's own transaction (bulk imports: no statement per row)."""
        for table, columns, rows in (
            (self.audit, AUDIT_COLUMNS, audits),
            (self.outbox, EVENT_COLUMNS, events),
        ):
            if rows:
                await copy_records(session, table, list(columns), rows)


async def copy_records(session: AsyncSession, table: Table, columns: list[str], records: list[tuple]) -> None:
    """COPY records (JSON columns as text) into ``table`` in the session's transaction,
    through the driver connection SQLAlchemy hands out (``get_raw_connection``, public)."""
    if not records:
        return
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table.name, schema_name=table.schema, columns=columns, records=records)
