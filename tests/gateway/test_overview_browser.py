"""The /overview page in a real browser (issue 17): Debian's Chromium driven by Playwright
(nothing downloaded at run time) on the demo county, as the key office and as a township;
the figures on the page are checked against the overview API, and screenshots are kept
under .ci/artifacts/ (git-ignored) for CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from services.registry import seed as registry_seed
from shared.db import job_session

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts"
PUBLISHED = ("2023-07", "2023-08")  # the demo year; no other test runs these months


@pytest.fixture
def chromium() -> Path:
    # never skipped: a machine without Debian's chromium fails here, saying what to install
    assert CHROMIUM.exists(), (
        "the overview's browser test needs Debian's Chromium at /usr/bin/chromium: "
        "apt-get install -y chromium (.ci/run installs it)"
    )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path):
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        yield b
        await b.close()


async def demo_county_with_published_months(platform) -> None:
    async with job_session() as s:
        await registry_seed.seed_demo(s)  # idempotent
    await platform.drain()  # the seed's projects and reports reach the scoring facts
    async with await platform.as_user("zdb") as c:
        for month in PUBLISHED:
            r = await c.get(f"/api/v1/assessments/{month}")
            if r.status_code == 200 and r.json()["status"] == "published":
                continue  # by the other test of this file
            r = await c.post(f"/api/v1/assessments/{month}/run")
            assert r.status_code == 200, r.text
            r = await c.post(f"/api/v1/assessments/{month}/publish")
            assert r.status_code == 200, r.text


def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def open_as(browser, platform, username: str, name: str):
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{platform.urls['gateway']}/overview?year=2023")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", "Kpp@2026")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(artifacts() / f"overview-{name}.png"), full_page=True)
    return context, page


async def figure(page, key: str) -> str:
    return (await page.inner_text(f"[data-figure='{key}']")).strip()


def pct(value: str) -> str:
    return f"{float(value) * 100:.2f}%"


async def test_overview_page_shows_the_demo_county_as_the_api_does(platform, browser):
    # policy R4, R5, R11, R30: what the page shows is what the overview API said
    await demo_county_with_published_months(platform)
    async with await platform.as_user("zdb") as c:
        api = (await c.get("/api/v1/overview", params={"year": 2023})).json()
    plan = api["sections"]["plan"]["data"]
    ranking = api["sections"]["scoring"]["data"]["ranking"]
    context, page = await open_as(browser, platform, "zdb", "key-office")
    try:
        # the declared 368.17亿 and the records' 368.49亿, side by side (R4)
        assert await figure(page, "plan.declared_yi") == "368.17"
        assert await figure(page, "plan.recorded_yi") == "368.49"
        mismatches = await page.locator("[data-mismatch]").all_inner_texts()
        assert len(mismatches) == len(plan["mismatches"]) > 0
        assert any("368.17" in m and "368.49" in m for m in mismatches)
        assert await figure(page, "starts.rate") == pct(plan["county_start_rate"]["value"])
        assert (await figure(page, "plan.reserve_ratio")).startswith(
            f"{float(plan['reserve_ratio']['value']):.2f}"
        )
        # the latest published month, and every unit's rank as the API gives it (R30)
        assert ranking["month"] == PUBLISHED[-1] and await figure(page, "ranking.month") == "2023-08"
        shown = {
            await row.get_attribute("data-unit"): await row.get_attribute("data-rank")
            for row in await page.locator("#ranking tr[data-unit]").all()
        }
        assert shown == {u["unit_id"]: str(u["rank"]) for u in ranking["units"]}
        # every block states the call it came from, and the page when it read its data
        sources = set(await page.locator("[data-source]").all_inner_texts())
        assert sources == {s["source"] for s in api["sections"].values()}
        assert await page.get_attribute("[data-figure=read_at]", "datetime")
        assert await page.locator("#ranking tr.mine").count() == 0  # the office has no rank
    finally:
        await context.close()


async def test_a_township_sees_its_own_unit_highlighted(platform, browser):
    await demo_county_with_published_months(platform)
    context, page = await open_as(browser, platform, "chengguan", "township")
    try:
        assert "城关镇" in await page.inner_text("#viewer")
        mine = page.locator("#ranking tr.mine")
        assert await mine.count() == 1
        assert await mine.get_attribute("data-unit") == "town-chengguan"
        assert await figure(page, "plan.declared_yi") == "368.17"
    finally:
        await context.close()
