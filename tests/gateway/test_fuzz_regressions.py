"""What schemathesis found answering other than a 4xx problem (issue 14), one test each."""

from __future__ import annotations


async def test_nulling_a_required_account_field_is_a_422_not_a_database_conflict(platform, new_user, uniq):
    # issue 14: bad input → 422 problem with the field, never a database refusal (was 409 from
    # the NOT NULL constraint on users.active), and nothing is written
    username = await new_user(uniq)
    async with await platform.as_user("admin") as c:
        for field in ("active", "role", "name"):
            r = await c.patch(f"/api/v1/users/{username}", json={field: None})
            assert r.status_code == 422, (field, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "request.invalid" and field in r.json()["detail"] + r.text
        users = {u["username"]: u for u in (await c.get("/api/v1/users")).json()}
    assert users[username]["active"] is True and users[username]["role"] == "key_office"
