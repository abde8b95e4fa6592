"""Webhooks: platforms subscribe to event types; each event is POSTed to them, signed.

The gateway worker consumes every event type (shared.events.SUBSCRIPTIONS) and writes one
delivery row per matching subscription (idempotent per subscription and event id). A
cron job claims due deliveries, POSTs them signed with the subscriber's own app secret
(the same signature as requests: api-contract.md), and on failure schedules the next try
with growing delays, up to an hour; after the last try the delivery is dead-lettered
and waits for an administrator's replay.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import egress
from services.gateway.config import gateway_settings
from services.gateway.crypto import derive_secret, signed_headers
from services.gateway.models import AppKey, WebhookDelivery, WebhookSubscription, pipeline
from shared import clock
from shared.db import job_session
from shared.errors import Conflict, NotFound
from shared.events import SUBSCRIPTIONS
from shared.identity import Principal
from shared.jsonutil import dumps

log = logging.getLogger("kpp.gateway.webhooks")

# delay before try n+1 after n failed tries: seconds at first, up to an hour
BACKOFF_S = (10, 30, 120, 600, 1800, 3600, 3600, 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
LEASE_S = 120  # a claimed delivery is not picked again while its POST is under way
BATCH = 50
REFUSED = "目的地址被拒绝："  # a destination the gateway must not reach: dead at once
DELIVERED_EVENT_TYPES = tuple(t for t, consumers in SUBSCRIPTIONS.items() if "gateway" in consumers)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])


async def fan_out(
    session: AsyncSession, event: dict[str, Any], subs: Sequence[WebhookSubscription] | None = None
) -> None:
    """One delivery per active subscription to the event's type (the inbox runs it once)."""
    if subs is None:
        subs = (
            await session.scalars(
                select(WebhookSubscription).where(
                    WebhookSubscription.active.is_(True),
                    WebhookSubscription.event_types.contains([event["type"]]),
                )
            )
        ).all()
    now = clock.now()
    envelope = {k: event.get(k) for k in ("id", "type", "source", "request_id", "created_at")}
    envelope["payload"] = event["payload"].payload()  # the contract's JSON (event_version too)
    for sub in subs:
        session.add(
            WebhookDelivery(
                subscription_id=sub.id,
                app_key=sub.app_key,
                event_id=uuid.UUID(event["id"]),
                event_type=event["type"],
                envelope=envelope,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                replays=0,
            )
        )
    await session.flush()


async def fan_out_many(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """fan_out for a batch of one type (shared.consume): the subscriptions read once."""
    subs = (
        await session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.active.is_(True),
                WebhookSubscription.event_types.contains([events[0]["type"]]),
            )
        )
    ).all()
    if not subs:
        return
    for event in events:
        await fan_out(session, event, subs)


fan_out.many = fan_out_many  # type: ignore[attr-defined]

HANDLERS = {event_type: fan_out for event_type in DELIVERED_EVENT_TYPES}


async def _claim(now: datetime, limit: int) -> list[tuple[WebhookDelivery, WebhookSubscription, str]]:
    async with job_session() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery, WebhookSubscription, AppKey)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .join(AppKey, AppKey.key == WebhookSubscription.app_key)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookSubscription.active.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
        ).all()
        for delivery, _, _ in rows:
            delivery.next_attempt_at = now + timedelta(seconds=LEASE_S)
        return [(d, s, derive_secret(k.key, k.salt)) for d, s, k in rows]


async def _post(
    http: aiohttp.ClientSession, delivery: WebhookDelivery, sub: WebhookSubscription, secret: str
) -> tuple[int | None, str | None]:
    problem = await egress.destination_problem(sub.url)  # re-checked: DNS may have moved
    if problem:
        return None, REFUSED + problem
    body = dumps(delivery.envelope).encode()
    parts = urlsplit(sub.url)
    headers = signed_headers(
        sub.app_key,
        secret,
        "POST",
        parts.path or "/",
        query=parts.query,
        body=body,
        algorithm=sub.signature_method,
    )
    headers |= {
        "Content-Type": "application/json",
        "X-KPP-Event-Id": str(delivery.event_id),
        "X-KPP-Event-Type": delivery.event_type,
        "X-KPP-Delivery-Id": str(delivery.id),
        "X-KPP-Attempt": str(delivery.attempts + 1),
    }
    try:
        async with http.post(sub.url, data=body, headers=headers, allow_redirects=False) as resp:
            await resp.read()
            return resp.status, None if resp.status < 300 else f"HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


async def deliver_due(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """Send every due delivery once; returns counts by outcome. ``now`` is the clock."""
    now = now or clock.now()
    claimed = await _claim(now, limit)
    if not claimed:
        return {}
    timeout = aiohttp.ClientTimeout(total=gateway_settings().webhook_timeout_s, connect=3)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        results = await asyncio.gather(*(_post(http, d, s, secret) for d, s, secret in claimed))
    outcome: dict[str, int] = {}
    async with job_session() as session:
        for (delivery, _, _), (status, error) in zip(claimed, results, strict=True):
            attempts = delivery.attempts + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_attempt_at": now,
                "last_status": status,
                "last_error": error,
            }
            if error is None:
                values |= {"status": "delivered", "delivered_at": now}
            elif attempts >= MAX_ATTEMPTS or error.startswith(REFUSED):
                values |= {"status": "dead"}
            else:
                values |= {"next_attempt_at": now + backoff(attempts)}
            kind = values.get("status", "retry")
            outcome[kind] = outcome.get(kind, 0) + 1
            await session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values)
            )
    if outcome.get("dead"):
        log.warning("webhook deliveries dead-lettered: %d", outcome["dead"])
    return outcome


async def deliver_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """The worker's cron job."""
    return await deliver_due()


async def replay(
    session: AsyncSession, *, principal: Principal, delivery_id: uuid.UUID, reason: str | None
) -> WebhookDelivery:
    """An administrator sends a dead (or delivered) delivery again, from a fresh count."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"投递记录 {delivery_id} 不存在", code="webhook.delivery_not_found")
    if delivery.status == "pending":
        raise Conflict("该投递仍在重试中，无需重放", code="webhook.delivery_pending")
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status, delivery.attempts = "pending", 0
    delivery.next_attempt_at = clock.now()
    delivery.replays += 1
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="webhook_delivery",
        entity_id=delivery.id,
        action="replay",
        before=before,
        after={"status": "pending", "replays": delivery.replays},
        reason=reason,
    )
    return delivery
