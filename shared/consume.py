"""A consumer's batch of events: one transaction for the batch, one event at a time only
when a handler fails (issue 11: ≥ 2,000 events/s with every guarantee of docs/events.md).

The relay sends a subscriber ONE ``handle_events`` job per pass. Its inbox rows go in with
one ``INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING`` (a duplicate, even
within the batch, is applied once), the handlers run in that same transaction, and it
commits once. When a handler raises, the transaction is rolled back, that event is set
aside and the rest run again in a new transaction: the others commit once, the bad one
goes to its own retries (a ``handle_event`` job, counted as its second try) or — for a
contract violation — straight to the dead letters.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from shared import deadletters
from shared.db import job_session
from shared.events import EventPipeline
from shared.logging import request_id_var

log = logging.getLogger("kpp.events")


def runs(
    events: list[dict[str, Any]], handlers: deadletters.Handlers, *, grouped: bool
) -> list[list[dict[str, Any]]]:
    """Consecutive events of one type whose handler has a set-based form (``handler.many``)
    go together; every other event alone. Order is kept."""
    out: list[list[dict[str, Any]]] = []
    for event in events:
        many = grouped and hasattr(handlers.get(event["type"]), "many")
        if many and out and out[-1][0]["type"] == event["type"]:
            out[-1].append(event)
        else:
            out.append([event])
    return out


MANY = {"id": "(a set-based handler)"}  # the culprit when a whole group raised


async def apply_batch(
    pipeline: EventPipeline, events: list[dict[str, Any]], handlers: deadletters.Handlers
) -> tuple[int, list[tuple[dict[str, Any], Exception]]]:
    """(events applied, [(event, error)] of those whose handler raised)."""
    pending = list(events)
    failed: list[tuple[dict[str, Any], Exception]] = []
    grouped = True
    while pending:
        culprit: dict[str, Any] | None = None
        try:
            async with job_session() as session:
                new = await pipeline.take_into_inbox(session, pending)
                fresh = []
                for event in pending:
                    if event["id"] in new:  # else processed before, or a duplicate here
                        new.discard(event["id"])
                        fresh.append(event)
                for group in runs(fresh, handlers, grouped=grouped):
                    if len(group) > 1:
                        culprit = MANY
                        await pipeline.apply_many(session, group, handlers)
                        continue
                    culprit = group[0]
                    token = request_id_var.set(culprit.get("request_id"))
                    try:
                        await pipeline.apply(session, culprit, handlers)
                    finally:
                        request_id_var.reset(token)
                culprit = None
            return len(fresh), failed
        except Exception as exc:
            if culprit is MANY:
                grouped = False  # again one by one, to find the event that raised
                continue
            if culprit is None:
                raise  # not one handler's doing (the commit, the database): the batch retries
            failed.append((culprit, exc))
            pending = [e for e in pending if e is not culprit]
    return 0, failed


async def handle_batch(
    ctx: dict[str, Any],
    service: str,
    pipeline: EventPipeline,
    handlers: deadletters.Handlers,
    events: list[dict[str, Any]],
) -> int:
    """The ``handle_events`` job: apply, set failures on their own path, acknowledge."""
    try:
        applied, failed = await apply_batch(pipeline, events, handlers)
    except Exception as exc:
        tries = int(ctx.get("job_try") or 1)
        delays = deadletters.retry_delays() or [5.0]
        log.warning(
            "%s: batch of %d events failed on try %d (%r); the batch is retried",
            service,
            len(events),
            tries,
            exc,
        )
        raise Retry(defer=delays[min(tries, len(delays)) - 1]) from exc
    for event, exc in failed:
        await deadletters.after_batch_failure(ctx, service, pipeline, event, exc)
    retried = {e["id"] for e, exc in failed if not deadletters.parks_at_once(exc)}
    await deadletters.acknowledge_many(ctx["redis"], service, [e for e in events if e["id"] not in retried])
    return applied
