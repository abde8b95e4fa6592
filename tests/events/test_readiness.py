"""/readyz tells the truth fast (issue 11): per-check timeouts, and an old dead letter makes
the gateway "degraded" — still ready (200), never taken out of rotation for it."""

from __future__ import annotations

import time
from datetime import timedelta

from services.scoring.consumers import HANDLERS
from shared import clock
from tests.events.helpers import create_projects
from tests.events.test_retries_and_dead_letters import failing


async def test_dead_letter_older_than_a_day_degrades_gateway_readiness(platform, uniq, monkeypatch):
    calls: list[str] = []
    monkeypatch.setitem(HANDLERS, "project.created", failing(None, calls))
    await create_projects(platform, uniq, 1)
    # parked 25 hours ago (more than a day): the clock is set back while it fails
    with clock.frozen(clock.now() - timedelta(hours=25)):
        await platform.drain(dead_letters=1)
    async with platform.client() as c:
        started = time.monotonic()
        r = await c.get("/readyz")
        took = time.monotonic() - started
        assert r.status_code == 200 and r.json()["status"] == "degraded"
        assert (
            r.json()["checks"]["dead_letters"].startswith("degraded")
            and "scoring" in r.json()["checks"]["dead_letters"]
        )
        assert took < 2
        async with await platform.as_user("admin") as admin:
            r = await admin.post(
                f"/api/v1/admin/dead-letters/scoring/{calls[0]}/discard",
                json={"reason": "就绪检查演练，已核实无需评分"},
            )
            assert r.status_code == 204
        r = await c.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "ready"
        r = await c.get("/healthz")  # liveness never asks anyone else
        assert r.status_code == 200 and r.json() == {"status": "ok", "service": "gateway"}
