"""Issue 16: one writer of outbox and audit rows (``shared.event_tables.RowWriter``).

Every outbox and audit row is written by that one module; here a grep of the production
tree fails on any other INSERT or COPY into those tables, and the writer's batch form is
held to its promise: a change's events and audit rows in one statement, in their order.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import event, select

from services.registry.models import pipeline
from shared import contracts
from shared.db import sessionmaker
from shared.event_tables import audit_row, event_row
from shared.identity import SYSTEM_PRINCIPAL

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "shared" / "event_tables.py"
TABLE = r"[\w.{}\"]*\b(?:outbox|audit_log)\b"
WRITES = [
    re.compile(rf"\bINSERT\s+INTO\s+{TABLE}", re.IGNORECASE),  # SQL text
    re.compile(rf"\bCOPY\s+{TABLE}", re.IGNORECASE),
    re.compile(r"\binsert\(\s*[\w.]*\b(?:outbox|audit)\b"),  # Core insert(pipeline.tables.outbox)
    re.compile(r"copy_records\w*\([^)]*\b(?:outbox|audit)\b"),  # a COPY helper given those tables
    # a COPY whose table list holds the pipeline tables (as registry's import had)
    re.compile(r"\(\s*[\w.]*tables\.(?:outbox|audit)\s*,"),
]


def foreign_writes(source: str) -> list[str]:
    """The lines of ``source`` that write outbox or audit rows."""
    return [m.group(0) for pattern in WRITES for m in pattern.finditer(source)]


def test_the_grep_sees_each_way_the_tables_were_written_before():
    # issue 16: the five old writers, as they were written; the grep below must see them
    old = {
        "thresholds.py": "INSERT INTO approvals.outbox (id, type, key, payload, request_id)",
        "intake_sql.py": "    INSERT INTO approvals.audit_log (actor, actor_role, actor_unit",
        "events.py": "await session.execute(insert(self.tables.outbox).values(id=event_id))",
        "import_write.py": "TABLES = [(Project.__table__, P_COLS), (pipeline.tables.audit, A_COLS)]",
        "copy": "await copy_records(session, pipeline.tables.outbox, cols, rows)",
        "format": 'f"INSERT INTO {schema}.outbox (id) VALUES ($1)"',
    }
    assert {name: bool(foreign_writes(text)) for name, text in old.items()} == dict.fromkeys(old, True)
    assert foreign_writes("SELECT * FROM approvals.outbox; INSERT INTO approvals.case_event") == []


def test_no_outbox_or_audit_row_is_written_outside_the_one_writer():
    # issue 16: one module owns the outbox and audit tables' shape and writes their rows
    found = {}
    for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]:
        if path == WRITER or "migrations" in path.parts:
            continue
        hits = foreign_writes(path.read_text(encoding="utf-8"))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}


async def test_a_changes_events_and_audit_rows_go_in_with_one_statement(uniq):
    # issue 15/16: the writer puts a change's audit row and outbox rows in one round trip,
    # in the caller's transaction and in the caller's order (rolled back at the end: these
    # probe events must never reach a consumer)
    entity_id = f"one-writer-{uniq}"
    months = ["2026-08", "2026-09", "2026-10"]
    events = [
        event_row(
            contracts.build(
                "project.report_missing",
                {
                    "project_id": uuid.uuid4(),
                    "unit_id": "town-chengguan",
                    "month": m,
                    "deadline": date(2026, 11, 5),
                },
            ),
            key=entity_id,
        )
        for m in months
    ]
    audits = [
        audit_row(
            SYSTEM_PRINCIPAL, entity="project", entity_id=entity_id, action=f"probe.{n}", after={"n": n}
        )
        for n in range(2)
    ]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    session = sessionmaker()()
    try:
        await session.connection()  # BEGIN is not the writer's
        engine = session.bind.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            await pipeline.write(session, events=events, audits=audits)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 1
        out = pipeline.tables.outbox
        rows = (
            await session.execute(
                select(out.c.id, out.c.payload).where(out.c.key == entity_id).order_by(out.c.seq)
            )
        ).all()
        assert [r.id for r in rows] == [e.id for e in events]
        assert [r.payload["month"] for r in rows] == months
        history = await pipeline.history(session, "project", entity_id)
        assert [(h["action"], h["after"], h["actor"]) for h in history] == [
            ("probe.0", {"n": 0}, SYSTEM_PRINCIPAL.subject),
            ("probe.1", {"n": 1}, SYSTEM_PRINCIPAL.subject),
        ]
    finally:
        await session.rollback()
        await session.close()
