"""Who sees and acts on which problems; the project is checked with the registry."""

from __future__ import annotations

import uuid

from tests.issues.conftest import act, make_project, report, walk_to_assigned


async def test_unknown_project_is_422(platform):
    # policy R22: a problem belongs to a project in the library (checked with the registry)
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/issues",
            json={
                "project_id": str(uuid.uuid4()),
                "kind": "land",
                "description": "用地指标不足",
                "source": "supervision",
            },
        )
    assert r.status_code == 422
    assert r.json()["code"] == "project.not_found"
    assert r.json()["fields"][0]["field"] == "project_id"


async def test_bad_kind_and_attachment_are_422(platform, project):
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/issues",
            json={
                "project_id": project["id"],
                "kind": "weather",
                "description": "天气原因",
                "source": "supervision",
                "attachments": [
                    {"name": "a.pdf", "content_type": "application/pdf", "size": -1, "sha256": "xyz"}
                ],
            },
        )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["fields"]}
    assert {"body.kind", "body.attachments.0.size", "body.attachments.0.sha256"} <= fields


async def test_a_unit_sees_and_acts_on_its_own_only(platform, project):
    # architecture: a township sees and edits its own problems; the key office sees all
    async with await platform.as_user("chengguan") as c:
        issue = await report(c, project["id"])
    async with await platform.as_user("donghe") as c:
        r = await c.get(f"/api/v1/issues/{issue['id']}")
        assert r.status_code == 403 and r.json()["code"] == "issue.forbidden"
        r = await c.get("/api/v1/issues", params={"project_id": project["id"]})
        assert r.json()["total"] == 0
        r = await act(c, issue["id"], "analyse", {"finding": "越权", "within_authority": True})
        assert (r.status_code, r.json()["code"]) == (403, "issue.forbidden")  # cannot even see it
    async with await platform.as_user("zdb") as c:
        await walk_to_assigned(c, issue["id"])  # responsible unit dept-fgj
    async with await platform.as_user("fgj") as c:
        r = await c.get("/api/v1/issues", params={"project_id": project["id"]})
        assert [i["id"] for i in r.json()["items"]] == [issue["id"]]
    async with await platform.as_user("xzsp") as c:  # not involved: does not even see it
        r = await act(c, issue["id"], "request_close", {"summary": "已办结"})
        assert (r.status_code, r.json()["code"]) == (403, "issue.forbidden")
    async with await platform.as_user("leader") as c:  # reads all, acts on nothing
        assert (await c.get(f"/api/v1/issues/{issue['id']}")).status_code == 200
        r = await act(c, issue["id"], "request_close", {"summary": "已办结"})
        assert (r.status_code, r.json()["code"]) == (403, "issue.action_forbidden")


async def test_enterprise_reports_and_sees_its_own_projects_problems(platform, uniq):
    # architecture: an enterprise sees its own projects' problems (by its credit code)
    mine = await make_project(platform, uniq)
    other = await make_project(platform, uniq[::-1], credit=None)
    async with await platform.as_user("zdb") as c:
        theirs = await report(c, other["id"])
    async with await platform.as_user("qiye") as c:
        r = await c.post(
            "/api/v1/issues",
            json={
                "project_id": mine["id"],
                "kind": "utilities",
                "description": "施工用电迟迟未接通",
                "source": "enterprise_report",
            },
        )
        assert r.status_code == 201, r.text
        own = r.json()
        r = await c.get("/api/v1/issues", params={"project_id": mine["id"]})
        assert [i["id"] for i in r.json()["items"]] == [own["id"]]
        r = await c.get(f"/api/v1/issues/{theirs['id']}")
        assert (r.status_code, r.json()["code"]) == (403, "issue.forbidden")
        r = await c.post(
            "/api/v1/issues",
            json={
                "project_id": other["id"],
                "kind": "utilities",
                "description": "别家的项目问题",
                "source": "enterprise_report",
            },
        )
        # issue 16: the registry hides a project the enterprise does not carry, so the project
        # id of this write is unknown to it: 422 project.not_found on the field, as for any id
        assert (r.status_code, r.json()["code"]) == (422, "project.not_found"), r.text
        assert r.json()["fields"][0]["field"] == "project_id"
        r = await act(c, own["id"], "analyse", {"finding": "自行研判", "within_authority": True})
        assert (r.status_code, r.json()["code"]) == (403, "issue.action_forbidden")  # sees, not acts
