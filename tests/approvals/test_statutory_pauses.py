"""Which pause reasons stop the clock (policy R18): the exclusions of 行政许可法 art. 45 by
default (听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审); anything else, e.g. 公示, keeps the
clock running unless an administrator adds it to the configured list."""

from __future__ import annotations

from services.approvals.config import approvals_settings


async def test_public_notice_does_not_stop_the_clock_by_default(hall):
    # policy R18: 公示 is not an art. 45 exclusion → refused, the clock keeps running
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "accepted", "2026-11-02")
    r = await hall.event(
        cid, "paused", "2026-11-03", reason="public_notice", evidence_ref="公示公告〔2026〕7号", expect=422
    )
    assert r["code"] == "approval_event.pause_reason_not_excluded" and "第四十五条" in r["detail"]
    view = await hall.get(cid)
    assert view["pauses"] == [] and view["phase"] == "running"
    # step 1 (3) from Mon 11/2 unpaused: 11/3=1, 11/4=2, 11/5=3 → due Thu 11/5
    assert view["steps"][0]["due_date"] == "2026-11-05"
    # 检疫 (quarantine) is one of art. 45's exclusions: accepted, named in Chinese
    await hall.event(cid, "paused", "2026-11-03", reason="quarantine", evidence_ref="检疫 JY-3")
    await hall.event(cid, "resumed", "2026-11-05")
    view = await hall.get(cid)
    assert [(p["reason"], p["reason_name"]) for p in view["pauses"]] == [("quarantine", "检疫")]
    # paused (11/3, 11/5] (11/4, 11/5 not counted): 11/3=1, 11/6=2, 11/9=3 → due Mon 11/9
    assert view["steps"][0]["due_date"] == "2026-11-09"


async def test_an_administrator_can_add_public_notice(hall, monkeypatch):
    # policy R18: the list is configuration (KPP_APPROVALS_PAUSE_REASONS)
    settings = approvals_settings()
    monkeypatch.setattr(settings, "pause_reasons", settings.pause_reasons | {"public_notice": "公示"})
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "accepted", "2026-11-02")
    await hall.event(cid, "paused", "2026-11-03", reason="public_notice", evidence_ref="公示-8")
    view = await hall.get(cid)
    assert view["state"] == "paused" and view["pauses"][0]["reason_name"] == "公示"
