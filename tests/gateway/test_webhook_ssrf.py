"""Webhooks cannot be aimed at the platform itself (SSRF, issue 14)."""

from __future__ import annotations

import json
from datetime import timedelta

from services.gateway.webhooks import deliver_due
from shared import clock
from tests.conftest import PORTS
from tests.gateway.test_webhooks import delivery, event_id_for, subscribe


async def test_loopback_in_any_spelling_and_own_services_are_refused(signed, new_app, gw_settings, uniq):
    # architecture (webhooks): a platform key could subscribe http://127.0.0.1:8003/... and
    # the gateway POSTed there, showing the answer in the delivery list
    app = await new_app(uniq, ["registry:read", "webhooks:manage"])
    registry = f"http://127.0.0.1:{PORTS['registry']}/internal/events"
    for url in (
        registry,
        "http://localhost:6379/",
        "http://[::1]:5432/",
        "http://[::ffff:127.0.0.1]:8000/",  # loopback written as an IPv4-mapped IPv6 address
        "http://0.0.0.0:8000/",
    ):
        body = json.dumps({"event_types": ["project.created"], "url": url}).encode()
        r = await signed(app, "POST", "/api/v1/webhooks/subscriptions", body=body)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["code"] == "webhook.url_forbidden" and r.json()["fields"][0]["field"] == "url"
    # a development allow-list of the loopback host still never reaches the platform's services
    gw_settings.webhook_allowed_hosts = "127.0.0.1"
    body = json.dumps({"event_types": ["project.created"], "url": registry}).encode()
    r = await signed(app, "POST", "/api/v1/webhooks/subscriptions", body=body)
    assert r.status_code == 422 and r.json()["code"] == "webhook.url_forbidden", r.text


async def test_destination_rechecked_at_delivery_and_cancelled_subscriptions_stop(
    platform, signed, new_app, receiver, make_project_gw, drain_gateway, gw_settings, uniq
):
    # architecture (webhooks): the destination is checked again before each POST; a
    # deactivated subscription's deliveries stop retrying
    app = await new_app(uniq, ["registry:read", "webhooks:manage"])
    sub = await subscribe(signed, app, receiver.url, ["project.created"])
    receiver.fail_first = 10**6
    project = await make_project_gw(uniq)
    await drain_gateway()
    now = clock.now()
    await deliver_due(now)
    event_id = event_id_for(receiver, project["id"])
    row = await delivery(platform, sub["id"], event_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    async with await platform.as_user("admin") as c:
        r = await c.delete(f"/api/v1/webhooks/subscriptions/{sub['id']}")
    assert r.status_code == 204
    hits = len(receiver.received)
    await deliver_due(now + timedelta(hours=2))  # past every back-off delay
    assert len(receiver.received) == hits
    row = await delivery(platform, sub["id"], event_id)
    assert row["status"] == "cancelled" and row["attempts"] == 1
    # a second subscription, then the receiver's address is no longer allowed: refused, dead
    sub2 = await subscribe(signed, app, receiver.url, ["project.created"])
    await make_project_gw(uniq[::-1])
    await drain_gateway()
    gw_settings.webhook_allowed_hosts = ""
    hits = len(receiver.received)
    await deliver_due(clock.now() + timedelta(seconds=1))
    assert len(receiver.received) == hits
    rows = [d for d in await _deliveries(platform, sub2["id"]) if d["event_type"] == "project.created"]
    assert rows and all(d["status"] == "dead" for d in rows)
    assert "目的地址被拒绝" in rows[0]["last_error"]


async def _deliveries(platform, subscription_id: str) -> list[dict]:
    async with await platform.as_user("admin") as c:
        r = await c.get("/api/v1/webhooks/deliveries", params={"subscription_id": subscription_id})
    assert r.status_code == 200, r.text
    return r.json()
