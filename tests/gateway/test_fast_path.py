"""Forwarded paths go through the ASGI proxy (forwarding.py): same refusals, bodies, headers
and audit as the gateway's own FastAPI paths; the hot-path Redis client survives a lost
connection (issue 16)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.gateway.hotredis import SIGNED_SCRIPT, USER_SCRIPT, HotRedis
from tests.conftest import REDIS_URL
from tests.gateway.conftest import App

OWN, FORWARDED = "/api/v1/units", "/api/v1/projects"


def _without_instance(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("instance", "server_time")}


@pytest.mark.parametrize("case", ["bad_signature", "skew", "replay", "no_token", "bad_token"])
async def test_refusals_on_forwarded_paths_match_the_gateway_own_paths(platform, hall, audit, uniq, case):
    # architecture: every refusal has its code and is audited, on every path
    bodies = []
    for path in (OWN, FORWARDED):
        rid = f"fp-{case}-{path.rsplit('/', 1)[1]}-{uniq}"
        if case == "bad_signature":
            headers = App(hall.key, "0" * 64).headers("GET", path)
        elif case == "skew":
            headers = hall.headers("GET", path, timestamp=int(time.time()) - 301)
        elif case == "replay":
            headers = hall.headers("GET", path, nonce=f"fp{path[-5:]}{uniq}")
        elif case == "no_token":
            headers = {}
        else:
            headers = {"Authorization": "Bearer not-a-token"}
        async with platform.client() as c:
            if case == "replay":
                assert (await c.get(path, headers=headers)).status_code == 200
            r = await c.get(path, headers=headers | {"X-Request-ID": rid})
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["x-request-id"] == rid
        assert r.json()["instance"] == path
        bodies.append(
            (
                r.json(),
                dict((k, v) for k, v in r.headers.items() if k in ("www-authenticate", "content-length")),
            )
        )
        [row] = await audit(request_id=rid)
        assert (row["status"], row["code"], row["path"]) == (401, r.json()["code"], path)
        if case in ("bad_signature", "skew", "replay"):
            assert row["app_key"] == hall.key and row["principal"] is None
    (own, own_h), (fwd, fwd_h) = bodies
    assert _without_instance(own) == _without_instance(fwd)
    assert own_h.get("www-authenticate") == fwd_h.get("www-authenticate")


async def test_forwarded_response_carries_request_id_and_service_headers(platform, make_project_gw, uniq):
    project = await make_project_gw(uniq)
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/projects/{project['id']}")
    assert r.status_code == 200 and r.json()["id"] == project["id"]
    assert len(r.headers["x-request-id"]) == 32  # made at the gateway
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["content-length"]) == len(r.content)


async def test_head_and_unknown_paths_still_go_through_fastapi(platform):
    async with await platform.as_user("zdb") as c:
        unknown = await c.get("/api/v1/nowhere/at-all")
        head = await c.head("/api/v1/projects")
    assert unknown.status_code == 404 and unknown.json()["code"] == "route.not_found"
    assert head.status_code == 405


async def test_hot_redis_scripts_and_reconnect(uniq):
    client = HotRedis(REDIS_URL, timeout=2)
    try:
        key = f"kpp:test:rl:{uniq}"
        assert await client.eval(USER_SCRIPT, (key,), (61,)) == 1
        # many calls in one loop turn share one write and get their own replies in order
        counts = await asyncio.gather(*(client.eval(USER_SCRIPT, (key,), (61,)) for _ in range(20)))
        assert sorted(counts) == list(range(2, 22))
        nonce = f"kpp:test:nonce:{uniq}"
        assert await client.eval(SIGNED_SCRIPT, (nonce, key), (900, 61)) == [1, 22]
        assert await client.eval(SIGNED_SCRIPT, (nonce, key), (900, 61)) == [0, 23]
        client._conn.transport.abort()  # the connection is lost …
        await asyncio.sleep(0.05)
        assert await client.eval(USER_SCRIPT, (key,), (61,)) == 24  # … and made again
    finally:
        await client.close()
