"""Several service-hall events in one request (R16–R19; issue 15).

The hall queues the events of its cases and may send up to ``MAX_EVENT_BATCH`` of them at
once. Each is recorded exactly as ``POST /api/v1/approval-cases/{id}/events`` records it
(``events_intake.record_event``: the same checks, the same stored result, the same audit
row and outbox events, idempotent by ``event_id``), in the order sent, and answered one by
one: 201, 200 for a replay, or the refusal's problem (403/404/409/422) — a refused event
leaves nothing behind and does not stop the others.

All in the request's one transaction: the batch's cases are locked up front in id order
(one ``LOAD_MANY``), so a batch waits for a single event or another batch on the same case
instead of deadlocking with it. A fault of the database or the service rolls back the
whole batch (the hall resends it; nothing is recorded twice, every event being idempotent).
"""

from __future__ import annotations

from services.approvals.access import require_may_post_events
from services.approvals.calendar_store import calendar_as_loaded
from services.approvals.events_intake import CaseLog, case_not_found, record_event
from services.approvals.intake_sql import load_many
from services.approvals.schemas import HallEventIn
from shared import clock
from shared.db import WriteConnection
from shared.errors import KPPError
from shared.identity import Principal
from shared.jsonutil import dumps


async def post_events(conn: WriteConnection, *, principal: Principal, events: list[HallEventIn]) -> str:
    """The batch's answer as JSON text (``EventBatchReply``): counts, then one result per
    event in the order sent, each recorded event's body embedded as stored."""
    require_may_post_events(principal)
    now = clock.now()
    rows = await load_many(conn, list({e.case_id for e in events}))
    cases = {row["id"]: CaseLog.of(row) for row in rows}
    cal = await calendar_as_loaded(conn, rows[0]["calendar_revision"] if rows else 0)
    counts = {201: 0, 200: 0}
    results: list[str] = []
    for index, item in enumerate(events):
        head = {"index": index, "case_id": item.case_id, "event_id": item.event_id}
        try:
            state = cases.get(item.case_id)
            if state is None:
                raise case_not_found(item.case_id)
            status, body = await record_event(conn, principal, state, item, cal, now)
        except KPPError as refusal:
            problem = refusal.body(instance=f"/api/v1/approval-cases/{item.case_id}/events")
            results.append(dumps(head | {"status": refusal.status, "problem": problem}))
            continue
        counts[status] += 1
        results.append(f'{dumps(head | {"status": status})[:-1]},"result":{body}}}')
    refused = len(events) - counts[201] - counts[200]
    return (
        f'{{"accepted":{counts[201]},"replayed":{counts[200]},"refused":{refused},'
        f'"results":[{",".join(results)}]}}'
    )
