"""One project, one file (policy R7 一项一档) as one xlsx export: the same data as the JSON
dossier, with a 说明 sheet naming any part that could not be fetched."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from openpyxl import load_workbook

from tests.registry.conftest import approvals_unreachable

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SHEETS = ["项目概况", "月度进度", "照片", "文件", "审批", "问题", "变更记录", "说明"]
LIBS = [
    {"library": "annual", "kind": "new", "since": "2025-01-01"},
    {"library": "key", "level": "provincial", "since": "2025-01-01"},
]


def book(content: bytes):
    return load_workbook(io.BytesIO(content))


def rows(ws) -> list[dict]:
    """The sheet's rows below its header as {header: value}."""
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=False)) for r in values[1:]]


def column(ws, header: str) -> list:
    return [r[header] for r in rows(ws)]


async def test_dossier_export_holds_the_whole_file(platform, make_project, uniq):
    # policy R7: project, progress, photos, approvals, problems and history in one workbook
    p = await make_project(uniq, user="chengguan", total_investment="5000.1234", libraries=LIBS)
    base = f"/api/v1/projects/{p['id']}"
    async with await platform.as_user("chengguan") as c:
        for month, inv, cum in (("2023-03", "123.4567", "123.4567"), ("2023-04", "1000.0001", "1123.4568")):
            r = await c.post(
                f"{base}/progress",
                json={
                    "month": month,
                    "investment_month": inv,
                    "cumulative_investment": cum,
                    "progress_pct": "12.5",
                    "milestone": "场平完成",
                    "problems": "=用地待批",
                },
            )
            assert r.status_code == 201, r.text
        r = await c.post(f"{base}/progress/2023-03/photos", files={"file": ("site.png", PNG, "image/png")})
        assert r.status_code == 201, r.text
        photo = r.json()
    async with await platform.as_user("xzsp") as c:
        r = await c.post(
            "/api/v1/approval-cases",
            json={"project_id": p["id"], "project_code": p["project_code"], "kind": "low_risk_small"},
        )
        assert r.status_code == 201, r.text
        case = r.json()
    async with await platform.as_user("chengguan") as c:
        r = await c.get(f"{base}/dossier.xlsx")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert f"dossier-{p['project_code']}.xlsx" in r.headers["content-disposition"]
        wb = book(r.content)
        d = (await c.get(f"{base}/dossier")).json()
    assert wb.sheetnames == SHEETS

    info = {r["字段"]: r["值"] for r in rows(wb["项目概况"])}
    assert info["项目代码"] == p["project_code"] and info["项目名称"] == p["name"]
    assert info["责任单位"] == "城关镇" and info["类别"] == "产业类"
    assert Decimal(str(info["总投资"])) == Decimal("5000.1234")
    ws = wb["项目概况"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    money_cell = next(r[1] for r in ws.iter_rows(min_row=2) if r[0].value == "总投资")
    assert "万元" in money_cell.number_format
    labels = [r[0] for r in ws.iter_rows(values_only=True)]
    assert "省级" in [r[2] for r in ws.iter_rows(values_only=True)]  # the key membership
    assert {"所属子库", "项目生命周期（R8）", "节点目标（R11）", "一二三节点（R10）"} <= set(labels)

    ws = wb["月度进度"]
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    prog = rows(ws)
    assert [r["月份"] for r in prog] == ["2023-03", "2023-04"]
    assert [Decimal(str(r["本月完成投资"])) for r in prog] == [Decimal("123.4567"), Decimal("1000.0001")]
    assert [Decimal(str(r["累计完成投资"])) for r in prog] == [Decimal("123.4567"), Decimal("1123.4568")]
    assert "万元" in ws["B2"].number_format and ws["B2"].data_type == "n"
    assert prog[0]["存在问题"] == "=用地待批" and ws["F2"].data_type == "s"  # text, not a formula
    assert prog[0]["版本"] == 1 and prog[0]["形象进度"] == 12.5
    assert isinstance(prog[0]["报送时间"], datetime)

    (ph,) = rows(wb["照片"])
    assert ph["文件名"] == "site.png" and ph["月份"] == "2023-03" and ph["大小（字节）"] == len(PNG)
    assert ph["SHA-256"] == photo["sha256"] and ph["下载路径"] == f"/api/v1/files/{photo['id']}"

    steps = [r for r in rows(wb["审批"]) if r["案件编号"] == case["id"]]
    assert steps and all(r["状态"] and r["环节"] for r in steps)
    view = d["approvals"]["items"][0]
    assert [r["环节"] for r in steps] == [s["step_name"] for s in view["steps"]]
    assert [r["剩余工作日"] for r in steps] == [s["left_days"] for s in view["steps"]]
    assert rows(wb["问题"]) == [] and [c.value for c in wb["问题"][1]][:4] == [
        "问题编号",
        "问题类型",
        "问题描述",
        "环节",
    ]

    history = rows(wb["变更记录"])
    assert history[0]["操作"] == "创建" and history[0]["操作人"].endswith("chengguan")
    assert isinstance(history[0]["时间"], datetime)
    assert len(history) == len(d["history"])
    notes = {r["事项"]: r["说明"] for r in rows(wb["说明"])}
    assert notes["完整性"] == "各部分均已取得" and not d["missing_parts"]


async def test_township_cannot_export_another_townships_project(platform, make_project, uniq):
    # policy R7: the export is authorised exactly as the JSON dossier
    p = await make_project(uniq, unit_id="town-donghe")
    async with await platform.as_user("chengguan") as c:
        json_r = await c.get(f"/api/v1/projects/{p['id']}/dossier")
        r = await c.get(f"/api/v1/projects/{p['id']}/dossier.xlsx")
    assert (json_r.status_code, json_r.json()["code"]) == (404, "project.not_found")  # issue 16
    assert r.status_code == json_r.status_code and r.json()["code"] == json_r.json()["code"]
    assert p["name"] not in r.text
    async with await platform.as_user("donghe") as c:
        assert (await c.get(f"/api/v1/projects/{p['id']}/dossier.xlsx")).status_code == 200


async def test_export_names_the_missing_part_when_approvals_are_down(platform, make_project, uniq):
    # policy R7: a service that is down is named in 说明, the export is still produced
    p = await make_project(uniq)
    async with await platform.as_user("zdb") as c:
        with approvals_unreachable():
            r = await c.get(f"/api/v1/projects/{p['id']}/dossier.xlsx")
    assert r.status_code == 200, r.text
    wb = book(r.content)
    assert wb.sheetnames == SHEETS
    notes = {r["事项"]: r["说明"] for r in rows(wb["说明"])}
    assert notes["缺失部分：审批"] == "审批服务暂不可用，审批部分缺失"
    assert "完整性" not in notes and "缺失部分：问题" not in notes
    assert rows(wb["审批"]) == []
    assert {r["字段"]: r["值"] for r in rows(wb["项目概况"])}["项目代码"] == p["project_code"]
    assert rows(wb["变更记录"])[0]["操作"] == "创建"
