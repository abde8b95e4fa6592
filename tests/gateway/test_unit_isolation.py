"""A township sees and edits its own projects only — checked through the gateway."""

from __future__ import annotations


async def test_township_cannot_read_or_change_another_townships_project(platform, make_project_gw, uniq):
    # architecture: a township sees and edits its own projects and problems; the office sees all.
    # Issue 16: the registry answers 404 project.not_found for a project the caller may not
    # see (read or write: the write looks the project up as a read first), never 403, so
    # another township's project is indistinguishable from none.
    project = await make_project_gw(uniq, user="chengguan", unit="town-chengguan")
    pid = project["id"]
    async with await platform.as_user("donghe") as c:
        r = await c.get(f"/api/v1/projects/{pid}")
        assert (r.status_code, r.json()["code"]) == (404, "project.not_found"), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await c.patch(
            f"/api/v1/projects/{pid}",
            json={"name": f"被改名{uniq}"},
            headers={"If-Match": f'"{project["version"]}"'},
        )
        assert (r.status_code, r.json()["code"]) == (404, "project.not_found"), r.text
    async with await platform.as_user("chengguan") as c:
        r = await c.get(f"/api/v1/projects/{pid}")
        assert r.status_code == 200
        assert r.json()["name"] == project["name"]  # unchanged
    async with await platform.as_user("zdb") as c:
        assert (await c.get(f"/api/v1/projects/{pid}")).status_code == 200
