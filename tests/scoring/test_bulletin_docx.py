"""The monthly bulletin as a Word document: title, status, summary, rankings, notices, summons."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.oxml.ns import qn

from services.scoring.dates import parse_business_date
from tests.scoring.conftest import emit, project_payload

# months no other test (nor the registry demo seed, 2023) writes facts into or runs
MONTH, PREVIOUS = "2016-05", "2016-04"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _report(project: dict, amount: str) -> None:
    await emit(
        "registry",
        "project.progress_reported",
        {
            "project_id": project["id"],
            "project_code": project["project_code"],
            "unit_id": project["unit_id"],
            "month": MONTH,
            "investment_month": amount,
            "cumulative_investment": amount,
            "progress_pct": 10,
            "reported_at": f"{MONTH}-28T08:00:00+08:00",
            "on_time": True,
            "version": 2,
        },
    )


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows[1:]]


async def _docx(c, month: str):
    r = await c.get(f"/api/v1/bulletins/{month}.docx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == DOCX
    assert f"bulletin-{month}.docx" in r.headers["content-disposition"]
    return Document(BytesIO(r.content))


async def test_docx_bulletin_carries_rankings_notices_and_summons(platform, uniq):
    # policy R29: the month's rankings (and the R30 five comparisons) in a Word bulletin
    # policy R28: the notices and summons of the month appear in it
    for unit, amount in (("town-nanchuan", "2600"), ("town-beiling", "900"), ("dept-zrzy", "400")):
        p = project_payload(uniq, unit)
        await emit("registry", "project.created", p)
        await _report(p, amount)
    await platform.drain()
    async with await platform.as_user("zdb") as c:
        letters = {}
        for unit, issued, deadline in (
            ("town-nanchuan", "2016-03-01", "2016-04-15"),  # 2nd notice in May → deputy summons
            ("dept-fgj", "2016-05-04", "2016-05-20"),  # 1st notice in May
        ):
            r = await c.post(
                "/api/v1/assignments",
                json={
                    "task": f"征地清表{uniq}{unit}",
                    "unit_id": unit,
                    "issued_on": issued,
                    "deadline": deadline,
                    "source": "leaders_meeting",
                },
            )
            assert r.status_code == 201, r.text
            letters[unit] = r.json()
        for month in (PREVIOUS, MONTH):
            r = await c.post(f"/api/v1/assessments/{month}/run")
            assert r.status_code == 200, r.text
        # finished in June: no later month (another test's) notices them again
        for a in letters.values():
            r = await c.post(f"/api/v1/assignments/{a['id']}/complete", json={"completed_on": "2016-06-01"})
            assert r.status_code == 200, r.text

        assessed = (await c.get(f"/api/v1/assessments/{MONTH}")).json()
        mine = {n["unit_id"]: n for n in assessed["notices"] if uniq in n["task"]}
        assert mine["town-nanchuan"]["ordinal"] == 2 and mine["dept-fgj"]["ordinal"] == 1

        draft = await _docx(c, MONTH)
        assert draft.paragraphs[0].text == "县重点项目建设2016年5月考核通报"
        assert "草稿" in draft.paragraphs[1].text and "未发布" in draft.paragraphs[1].text

        published = (await c.post(f"/api/v1/assessments/{MONTH}/publish")).json()
        assert published["status"] == "published"
        doc = await _docx(c, MONTH)

    # the East Asian font is the document's default, not a theme font
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋" and fonts.get(qn("w:eastAsiaTheme")) is None

    on = parse_business_date(published["published_at"])
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "县重点项目建设2016年5月考核通报"
    assert "已发布" in texts[1] and f"{on.year}年{on.month}月{on.day}日发布" in texts[1]
    assert texts[-2:] == ["县重点项目建设服务中心（重点办）", f"{on.year}年{on.month}月{on.day}日"]

    units = assessed["units"]
    towns = sorted((u for u in units if u["kind"] == "township"), key=lambda u: (u["rank"], u["unit_id"]))
    depts = sorted((u for u in units if u["kind"] == "department"), key=lambda u: (u["rank"], u["unit_id"]))
    summary = next(t for t in texts if t.startswith("2016年5月，共有"))
    assert f"共有{len(units)}个单位" in summary and f"乡镇{len(towns)}个、部门{len(depts)}个" in summary
    assert f"乡镇综合得分前三名依次为：{towns[0]['unit_name']}（{towns[0]['score']}分）" in summary
    assert f"部门综合得分前三名依次为：{depts[0]['unit_name']}（{depts[0]['score']}分）" in summary
    assert f"交办事项{len(assessed['notices'])}件" in summary and "分管领导约谈" in summary

    town_table, dept_table, notice_table, summons_table = doc.tables
    header = [c.text for c in town_table.rows[0].cells]
    # policy R30: the policy's own wording (一比谋划、晒前期 …)
    assert header == ["名次", "单位", "综合得分", "晒前期", "晒签约", "晒进度", "晒成效", "晒质量"]
    comparisons = assessed["comparisons"]
    for table, expected in ((town_table, towns), (dept_table, depts)):
        rows = _rows(table)
        assert [r[:3] for r in rows] == [[str(u["rank"]), u["unit_name"], u["score"]] for u in expected]
        # the five comparison ranks (R30), each within the unit's kind
        for row, u in zip(rows, expected, strict=True):
            ranks = [
                next(x["rank"] for x in comparisons[key][u["kind"]] if x["unit_id"] == u["unit_id"])
                for key in ("planning", "contracts", "starts", "production", "service")
            ]
            assert row[3:] == [str(r) for r in ranks]
    nanchuan = next(u for u in towns if u["unit_id"] == "town-nanchuan")
    assert nanchuan["figures"]["investment_completed"] == "2600.0000"

    notice_rows = {r[2]: r for r in _rows(notice_table)}
    assert notice_rows[f"征地清表{uniq}town-nanchuan"][1] == "南川镇"
    assert notice_rows[f"征地清表{uniq}town-nanchuan"][4] == "第2次"
    assert notice_rows[f"征地清表{uniq}dept-fgj"][1:2] + notice_rows[f"征地清表{uniq}dept-fgj"][4:5] == [
        "县发展和改革局",
        "第1次",
    ]
    # the deputy county head in charge of 南川镇 in the directory is 韩振东
    summons = [r for r in _rows(summons_table) if r[1].startswith("南川镇")]
    assert summons and any(r[2] == "分管领导约谈" and "韩振东" in r[3] for r in summons)


async def test_docx_bulletin_refuses_like_the_xlsx(platform):
    # policy R29: same readers and errors as the xlsx bulletin
    async with await platform.as_user("zdb") as c:
        for fmt in ("xlsx", "docx"):
            r = await c.get(f"/api/v1/bulletins/2016-13.{fmt}")
            assert r.status_code == 422 and r.json()["code"] == "month.invalid"
            r = await c.get(f"/api/v1/bulletins/1998-02.{fmt}")
            assert r.status_code == 404 and r.json()["code"] == "assessment.not_run"
    async with await platform.as_user("qiye") as c:
        r = await c.get(f"/api/v1/bulletins/{MONTH}.docx")
        assert (r.status_code, r.json()["code"]) == (403, "auth.role_forbidden")
