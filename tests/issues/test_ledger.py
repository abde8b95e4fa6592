"""The work ledger (工作台账) as JSON and xlsx (R23 five-in-place columns, R24, R25)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.issues.conftest import report, walk_to_assigned


async def test_ledger_json_and_xlsx_carry_the_five_step_days_left_and_redo(platform, project):
    # policy R23/R24/R25: five-in-place columns, step, days left or overdue, redo count
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        await walk_to_assigned(c, issue["id"], time_limit_days=7)
        r = await c.get("/api/v1/issues/ledger", params={"project_id": project["id"]})
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == 1
        row = body["items"][0]
        assert row["responsible_unit"] == "县发展和改革局"
        assert row["responsible_leader"] == "李建华" and row["time_limit_days"] == 7
        assert row["step"] == "assigned" and row["working_days_left"] == 7
        assert row["redo_count"] == 0 and row["supervision"] == "督办中"
        r = await c.get("/api/v1/issues/ledger", params={"project_id": project["id"], "format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    ws = load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    header, data = rows[1], rows[2]
    assert header[:3] == ("序号", "项目代码", "项目名称")
    assert {
        "责任单位",
        "责任领导",
        "责任人",
        "解决措施",
        "办理时限（工作日）",
        "当前环节",
        "剩余/超期（工作日）",
        "重办次数",
    } <= set(header)
    record = dict(zip(header, data, strict=True))
    assert record["项目代码"] == project["project_code"]
    assert record["当前环节"] == "交办督办" and record["剩余/超期（工作日）"] == 7
    assert record["责任人"] == "李娜" and record["重办次数"] == 0


async def test_ledger_respects_who_sees_what(platform, project):
    async with await platform.as_user("chengguan") as c:
        await report(c, project["id"])
    async with await platform.as_user("donghe") as c:
        r = await c.get("/api/v1/issues/ledger", params={"project_id": project["id"]})
        assert r.json()["total"] == 0
