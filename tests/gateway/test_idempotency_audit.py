"""Idempotency-Key on writes, the request audit's content, and app-key administration."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text

from services.gateway.models import AppKey
from shared.db import job_session
from tests.gateway.conftest import App, project_body


async def test_retried_write_returns_the_first_response(platform, uniq):
    # architecture: writes accept an Idempotency-Key; a retried write returns the first result
    body = project_body(uniq)
    async with await platform.as_user("zdb") as c:
        first = await c.post("/api/v1/projects", json=body, headers={"Idempotency-Key": f"k-{uniq}"})
        again = await c.post("/api/v1/projects", json=body, headers={"Idempotency-Key": f"k-{uniq}"})
        other = await c.post(
            "/api/v1/projects",
            json=project_body(uniq, name=f"另一个{uniq}"),
            headers={"Idempotency-Key": f"k-{uniq}"},
        )
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    # the same key with another body is a conflict, not a second project
    assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"


async def test_idempotency_keys_belong_to_their_caller(platform, uniq):
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects", json=project_body(uniq), headers={"Idempotency-Key": f"shared-{uniq}"}
        )
        assert r.status_code == 201, r.text
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/projects", json=project_body(uniq[::-1]), headers={"Idempotency-Key": f"shared-{uniq}"}
        )
    assert r.status_code == 201, r.text  # another caller's key of the same name is no replay


async def test_every_request_is_audited_with_principal_digest_and_latency(
    platform, signed, hall, audit, make_project_gw, uniq
):
    # architecture: every call is audited with its principal and request id
    project = await make_project_gw(uniq)
    r = await signed(
        hall,
        "GET",
        f"/api/v1/projects/{project['id']}",
        query="view=full",
        headers={"X-Request-ID": f"audit-{uniq}"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"] == f"audit-{uniq}"
    [row] = await audit(request_id=f"audit-{uniq}")
    assert row["principal"] == f"app:{hall.key}" and row["role"] == "platform"
    assert row["app_key"] == hall.key
    assert (row["method"], row["path"], row["query"], row["status"]) == (
        "GET",
        f"/api/v1/projects/{project['id']}",
        "view=full",
        200,
    )
    assert row["latency_ms"] > 0 and row["code"] is None
    assert row["body_sha256"] == hashlib.sha256(b"").hexdigest()
    # a write: the digest is the body's
    body = json.dumps(project_body(uniq[::-1])).encode()
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            content=body,
            headers={"content-type": "application/json", "X-Request-ID": f"audit-w-{uniq}"},
        )
    assert r.status_code == 201, r.text
    [row] = await audit(request_id=f"audit-w-{uniq}")
    assert row["principal"] == "user:zdb" and row["unit_id"] == "office-zdb"
    assert row["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert row["body_bytes"] == len(body)


async def test_app_secret_is_shown_once_and_never_stored(platform, signed, new_app, uniq):
    # secrets never stored in plain text: only a salt and a fingerprint are kept
    app = await new_app(uniq, ["units:read"])
    async with job_session() as session:
        row = await session.get(AppKey, app.key)
        dump = await session.execute(
            text("SELECT row_to_json(k)::text FROM gateway.app_keys k WHERE key = :k"), {"k": app.key}
        )
        assert app.secret not in dump.scalar_one()
        assert row.secret_fp and row.salt
    assert (await signed(app, "GET", "/api/v1/units")).status_code == 200
    async with await platform.as_user("admin") as c:
        listed = (await c.get("/api/v1/app-keys")).json()
        assert all("secret" not in k for k in listed)
        rotated = await c.post(f"/api/v1/app-keys/{app.key}/rotate", json={"reason": "泄露排查"})
    assert rotated.status_code == 200, rotated.text
    new = App(app.key, rotated.json()["secret"])
    assert new.secret != app.secret
    r = await signed(app, "GET", "/api/v1/units")  # the old secret no longer works
    assert r.status_code == 401 and r.json()["code"] == "auth.signature_invalid"
    assert (await signed(new, "GET", "/api/v1/units")).status_code == 200


async def test_revoked_key_refused_and_admin_scopes_not_grantable(platform, signed, new_app, uniq):
    app = await new_app(uniq, ["units:read"])
    async with await platform.as_user("admin") as c:
        r = await c.patch(f"/api/v1/app-keys/{app.key}", json={"active": False, "reason": "停用"})
        assert r.status_code == 200 and r.json()["active"] is False
        bad = await c.post(
            "/api/v1/app-keys", json={"name": "越权平台", "platform": "other", "scopes": ["admin:audit"]}
        )
    r = await signed(app, "GET", "/api/v1/units")
    assert r.status_code == 401 and r.json()["code"] == "auth.app_key_invalid"
    assert bad.status_code == 422 and bad.json()["code"] == "app_key.scope_unknown"
    async with job_session() as session:
        history = await session.execute(
            text(
                "SELECT action FROM gateway.audit_log WHERE entity = 'app_key' AND entity_id = :k ORDER BY id"
            ),
            {"k": app.key},
        )
        assert [a for (a,) in history] == ["create", "update"]
        assert (await session.scalar(select(AppKey.active).where(AppKey.key == app.key))) is False
