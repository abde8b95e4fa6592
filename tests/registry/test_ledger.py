"""The list with filters, the xlsx template/import/export (R1–R3, R6, R14) and the dossier (R7)."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from services.registry.excel import read_rows
from services.registry.excel_columns import HEADERS, cell_value, row_to_input
from services.registry.schemas import ProjectIn
from shared.db import job_session
from tests.registry.conftest import approvals_unreachable, credit_code, new_code


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(uniq: str, **over) -> list:
    values = {h: None for h in HEADERS}
    values.update(
        {
            "项目代码": new_code(uniq),
            "项目名称": f"导入项目{uniq}",
            "责任单位": "城关镇",
            "统一社会信用代码": credit_code(uniq),
            "项目承载单位": "晋城关建设有限公司",
            "类别": "基础设施类",
            "总投资（万元）": "3200.25",
            "政府投资": "是",
            "年度建设类型": "新开工",
            "年度库入库日期": "2025-01-06",
            "重点项目级别": "县级",
            "重点库入库日期": "2025-01-06",
            "项目阶段": "签约",
            "阶段日期": "2025-01-02",
            "标签": f"{uniq};导入",
            "包联领导": "韩振东",
            "工作专班": "项目工作专班",
            "推进方案": "挂图作战，按月调度",
        }
    )
    values.update(over)
    return [values[h] for h in HEADERS]


async def test_list_filters_and_paging(platform, make_project, uniq):
    # policy R1, R2, R3, R6: filter by library, level, unit, tag, band, stage, year, q
    common = {"tags": [uniq]}
    hit = await make_project(
        uniq + "1",
        unit_id="town-chengguan",
        libraries=[
            {"library": "annual", "kind": "new", "since": "2025-01-01"},
            {"library": "key", "level": "county", "since": "2025-01-01"},
        ],
        **common,
    )
    await make_project(
        uniq + "2",
        unit_id="town-donghe",
        libraries=[
            {"library": "annual", "kind": "new", "since": "2025-01-01"},
            {"library": "key", "level": "county", "since": "2025-01-01"},
        ],
        **common,
    )
    await make_project(uniq + "3", unit_id="town-chengguan", total_investment="100", **common)
    async with await platform.as_user("zdb") as c:
        r = await c.get(
            "/api/v1/projects",
            params={"library": "key", "level": "county", "unit": "town-chengguan", "tag": uniq},
        )
        assert r.status_code == 200
        assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == hit["id"]
        r = await c.get("/api/v1/projects", params={"tag": uniq, "page_size": 2, "page": 2})
        assert r.json()["total"] == 3 and len(r.json()["items"]) == 1
        r = await c.get("/api/v1/projects", params={"tag": uniq, "scale_band": "small"})
        assert r.json()["total"] == 1
        r = await c.get("/api/v1/projects", params={"tag": uniq, "year": 2025, "library": "key"})
        assert r.json()["total"] == 2
        r = await c.get("/api/v1/projects", params={"q": f"测试项目{uniq}1"})
        assert r.json()["total"] == 1
    async with await platform.as_user("chengguan") as c:  # a township lists only its own
        r = await c.get("/api/v1/projects", params={"tag": uniq})
        assert r.json()["total"] == 2


async def test_template_has_chinese_headers(platform):
    # policy R6: the ledger template
    async with await platform.as_user("chengguan") as c:
        r = await c.get("/api/v1/projects/template")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in ws[1]] == HEADERS


async def test_import_all_or_nothing_with_every_bad_row(platform, uniq):
    # policy R14, R3: every bad row reported (row, column, problem); nothing written
    good = row(uniq + "g")
    bad_code = row(uniq + "b1", 项目代码="2023-14-44-01-1")
    bad_money = row(uniq + "b2", **{"总投资（万元）": "1e3"})
    bad_credit = row(uniq + "b3", 统一社会信用代码="91140000MA0C1XY833")
    bad_unit = row(uniq + "b4", 责任单位="不存在的镇")
    content = xlsx([good, bad_code, bad_money, bad_credit, bad_unit])
    files = {"file": ("ledger.xlsx", content, "application/octet-stream")}
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects/import", files=files)
        assert r.status_code == 422, r.text
        report = r.json()
        assert report["code"] == "import.rows_invalid" and report["bad_rows"] == 4
        assert {(e["row"], e["column"]) for e in report["errors"]} == {
            (3, "项目代码"),
            (4, "总投资（万元）"),
            (5, "统一社会信用代码"),
            (6, "责任单位"),
        }
        r = await c.get(f"/api/v1/projects/by-code/{good[0]}")
        assert r.status_code == 404  # all or nothing: the good row was not written either
        r = await c.post("/api/v1/projects/import", params={"partial": "true"}, files=files)
        assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["bad_rows"] == 4
        r = await c.get(f"/api/v1/projects/by-code/{good[0]}")
        assert r.status_code == 200 and r.json()["in_library"] is True


async def test_import_written_chunk_by_chunk_is_still_all_or_nothing(platform, uniq, monkeypatch):
    # policy R14 (duplicates in the library), architecture (one transaction a request): the
    # import copies chunk by chunk; a refusal found in the last chunk, after the first two were
    # copied, leaves nothing of the file; partial writes the good rows, each audited and
    # announced once
    from services.registry import excel

    monkeypatch.setattr(excel, "IMPORT_CHUNK", 2)
    taken = row(uniq + "t")
    good = [row(f"{uniq}g{i}") for i in range(5)]
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects/import", files={"file": ("a.xlsx", xlsx([taken]))})
        assert r.status_code == 200 and r.json()["created"] == 1, r.text
        files = {"file": ("b.xlsx", xlsx([*good, taken]))}  # rows 2–6 good, row 7 registered
        r = await c.post("/api/v1/projects/import", files=files)
        assert r.status_code == 422, r.text
        assert [(e["row"], e["problem"]) for e in r.json()["errors"]] == [(7, "项目代码已在库中")]
        for g in good:  # rows 2–5 were copied (chunks 1 and 2) before row 7 was refused
            assert (await c.get(f"/api/v1/projects/by-code/{g[0]}")).status_code == 404
        r = await c.post("/api/v1/projects/import", params={"partial": "true"}, files=files)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["bad_rows"]) == (5, 1)
        ids = [(await c.get(f"/api/v1/projects/by-code/{g[0]}")).json()["project_id"] for g in good]
    async with job_session() as session:
        audited = (
            await session.execute(
                text(
                    "SELECT entity_id, count(*) FROM registry.audit_log WHERE action = 'import' "
                    "AND entity_id = ANY(:ids) GROUP BY entity_id"
                ),
                {"ids": ids},
            )
        ).all()
        announced = (
            await session.execute(
                text(
                    "SELECT key, count(*) FROM registry.outbox WHERE type = 'project.created' "
                    "AND key = ANY(:ids) GROUP BY key"
                ),
                {"ids": ids},
            )
        ).all()
    assert sorted(audited) == sorted(announced) == sorted((i, 1) for i in ids)


async def test_township_imports_only_its_own_rows(platform, uniq):
    # architecture: a township writes only its own projects
    content = xlsx([row(uniq, 责任单位="东河镇")])
    async with await platform.as_user("chengguan") as c:
        r = await c.post("/api/v1/projects/import", files={"file": ("a.xlsx", content)})
    assert r.status_code == 422 and "其他单位" in r.json()["errors"][0]["problem"]


async def test_export_import_round_trip(platform, uniq):
    # policy R1–R3, R14: export → import reproduces every ledger field
    rows = [
        row(
            uniq + str(i),
            项目阶段="开工",
            阶段日期="2025-02-0" + str(i + 1),
            重大产业项目="是" if i else "否",
        )
        for i in range(3)
    ]
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects/import", files={"file": ("a.xlsx", xlsx(rows))})
        assert r.status_code == 200 and r.json()["created"] == 3, r.text
        r = await c.get("/api/v1/projects/export", params={"tag": uniq + "0"})
        assert r.status_code == 200
        exported = r.content
        originals = {}
        for p in (await c.get("/api/v1/projects", params={"tag": "导入", "q": uniq})).json()["items"]:
            originals[p["project_code"]] = p
    parsed = read_rows(exported)
    assert len(parsed) == 1
    data = ProjectIn.model_validate(
        row_to_input({k: cell_value(k, v, {"城关镇": "town-chengguan"}) for k, v in parsed[0][1].items()})
    )
    p = originals[data.project_code]
    assert (data.name, data.unit_id, data.category, data.carrying_unit_credit_code) == (
        p["name"],
        p["unit_id"],
        p["category"],
        p["carrying_unit_credit_code"],
    )
    assert format(data.total_investment, "f") == "3200.2500" == p["total_investment"]
    assert data.stage == p["stage"] == "started" and str(data.stage_on) == p["stage_dates"]["started"]
    # a key membership's kind is the annual one's (derived), so it is not a column of its own
    assert [(m.library, m.kind, m.level, str(m.since)) for m in data.libraries] == [
        (m["library"], m["kind"] if m["library"] != "key" else None, m["level"], m["since"])
        for m in p["libraries"]
    ]
    assert data.tags == p["tags"] and data.government_investment is p["government_investment"]
    async with await platform.as_user("zdb") as c:  # importing the export again: duplicates only
        r = await c.post("/api/v1/projects/import", files={"file": ("b.xlsx", exported)})
        assert r.status_code == 422 and r.json()["errors"][0]["problem"] == "项目代码已在库中"


async def test_dossier_names_a_missing_part(platform, make_project, uniq):
    # policy R7: one project, one file; a service that is down is named, not fatal
    p = await make_project(uniq)
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/projects/{p['id']}/dossier")
        assert r.status_code == 200, r.text
        assert r.json()["project"]["id"] == p["id"] and "history" in r.json()
        with approvals_unreachable():
            r = await c.get(f"/api/v1/projects/{p['id']}/dossier")
        assert r.status_code == 200
        d = r.json()
        assert "approvals" in d["missing_parts"] and d["approvals"]["available"] is False
        assert d["approvals"]["reason"] == "unreachable" and d["project"]["id"] == p["id"]
