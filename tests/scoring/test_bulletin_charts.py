"""The monthly bulletin's charts (issue 17): in the .docx and the .xlsx, drawn from the
month's published result, each carrying the figures it shows."""

from __future__ import annotations

import json
from io import BytesIO

from docx import Document
from openpyxl import load_workbook

from tests.scoring.conftest import emit, emit_progress, project_payload

# months no other test (nor the registry demo seed, 2023) writes facts into or runs
MARCH, APRIL = "2013-03", "2013-04"


def _described(shapes) -> dict[str, dict]:
    """Each picture's title → the figures its description carries."""
    out = {}
    for s in shapes:
        pr = s._inline.docPr
        title, _, data = pr.get("descr").partition("｜")
        assert title == pr.get("title")
        out[title] = json.loads(data)
    return out


async def test_bulletin_charts_carry_the_published_months_figures(platform, uniq):
    # policy R30 (ranking bars), R11 (start rate against 83 %), R27 (monthly investment trend)
    # 南川镇: planned to start 2013-02-01, started 2013-03-10 (done); 北岭镇: planned
    # 2013-03-01, not started → 1 of 2 planned starts done: 50.00 %, below 83 %.
    # Investment: March 南川 2600; April 南川 400 + 北岭 900 = 1300 (万元).
    south = project_payload(
        uniq, "town-nanchuan", planned_start="2013-02-01", actual_start="2013-03-10", stage="started"
    )
    north = project_payload(uniq, "town-beiling", planned_start="2013-03-01")
    for p in (south, north):
        await emit("registry", "project.created", p)
    await emit_progress(south, MARCH, "2600")
    await emit_progress(south, APRIL, "400", cumulative="3000")
    await emit_progress(north, APRIL, "900")
    await platform.drain()
    async with await platform.as_user("zdb") as c:
        for month in (MARCH, APRIL):
            r = await c.post(f"/api/v1/assessments/{month}/run")
            assert r.status_code == 200, r.text
        r = await c.post(f"/api/v1/assessments/{APRIL}/publish")
        assert r.status_code == 200, r.text
        result = (await c.get(f"/api/v1/assessments/{APRIL}")).json()
        word = await c.get(f"/api/v1/bulletins/{APRIL}.docx")
        excel = await c.get(f"/api/v1/bulletins/{APRIL}.xlsx")
    assert word.status_code == 200 and excel.status_code == 200
    doc = Document(BytesIO(word.content))
    charts = _described(doc.inline_shapes)
    assert len(doc.inline_shapes) == 4 and all(
        s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in doc.inline_shapes
    )
    for kind, name in (("township", "乡镇"), ("department", "部门")):
        expected = sorted(
            (u for u in result["units"] if u["kind"] == kind), key=lambda u: (u["rank"], u["unit_id"])
        )
        bars = charts[f"{APRIL} {name}综合得分排名"]["units"]
        assert [(b["rank"], b["unit"], b["score"]) for b in bars] == [
            (u["rank"], u["unit_name"], u["score"]) for u in expected
        ]
    gauge = charts[f"{APRIL} 年度计划开工率"]
    assert gauge == {"started": 1, "planned": 2, "rate": "0.5000", "target": "0.83", "met": False}
    trend = charts["2013年各月完成投资（万元）"]["months"]
    assert [(m["month"], m["investment"]) for m in trend] == [(MARCH, "2600.0000"), (APRIL, "1300.0000")]
    # the chart images are real PNGs
    blobs = [rel.target_part.blob for rel in doc.part.rels.values() if "image" in rel.reltype]
    assert len(blobs) == 4 and all(b.startswith(b"\x89PNG") for b in blobs)

    wb = load_workbook(BytesIO(excel.content))
    sheet = wb["图表"]
    assert len(sheet._images) == 4
    described = {
        sheet.cell(r, 1).value: sheet.cell(r + 1, 1).value
        for r in range(1, sheet.max_row)
        if sheet.cell(r, 1).value in charts
    }
    assert {t: json.loads(d.partition("｜")[2]) for t, d in described.items()} == charts
