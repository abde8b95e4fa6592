"""Webhooks: subscriptions per event type, signed deliveries, growing retry delays,
dead letters, admin replay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from services.gateway.crypto import Signer, body_digest, string_to_sign
from services.gateway.webhooks import BACKOFF_S, MAX_ATTEMPTS, deliver_due
from shared import clock
from tests.gateway.conftest import App


def assert_signed_by(app: App, hit: dict) -> None:
    h = {k.lower(): v for k, v in hit["headers"].items()}
    assert h["x-app-key"] == app.key
    message = string_to_sign(
        "POST", hit["path"], hit["query"], h["x-timestamp"], h["x-nonce"], body_digest(hit["body"])
    )
    assert Signer(app.secret).verify(message, h["x-signature"])  # with the platform's own secret


async def subscribe(signed, app: App, url: str, types: list[str]):
    body = json.dumps({"event_types": types, "url": url}).encode()
    r = await signed(app, "POST", "/api/v1/webhooks/subscriptions", body=body)
    assert r.status_code == 201, r.text
    return r.json()


def event_id_for(receiver, project_id: str) -> str:
    ids = {
        json.loads(h["body"])["id"]
        for h in receiver.received
        if json.loads(h["body"])["payload"].get("id") == project_id
    }
    assert len(ids) == 1
    return ids.pop()


async def delivery(platform, subscription_id: str, event_id: str) -> dict:
    [row] = [
        d for d in await deliveries(platform, subscription_id=subscription_id) if d["event_id"] == event_id
    ]
    return row


async def deliveries(platform, **params) -> list[dict]:
    async with await platform.as_user("admin") as c:
        r = await c.get("/api/v1/webhooks/deliveries", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_event_is_delivered_signed_to_the_subscriber(
    platform, signed, new_app, receiver, make_project_gw, drain_gateway, uniq
):
    # architecture: outgoing notifications are signed the same way as requests
    app = await new_app(uniq, ["registry:read", "webhooks:manage"], platform_kind="province")
    sub = await subscribe(signed, app, receiver.url, ["project.created"])
    project = await make_project_gw(uniq)
    await drain_gateway()
    await deliver_due()
    hits = [h for h in receiver.received if json.loads(h["body"])["payload"]["id"] == project["id"]]
    assert len(hits) == 1
    hit = hits[0]
    assert_signed_by(app, hit)
    assert hit["headers"]["X-KPP-Event-Type"] == "project.created"
    envelope = json.loads(hit["body"])
    assert envelope["type"] == "project.created" and envelope["source"] == "registry"
    [row] = [
        d for d in await deliveries(platform, subscription_id=sub["id"]) if d["event_id"] == envelope["id"]
    ]
    assert row["status"] == "delivered" and row["attempts"] == 1


async def test_subscription_needs_the_scope_to_read_the_event(signed, new_app, receiver, uniq):
    app = await new_app(uniq, ["registry:read", "webhooks:manage"])
    body = json.dumps({"event_types": ["issue.created"], "url": receiver.url}).encode()
    r = await signed(app, "POST", "/api/v1/webhooks/subscriptions", body=body)
    assert r.status_code == 403 and r.json()["required_scope"] == "issues:read"
    body = json.dumps({"event_types": ["project.nonsense"], "url": receiver.url}).encode()
    r = await signed(app, "POST", "/api/v1/webhooks/subscriptions", body=body)
    assert r.status_code == 422 and r.json()["code"] == "webhook.event_type_unknown"


async def test_failed_deliveries_back_off_then_dead_letter_then_replay(
    platform, signed, new_app, receiver, make_project_gw, drain_gateway, uniq
):
    # architecture: retried with backoff until acknowledged; dead-lettered after a limit
    app = await new_app(uniq, ["registry:read", "webhooks:manage"])
    sub = await subscribe(signed, app, receiver.url, ["project.created"])
    receiver.fail_first = 10**6  # the platform is failing
    project = await make_project_gw(uniq)
    await drain_gateway()
    at = clock.now()
    delays = []
    event_id = None
    for _ in range(MAX_ATTEMPTS):
        await deliver_due(at)
        event_id = event_id or event_id_for(receiver, project["id"])
        row = await delivery(platform, sub["id"], event_id)
        if row["status"] == "dead":
            break
        assert row["status"] == "pending" and row["last_status"] == 500
        due = datetime.fromisoformat(row["next_attempt_at"])
        delays.append((due - at).total_seconds())
        at = due + timedelta(seconds=1)
    assert row["status"] == "dead" and row["attempts"] == MAX_ATTEMPTS
    assert delays == [float(s) for s in BACKOFF_S]  # seconds first, growing, up to an hour
    assert delays == sorted(delays) and max(delays) == 3600
    dead = await deliveries(platform, status="dead", subscription_id=sub["id"])
    assert row["id"] in [d["id"] for d in dead]
    # the platform is fixed; an administrator replays the dead letter
    receiver.fail_first = 0
    async with await platform.as_user("admin") as c:
        r = await c.post(f"/api/v1/webhooks/deliveries/{row['id']}/replay", json={"reason": "对方系统已恢复"})
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    await deliver_due()
    row = await delivery(platform, sub["id"], event_id)
    assert row["status"] == "delivered" and row["replays"] == 1


async def test_platform_sees_only_its_own_deliveries_and_cannot_replay(platform, signed, new_app, uniq):
    app = await new_app(uniq, ["registry:read", "webhooks:manage"])
    r = await signed(app, "GET", "/api/v1/webhooks/deliveries")
    assert r.status_code == 200 and all(d["app_key"] == app.key for d in r.json())
    r = await signed(
        app, "POST", "/api/v1/webhooks/deliveries/00000000-0000-0000-0000-000000000001/replay", body=b"{}"
    )
    assert r.status_code == 403 and r.json()["code"] == "auth.scope_missing"
