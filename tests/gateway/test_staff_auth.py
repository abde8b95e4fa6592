"""Staff tokens: expiry, refresh, lock-out after repeated failures, roles → scopes."""

from __future__ import annotations

import time

import jwt

from services.gateway.auth import MAX_FAILED_LOGINS, STAFF_AUDIENCE
from shared.settings import get_settings


async def test_lockout_after_repeated_failed_logins(login, new_user, uniq):
    # architecture (staff tokens): lock-out after repeated failed logins
    username = await new_user(uniq)
    for _ in range(MAX_FAILED_LOGINS):
        r = await login(username, "wrong-password")
        assert r.status_code == 401 and r.json()["code"] == "auth.login_failed"
    r = await login(username)  # even the right password is refused while locked
    assert r.status_code == 401
    assert r.json()["code"] == "auth.locked"
    assert "锁定" in r.json()["detail"]


async def test_failed_login_does_not_reveal_whether_the_user_exists(login, uniq):
    r = await login(f"nobody{uniq}", "whatever")
    assert r.status_code == 401 and r.json()["code"] == "auth.login_failed"


async def test_expired_token_refused(platform):
    # staff tokens expire
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "user:zdb",
            "role": "key_office",
            "unit": "office-zdb",
            "aud": STAFF_AUDIENCE,
            "typ": "access",
            "iat": now - 7200,
            "exp": now - 10,
        },
        get_settings().secret_key,
        algorithm="HS256",
    )
    async with platform.client(headers={"Authorization": f"Bearer {token}"}) as c:
        r = await c.get("/api/v1/units")
    assert r.status_code == 401 and r.json()["code"] == "auth.token_expired"


async def test_refresh_issues_new_tokens_and_only_from_a_refresh_token(platform, login, new_user, uniq):
    username = await new_user(uniq)
    tokens = (await login(username)).json()
    async with platform.client() as c:
        r = await c.post("/api/v1/auth/refresh", data={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200, r.text
        fresh = r.json()
        assert fresh["access_token"] and fresh["refresh_token"]
        r = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
        assert r.status_code == 200 and r.json()["subject"] == f"user:{username}"
        # an access token is not a refresh token, and a refresh token is no access token
        r = await c.post("/api/v1/auth/refresh", data={"refresh_token": tokens["access_token"]})
        assert r.status_code == 401 and r.json()["code"] == "auth.token_invalid"
        r = await c.get("/api/v1/units", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert r.status_code == 401 and r.json()["code"] == "auth.token_invalid"


async def test_refresh_refused_once_the_account_is_locked(platform, login, new_user, uniq):
    username = await new_user(uniq)
    tokens = (await login(username)).json()
    for _ in range(MAX_FAILED_LOGINS):
        await login(username, "wrong-password")
    async with platform.client() as c:
        r = await c.post("/api/v1/auth/refresh", data={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["code"] == "auth.token_invalid"


async def test_roles_map_to_scopes(platform, uniq):
    # the county leader reads everything but does not enter projects; only admins read the audit
    async with await platform.as_user("leader") as c:
        me = (await c.get("/api/v1/auth/me")).json()
        assert "registry:read" in me["scopes"] and "registry:write" not in me["scopes"]
        r = await c.post("/api/v1/projects", json={"name": "x"})
        assert r.status_code == 403 and r.json()["code"] == "auth.scope_missing"
        assert r.json()["required_scope"] == "registry:write"
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/audit")
        assert r.status_code == 403 and r.json()["code"] == "auth.scope_missing"
    async with await platform.as_user("admin") as c:
        assert (await c.get("/api/v1/audit", params={"limit": 1})).status_code == 200


async def test_no_credentials_is_a_401_problem(platform):
    async with platform.client() as c:
        r = await c.get("/api/v1/projects")
    assert r.status_code == 401 and r.json()["code"] == "auth.token_missing"
    assert r.headers["www-authenticate"] == "Bearer"
