"""Projects: identity (R14), bands (R3), libraries (R1, R2), lifecycle (R8), PATCH with ETag."""

from __future__ import annotations

from decimal import Decimal

from services.registry.codes import scale_band
from services.registry.config import registry_settings
from tests.registry.conftest import body, credit_code
from tests.registry.test_ledger import row, xlsx


def test_scale_bands_count_the_bounds_as_the_law_does():
    # policy R3: 3000万元以下 includes 3,000万; 5000万元以上 includes 5,000万 (民法典 art. 1259)
    assert scale_band(Decimal("3000")) == "small"
    assert scale_band(Decimal("3000.0001")) == "medium"
    assert scale_band(Decimal("4999.9999")) == "medium"
    assert scale_band(Decimal("5000")) == "large"
    settings = registry_settings()
    saved = settings.band_small_max, settings.band_large_min
    try:  # the bounds are configuration (KPP_REGISTRY_BAND_SMALL_MAX / _BAND_LARGE_MIN)
        settings.band_small_max, settings.band_large_min = Decimal("1000"), Decimal("10000")
        assert scale_band(Decimal("3000")) == "medium" and scale_band(Decimal("5000")) == "medium"
    finally:
        settings.band_small_max, settings.band_large_min = saved


async def test_create_full_project_and_read_back(platform, uniq):
    # policy R14, R1, R2, R3: identity, four ones, libraries with dates, derived band
    cc = credit_code(uniq)
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/projects",
            json=body(
                uniq,
                carrying_unit_name="晋能新材料有限公司",
                carrying_unit_credit_code=cc,
                contact_leader="韩振东",
                team="城关镇项目专班",
                work_plan="一期2023年底竣工",
                follow_owner="马文斌",
                government_investment=True,
                total_investment="5000",
                libraries=[
                    {"library": "annual", "kind": "new", "since": "2025-01-10"},
                    {"library": "key", "level": "county", "since": "2025-02-01"},
                ],
                tags=["园区", "新材料"],
                planned_start="2023-03-01",
                planned_finish="2024-06-30",
            ),
        )
        assert r.status_code == 201, r.text
        p = r.json()
        assert p["scale_band"] == "large"  # policy R3: 5000万元以上 includes 5,000万 (民法典 art. 1259)
        assert p["carrying_unit_credit_code"] == cc and p["contact_leader"] == "韩振东"
        key = next(m for m in p["libraries"] if m["library"] == "key")
        assert key == {
            "library": "key",
            "kind": "new",
            "level": "county",
            "since": "2025-02-01",
            "until": None,
        }
        assert p["stage"] == "signed" and p["version"] == 1
        r = await c.get(f"/api/v1/projects/{p['id']}")
        assert r.status_code == 200 and r.headers["etag"] == '"1"'


async def test_scale_band_boundaries(make_project, uniq):
    # policy R3: ≤ 3,000 small; between medium; ≥ 5,000 large (以上/以下 include the number)
    bands = {}
    for i, amount in enumerate(["3000", "3000.0001", "4999.9999", "5000"]):
        p = await make_project(f"{uniq[:6]}{i}0", total_investment=amount)
        bands[amount] = p["scale_band"]
    assert bands == {"3000": "small", "3000.0001": "medium", "4999.9999": "medium", "5000": "large"}


async def test_bad_codes_and_money_are_422_naming_the_field(platform, uniq):
    # policy R14, R3: bad project code, bad credit code, bad money → 422 naming the field and why
    async with await platform.as_user("zdb") as c:
        cases = [
            ({"project_code": "2023-14-44-01-1"}, "project_code"),
            ({"carrying_unit_credit_code": "91140000MA0C1XY833"}, "carrying_unit_credit_code"),
            ({"total_investment": "1e3"}, "total_investment"),
            ({"total_investment": "-5"}, "total_investment"),
            ({"total_investment": "1.23456"}, "total_investment"),
        ]
        for over, field in cases:
            r = await c.post("/api/v1/projects", json=body(uniq, **over))
            assert r.status_code == 422, (over, r.text)
            fields = {f["field"].split(".")[-1]: f["message"] for f in r.json()["fields"]}
            assert field in fields and fields[field], r.json()


async def test_unknown_unit_and_duplicate_code(platform, make_project, uniq):
    # policy R14: the unit in charge is in the directory; a code is registered once
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body(uniq, unit_id="town-nowhere"))
        assert r.status_code == 422 and r.json()["code"] == "unit.unknown"
    await make_project(uniq)
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body(uniq))
        assert r.status_code == 409 and r.json()["code"] == "project.duplicate_code"


async def test_key_project_must_be_annual(platform, uniq):
    # policy R1: a key project is also an annual construction project
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects", json=body(uniq, libraries=[{"library": "key", "level": "county"}])
        )
        assert r.status_code == 422


async def test_patch_needs_if_match_and_refuses_stale(platform, make_project, uniq):
    # architecture: optimistic concurrency; policy R8: dated, audited stage history
    p = await make_project(uniq, user="chengguan", stage_on="2023-03-01")
    url = f"/api/v1/projects/{p['id']}"
    async with await platform.as_user("chengguan") as c:
        r = await c.patch(url, json={"name": "改名后的项目"})
        assert r.status_code == 428 and r.json()["code"] == "precondition.required"
        # issue 16: a malformed tag is 422 (not a 412 that claims a version conflict)
        r = await c.patch(url, json={"name": "改名后的项目"}, headers={"If-Match": "1"})
        assert r.status_code == 422 and r.json()["code"] == "precondition.invalid"
        assert r.json()["fields"][0]["field"] == "If-Match"
        r = await c.patch(
            url,
            json={"stage": "landed", "stage_on": "2023-04-01", "reason": "土地摘牌"},
            headers={"If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"' and r.json()["stage_dates"]["landed"] == "2023-04-01"
        r = await c.patch(url, json={"name": "再次改名"}, headers={"If-Match": '"1"'})
        assert r.status_code == 412 and r.json()["code"] == "project.stale"
        assert r.json()["current_version"] == 2
        r = await c.patch(url, json={"stage": "signed"}, headers={"If-Match": '"2"'})
        assert r.status_code == 422 and r.json()["code"] == "project.stage_backwards"
        r = await c.patch(
            url, json={"stage": "started", "stage_on": "2023-05-08"}, headers={"If-Match": '"2"'}
        )
        assert r.status_code == 200 and r.json()["actual_start"] == "2023-05-08"
        r = await c.get(f"{url}/dossier")
        stages = [(s["from_stage"], s["to_stage"], s["on"]) for s in r.json()["stage_history"]]
        assert stages[1:] == [("signed", "landed", "2023-04-01"), ("landed", "started", "2023-05-08")]
        actions = [h["action"] for h in r.json()["history"]]
        assert actions.count("stage_change") == 2


async def test_membership_change_keeps_dated_history(platform, make_project, uniq):
    # policy R1, R2: memberships with the date each began and ended
    p = await make_project(uniq, libraries=[{"library": "reserve", "since": "2024-06-01"}])
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={
                "libraries": [
                    {"library": "annual", "kind": "new", "since": "2025-01-05"},
                    {"library": "key", "level": "municipal", "since": "2025-01-05"},
                ]
            },
        )
        assert r.status_code == 200, r.text
        libs = {(m["library"], m["until"] is None) for m in r.json()["libraries"]}
        assert libs == {("reserve", False), ("annual", True), ("key", True)}


async def test_township_writes_only_its_own(platform, make_project, uniq):
    # architecture: a township edits its own projects; others' are not even visible
    p = await make_project(uniq, unit_id="town-donghe")
    async with await platform.as_user("chengguan") as c:
        r = await c.get(f"/api/v1/projects/{p['id']}")
        assert (r.status_code, r.json()["code"]) == (404, "project.not_found")
        r = await c.patch(f"/api/v1/projects/{p['id']}", json={"name": "越权"}, headers={"If-Match": '"1"'})
        assert (r.status_code, r.json()["code"]) == (404, "project.not_found")
    async with await platform.as_user("leader") as c:
        assert (await c.get(f"/api/v1/projects/{p['id']}")).status_code == 200
        r = await c.patch(
            f"/api/v1/projects/{p['id']}", json={"name": "领导改名"}, headers={"If-Match": '"1"'}
        )
        # issue 16: refused at the gateway already (a leader's token carries no write scope);
        # the registry's own rule for leaders is tests/registry/test_access_scope.py
        assert (r.status_code, r.json()["code"]) == (403, "auth.scope_missing")


async def test_enterprise_reads_its_own_projects(platform, make_project, uniq):
    # architecture: an enterprise sees the projects it carries (org_code = credit code)
    mine = await make_project(
        uniq, carrying_unit_credit_code="91140000MA0C1XY858", carrying_unit_name="枝柯新材料有限公司"
    )
    other = await make_project(uniq[::-1])
    async with await platform.as_user("qiye") as c:
        assert (await c.get(f"/api/v1/projects/{mine['id']}")).status_code == 200
        r = await c.get(f"/api/v1/projects/{other['id']}")
        assert (r.status_code, r.json()["code"]) == (404, "project.not_found")
        r = await c.get("/api/v1/projects", params={"q": uniq})
        assert [i["id"] for i in r.json()["items"]] == [mine["id"]]


def test_import_and_create_derive_a_new_project_the_same_way(uniq):
    # policy R8, R11: a project entered at stage "completed" on 2023-05-20 with a completion
    # target due 2023-06-30 has met it on 2023-05-20, whether created or imported
    from datetime import UTC, date, datetime

    from services.registry.import_write import plain_project
    from services.registry.schemas import ProjectIn
    from services.registry.service import build_project
    from shared.identity import SYSTEM_PRINCIPAL

    data = ProjectIn.model_validate(
        body(
            uniq,
            stage="completed",
            stage_on="2023-05-20",
            targets=[{"name": "6月底前竣工", "kind": "complete", "due_on": "2023-06-30"}],
        )
    )
    on = date(2023, 9, 1)
    created, _ = build_project(data, SYSTEM_PRINCIPAL, on)
    imported = plain_project(data, on, datetime(2023, 9, 1, tzinfo=UTC))
    assert created.targets[0].met_on == imported.targets[0].met_on == date(2023, 5, 20)
    assert created.actual_start == imported.actual_start == date(2023, 5, 20)


async def test_key_projects_need_the_four_ones(platform, make_project, uniq):
    # policy R14 四个一 (一个项目、一套班子、一套方案、一抓到底): a key project needs its contact
    # leader, carrying unit, team and work plan; a reserve project may go without
    key_libs = [
        {"library": "annual", "kind": "new", "since": "2025-01-10"},
        {"library": "key", "level": "county", "since": "2025-01-10"},
    ]
    bare = {"contact_leader": None, "carrying_unit_name": None, "team": None, "work_plan": None}
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body(uniq, libraries=key_libs, **{**bare, "team": "专班"}))
        assert r.status_code == 422 and r.json()["code"] == "project.four_ones_missing"
        assert {f["field"] for f in r.json()["fields"]} == {
            "contact_leader",
            "carrying_unit_name",
            "work_plan",
        }
    p = await make_project(uniq, libraries=[{"library": "reserve", "since": "2025-01-10"}], **bare)
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}", headers={"If-Match": '"1"'}, json={"libraries": key_libs}
        )
        assert r.status_code == 422 and r.json()["code"] == "project.four_ones_missing"
        r = await c.get(f"/api/v1/projects/{p['id']}")
        assert r.json()["version"] == 1 and [m["library"] for m in r.json()["libraries"]] == [
            "reserve"
        ]  # nothing half-written
        files = {
            "file": (
                "l.xlsx",
                xlsx([row(uniq + "k", 工作专班=None, 推进方案=None)]),
                "application/octet-stream",
            )
        }
        r = await c.post("/api/v1/projects/import", files=files)
        assert r.status_code == 422
        assert {e["column"] for e in r.json()["errors"]} == {"工作专班", "推进方案"}
