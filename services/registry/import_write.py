"""The import's bulk write: projects, memberships, targets, stage history, audit rows and
``project.created`` events, one COPY per table and chunk of rows, all in the request's one
transaction (audit and outbox rows through the one writer, ``pipeline.writer.copy``)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Membership, Project, StageChange, Target, pipeline
from services.registry.present import project_dict
from services.registry.schemas import ProjectIn
from services.registry.service import derive_new
from shared import clock, contracts
from shared.clock import today
from shared.event_tables import AuditRow, EventRow, copy_records, event_row
from shared.identity import Principal
from shared.jsonutil import dumps
from shared.logging import request_id_var
from shared.money import money_str

P_COLS = [c.key for c in Project.__table__.columns]
M_COLS = ["id", "project_id", "library", "kind", "level", "since", "until"]
T_COLS = ["id", "project_id", "name", "kind", "due_on", "threshold_pct", "met_on"]
S_COLS = ["project_id", "from_stage", "to_stage", "on_date", "actor", "reason", "at"]


def plain_project(data: ProjectIn, on: date, now: datetime) -> SimpleNamespace:
    """The project ``build_project`` makes — the same ``derive_new`` — as plain values (no
    ORM cost for 10 k rows)."""
    p = derive_new(data, on)
    p.last_report_month = p.last_progress_pct = p.last_cumulative_investment = None
    p.revocation_state = p.revocation_due_on = p.revoked_on = None
    p.version, p.created_at, p.updated_at = 1, now, now
    return p


TABLES = [
    (Project.__table__, P_COLS),
    (Membership.__table__, M_COLS),
    (Target.__table__, T_COLS),
    (StageChange.__table__, S_COLS),
]
_STAGE_DATES_AT = P_COLS.index("stage_dates")


class ChunkedWrite:
    """The import's bulk write in the request's one transaction. ``add`` turns a project into
    its rows (project, memberships, targets, stage history, audit, ``project.created`` event,
    as ``pipeline.audit``/``pipeline.emit`` would); ``flush`` COPYs the rows gathered so far
    in the background, so the database works on one chunk while the caller checks the next.
    Nothing is committed here: a refusal after some chunks were copied rolls the whole
    transaction back (all or nothing).

    The connection takes one statement at a time: ``wait()`` before any other query."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.actor, self.role, self.unit = principal.subject, str(principal.role), principal.unit_id
        self.on, self.now, self.rid = today(), clock.now(), request_id_var.get()
        self.created = 0
        self.rows: list[list[tuple]] = [[] for _ in TABLES]
        self.audits: list[AuditRow] = []
        self.events: list[EventRow] = []
        self._task: asyncio.Future | None = None

    def add(self, n: int, data: ProjectIn) -> None:
        """The project of ledger row ``n``, to be copied at the next ``flush``."""
        now = self.now
        projects, memberships, targets, changes = self.rows
        p = plain_project(data, self.on, now)
        pid, reason = p.id, f"Excel 导入第 {n} 行"
        row = [getattr(p, k) for k in P_COLS]
        row[_STAGE_DATES_AT] = dumps(p.stage_dates)
        projects.append(tuple(row))
        memberships += [(m.id, pid, m.library, m.kind, m.level, m.since, m.until) for m in p.memberships]
        targets += [(t.id, pid, t.name, t.kind, t.due_on, t.threshold_pct, t.met_on) for t in p.targets]
        changes.append((pid, None, p.stage, p.stage_on, self.actor, reason, now))
        # the same JSON the API shows (ProjectOut), serialised once for audit and event
        snap = project_dict(p, self.on)  # type: ignore[arg-type]
        snap["total_investment"] = money_str(p.total_investment)
        text = dumps(snap)
        key = str(pid)
        self.audits.append(
            AuditRow(
                self.actor, self.role, self.unit, "project", key, "import", None, text, reason, self.rid, now
            )
        )
        self.events.append(event_row(contracts.build("project.created", snap), key=key, now=now))
        self.created += 1

    async def flush(self) -> None:
        """Start copying what was added (once the previous chunk's COPY has finished)."""
        await self.wait()
        if self.rows[0]:
            rows, self.rows = self.rows, [[] for _ in TABLES]
            events, audits, self.events, self.audits = self.events, self.audits, [], []
            self._task = asyncio.ensure_future(self._copy(rows, events, audits))

    async def _copy(self, rows: list[list[tuple]], events: list[EventRow], audits: list[AuditRow]) -> None:
        for (table, columns), records in zip(TABLES, rows, strict=True):
            await copy_records(self.session, table, columns, records)
        await pipeline.writer.copy(self.session, events, audits)

    async def wait(self) -> None:
        """Until the COPY in flight has finished; its error, if any, is raised here."""
        task, self._task = self._task, None
        if task is not None:
            await task

    async def abandon(self) -> None:
        """After a failure elsewhere: let the COPY in flight end (the transaction will be
        rolled back, so its own outcome no longer matters)."""
        with contextlib.suppress(Exception):
            await self.wait()
