"""arq on Redis: one queue per service, JSON jobs, the outbox relay and the event consumer."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings, create_pool
from sqlalchemy.ext.asyncio import AsyncSession

from shared import deadletters
from shared.consume import handle_batch
from shared.db import dispose_engine, job_session
from shared.events import RELAY_BATCH, EventPipeline, queue_name
from shared.http import service_client
from shared.jsonutil import dumps
from shared.logging import configure_logging, request_id_var
from shared.settings import get_settings

log = logging.getLogger("kpp.queue")

# one event handler (or a batch of them) may run this long before arq cancels it (and it
# is retried)
EVENT_TIMEOUT_S = 30
# a relay run stops starting passes after this long (the next run, a second later, goes on)
RELAY_BUDGET_S = 10.0

EventHandler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


def redis_settings(url: str | None = None) -> RedisSettings:
    url = url or get_settings().redis_url
    parsed = urlparse(url)
    return RedisSettings(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 6379,
        database=int((parsed.path or "/0").lstrip("/") or 0),
        password=parsed.password,
        conn_timeout=2,
        conn_retries=2,
    )


def job_serializer(data: dict[str, Any]) -> bytes:
    return dumps(data).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


async def create_queue_pool(url: str | None = None) -> ArqRedis:
    return await create_pool(
        redis_settings(url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )


def worker_settings(
    service: str,
    pipeline: EventPipeline,
    *,
    handlers: dict[str, EventHandler] | None = None,
    functions: Sequence[Any] = (),
    cron_jobs: Sequence[Any] = (),
) -> type:
    """WorkerSettings for a service: its own queue, JSON jobs, ~30 s health check.

    Every worker runs the outbox relay each second (an arq cron job, so unique across
    replicas) and ``handle_event`` for the events its service subscribes to.
    """
    # the handlers dict itself (not a copy): SUBSCRIPTIONS is checked against it in tests
    event_handlers = handlers if handlers is not None else {}

    async def relay_outbox(ctx: dict[str, Any]) -> int:
        """Relay passes of RELAY_BATCH events (each its own transaction) while there are
        more, for up to RELAY_BUDGET_S: a backlog drains at once, not 500 a second."""
        moved, started = 0, time.monotonic()
        while True:
            async with job_session() as session:
                n = await pipeline.relay(session, ctx["redis"])
            moved += n
            if n < RELAY_BATCH or time.monotonic() - started > RELAY_BUDGET_S:
                return moved

    async def prune_events(ctx: dict[str, Any]) -> dict[str, int]:
        async with job_session() as session:
            pruned = await pipeline.prune(session)
        log.info("%s: pruned %s", service, pruned)
        return pruned

    async def handle_events(ctx: dict[str, Any], events: list[dict[str, Any]]) -> int:
        """A relay pass's events for this service, applied in one transaction (shared.consume)."""
        return await handle_batch(ctx, service, pipeline, event_handlers, events)

    async def handle_event(ctx: dict[str, Any], event: dict[str, Any], prior_tries: int = 0) -> bool:
        """Apply one event (a re-send, or a retry of one that failed in its batch); on
        failure retry with back-off, then park it (never drop it)."""
        token = request_id_var.set(event.get("request_id"))
        try:
            try:
                async with job_session() as session:
                    applied = await pipeline.consume_once(session, event, event_handlers)
            except Exception as exc:
                await deadletters.after_failure(ctx, service, pipeline, event, exc, prior_tries)
                applied = False  # parked as a dead letter
            await deadletters.acknowledge(ctx["redis"], service, event)
            return applied
        finally:
            request_id_var.reset(token)

    async def on_startup(ctx: dict[str, Any]) -> None:
        settings = get_settings()
        configure_logging(f"{service}-worker", settings.log_level, settings.log_json)
        if settings.log_level.upper() != "DEBUG":
            # arq logs every job start and end at INFO: the relay alone runs each second
            logging.getLogger("arq.worker").setLevel(logging.WARNING)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await service_client.close()  # handlers that read other services opened it
        await dispose_engine()

    # the cron name is part of arq's job id, global across queues: one per service
    relay_cron = cron(
        relay_outbox,
        name=f"{service}_relay_outbox",
        second=set(range(60)),
        unique=True,
        run_at_startup=True,
        keep_result=0,
        timeout=EVENT_TIMEOUT_S,
    )

    common = {
        "redis_settings": redis_settings(),
        "job_serializer": staticmethod(job_serializer),
        "job_deserializer": staticmethod(job_deserializer),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "handle_signals": True,
        "keep_result": 3600,
    }
    # Long jobs run on a queue of their own (ops.worker_run runs both workers in one
    # process): arq's in-progress lock lasts the longest job timeout of a worker + 10 s, so
    # the event queue keeps only short jobs and an event in flight at a crash is picked up
    # again within EVENT_TIMEOUT_S + 10 s (issue 11).
    quick = [f for f in functions if _timeout(f) <= EVENT_TIMEOUT_S]
    slow = [f for f in functions if _timeout(f) > EVENT_TIMEOUT_S]
    events_settings = type(
        f"{service.capitalize()}WorkerSettings",
        (),
        {
            **common,
            "functions": [
                # retries are counted by after_failure (job_try), never by arq's max_tries;
                # no result is kept, so a re-sent copy reaches the inbox (docs/events.md)
                func(
                    handle_event, name="handle_event", max_tries=10**6, keep_result=0, timeout=EVENT_TIMEOUT_S
                ),
                func(
                    handle_events,
                    name="handle_events",
                    max_tries=10**6,
                    keep_result=0,
                    timeout=EVENT_TIMEOUT_S,
                ),
                func(relay_outbox, name="relay_outbox", timeout=EVENT_TIMEOUT_S),
                # a cron run left queued by a killed worker is found by its cron name
                func(relay_outbox, name=relay_cron.name, timeout=EVENT_TIMEOUT_S),
                *quick,
            ],
            "cron_jobs": [relay_cron],
            "job_timeout": EVENT_TIMEOUT_S,
            "queue_name": queue_name(service),
            "health_check_interval": 30,
            "health_check_key": f"{queue_name(service)}:health-check",
            "max_tries": 10,
            "relay_outbox": staticmethod(relay_outbox),
            "handle_event": staticmethod(handle_event),
            "handle_events": staticmethod(handle_events),
            "prune_events": staticmethod(prune_events),
        },
    )
    prune_cron_fn = func(prune_events, name=f"{service}_prune_events", timeout=EVENT_TIMEOUT_S * 10)
    events_settings.CronWorkerSettings = type(
        f"{service.capitalize()}CronWorkerSettings",
        (),
        {
            **common,
            "functions": [*(slow or [func(relay_outbox, name="relay_outbox")]), prune_cron_fn],
            # retention: daily at 03:40, unique across replicas (docs/events.md)
            "cron_jobs": [
                *cron_jobs,
                cron(
                    prune_events,
                    name=f"{service}_prune_events",
                    hour={3},
                    minute={40},
                    second={0},
                    unique=True,
                    timeout=EVENT_TIMEOUT_S * 10,
                ),
            ],
            "queue_name": cron_queue_name(service),
            "health_check_interval": 30,
            "health_check_key": f"{cron_queue_name(service)}:health-check",
            "max_tries": 3,
        },
    )
    return events_settings


def cron_queue_name(service: str) -> str:
    return f"{queue_name(service)}:cron"


def _timeout(function: Any) -> float:
    """A registered function's timeout (arq's default, 300 s, when it names none)."""
    timeout = getattr(function, "timeout_s", None)
    return float(timeout) if timeout is not None else 300.0
