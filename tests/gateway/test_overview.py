"""亮晒 overview at the gateway (issue 17): every section from a service's read API, each
naming its call, the moment the data was read, and a silent service named instead of a 5xx."""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime

from services.registry import seed as registry_seed
from shared.db import job_session
from shared.settings import get_settings
from tests.gateway.conftest import project_body


async def demo_county() -> None:
    async with job_session() as s:  # idempotent: loads the seed's 2023 plan once per run
        await registry_seed.seed_demo(s)


@contextlib.contextmanager
def unreachable(service: str):
    """Point the gateway's calls to ``service`` at a loopback port nobody listens on."""
    settings = get_settings()
    attr = f"{service}_url"
    saved = getattr(settings, attr)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        setattr(settings, attr, f"http://127.0.0.1:{sock.getsockname()[1]}")
        try:
            yield
        finally:
            setattr(settings, attr, saved)


async def test_overview_shows_the_demo_plan_mismatch_and_when_it_was_read(platform, clock_at):
    # policy R4, R5, R11: the declared 368.17亿 against the categories' 368.49亿, the reserve
    # ratio against 5× and the start rate against 83 %, each stating the call it came from
    await demo_county()
    clock_at(datetime(2024, 1, 15, 2, 30, tzinfo=UTC))  # 10:30 in Shanghai
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/overview", params={"year": 2023})
        direct = (await c.get("/api/v1/plans/2023/summary")).json()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["read_at"].startswith("2024-01-15T02:3") and body["business_date"] == "2024-01-15"
    plan = body["sections"]["plan"]
    assert plan["status"] == "ok" and plan["source"] == "GET /api/v1/plans/2023/summary"
    found = {(m["kind"], m["field"]): m for m in plan["data"]["mismatches"]}
    internal = found[("declared_internal", "by_category.total_investment")]
    assert "368.17" in internal["detail"] and "368.49" in internal["detail"]
    assert plan["data"]["reserve_ratio"]["target"] == "5"
    assert plan["data"]["reserve_ratio"] == direct["reserve_ratio"]
    # the demo county: 22 of its 27 county key projects started, 81.48 % < 83 %
    rate = plan["data"]["county_start_rate"]
    assert (rate["numerator"], rate["denominator"], rate["met"]) == (22, 27, False)
    assert {s["source"] for s in body["sections"].values()} == {
        "GET /api/v1/plans/2023/summary",
        "GET /api/v1/plans/2023/monthly",
        "GET /api/v1/approval-cases/overview?year=2023",
        "GET /api/v1/issues/overview?year=2023",
        "GET /api/v1/bulletins/overview?year=2023",
    }
    assert all(s["status"] == "ok" for s in body["sections"].values()), body["sections"]


async def test_trend_sums_each_months_current_report(platform, uniq):
    # policy R6, R27: the monthly investment line adds each project's current report of the
    # month; 2011 is a year no other test reports in. 120.5 + 80.25 = 200.75万元 = 0.0201亿
    span = {"since": "2011-01-01", "until": "2011-12-31"}
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            json=project_body(uniq, libraries=[{"library": "annual", "kind": "new", **span}]),
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        for month, inv, cum, pct in (
            ("2011-01", "120.5", "120.5", "10"),
            ("2011-02", "80.25", "200.75", "18"),
        ):
            r = await c.post(
                f"/api/v1/projects/{pid}/progress",
                json={
                    "month": month,
                    "investment_month": inv,
                    "cumulative_investment": cum,
                    "progress_pct": pct,
                },
            )
            assert r.status_code == 201, r.text
        body = (await c.get("/api/v1/overview", params={"year": 2011})).json()
    trend = body["sections"]["trend"]["data"]
    months = {m["month"]: m for m in trend["months"]}
    assert (months["2011-01"]["investment_month"], months["2011-02"]["investment_month"]) == (
        "120.5000",
        "80.2500",
    )
    assert months["2011-02"]["cumulative"] == "200.7500" and trend["total_yi"] == "0.0201"
    assert months["2011-03"]["investment_month"] == "0.0000" and len(trend["months"]) == 12


async def test_a_silent_service_makes_its_section_say_so(platform):
    # architecture: the page never fails for one service; its section names the service
    with unreachable("issues"):
        async with await platform.as_user("leader") as c:
            r = await c.get("/api/v1/overview", params={"year": 2023})
    assert r.status_code == 200, r.text
    issues = r.json()["sections"]["issues"]
    assert issues["status"] == "unavailable" and "data" not in issues
    assert "问题服务" in issues["detail"]
    assert r.json()["sections"]["plan"]["status"] == "ok"


async def test_township_is_named_and_enterprise_refused(platform):
    # a township or department reads the overview with its own unit to highlight; the
    # overview is for government staff, not for enterprises (their own projects only)
    async with await platform.as_user("chengguan") as c:
        r = await c.get("/api/v1/overview", params={"year": 2023})
    assert r.status_code == 200, r.text
    assert r.json()["viewer"]["unit_id"] == "town-chengguan"
    assert any(u["id"] == "town-chengguan" and u["name"] == "城关镇" for u in r.json()["units"])
    async with await platform.as_user("qiye") as c:
        r = await c.get("/api/v1/overview", params={"year": 2023})
    assert r.status_code == 403 and r.json()["code"] == "overview.staff_only"
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/overview", params={"year": "abc"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


async def test_the_page_and_its_files_are_served_without_any_outside_resource(platform):
    # issue 17: the page works offline — its script, style and CJK font come from the gateway
    async with platform.client() as c:
        page = await c.get("/overview")
        script = await c.get("/overview/overview.js")
        font = await c.get("/overview/cjk.otf")
        style = await c.get("/overview/overview.css")
        missing = await c.get("/overview/secret.py")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "重点项目建设亮晒总览" in page.text
    for text in (page.text, script.text, style.text):  # no CDN, no outside address
        text = text.replace("http://www.w3.org/2000/svg", "")  # a namespace name, never fetched
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert script.status_code == 200 and "/api/v1/overview" in script.text
    assert font.status_code == 200 and font.content[:4] == b"OTTO"  # an OpenType (CFF) font
    assert missing.status_code == 404
