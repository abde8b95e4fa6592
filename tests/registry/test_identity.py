"""Project identity (policy R14): real GB/T 40058 project codes and GB 32100 credit codes."""

from __future__ import annotations

from datetime import UTC, datetime

from services.registry.codes import credit_code_problem, project_code_problem
from shared import clock
from tests.registry.conftest import body
from tests.registry.test_ledger import row, xlsx

# Published credit codes of real enterprises (both check characters are theirs, not ours):
# 华为技术有限公司, 阿里巴巴（中国）有限公司, 腾讯科技（深圳）有限公司.
REAL_CREDIT_CODES = ["914403001922038216", "91330100716105852F", "9144030071526726XG"]


def test_real_credit_codes_pass_both_checks():
    # policy R14: GB 32100-2015 mod-31 check and the embedded GB 11714 organisation code check
    for code in REAL_CREDIT_CODES:
        assert credit_code_problem(code) is None, code


def test_credit_code_letters_outside_the_set_are_refused_not_crashing():
    # policy R14: I, O, S, V, Z are not in the GB 32100 character set (position 2 here)
    for code in (
        "9I110000600037341L",
        "9O110000600037341L",
        "9S110000600037341L",
        "9V110000600037341L",
        "9Z110000600037341L",
    ):
        assert "非法字符" in credit_code_problem(code)


def test_credit_code_organisation_check_digit():
    # policy R14: the old demo code 91140000MA0C1XY832 has a valid mod-31 character but its
    # organisation code MA0C1XY8-3 fails GB 11714: weights 3,7,9,10,5,8,4,2 over
    # M=22 A=10 0 C=12 1 X=33 Y=34 8 → 66+70+0+120+5+264+136+16 = 677; 677 mod 11 = 6;
    # 11 − 6 = 5, so the check digit is 5, not 3.
    problem = credit_code_problem("91140000MA0C1XY832")
    assert problem is not None and "GB 11714" in problem and "应为 5" in problem
    assert credit_code_problem("91140000MA0C1XY858") is None  # the corrected demo code
    assert "校验位" in credit_code_problem("914403001922038217")  # Huawei, last char changed


async def test_bad_credit_code_is_422_on_create_patch_and_import(platform, make_project, uniq):
    # policy R14: an I in position 2 used to raise a KeyError → 500; now a 422 naming the field
    bad = "9I110000600037341L"
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body(uniq, carrying_unit_credit_code=bad))
        assert r.status_code == 422, r.text
        assert any(f["field"].endswith("carrying_unit_credit_code") for f in r.json()["fields"])
    p = await make_project(uniq)
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={"carrying_unit_credit_code": bad},
        )
        assert r.status_code == 422, r.text
        files = {
            "file": ("l.xlsx", xlsx([row(uniq + "x", 统一社会信用代码=bad)]), "application/octet-stream")
        }
        r = await c.post("/api/v1/projects/import", files=files)
        assert r.status_code == 422, r.text
        assert [e["column"] for e in r.json()["errors"]] == ["统一社会信用代码"]


def test_real_project_codes_are_valid():
    # policy R14: the standard's five hyphen-joined segments, e.g. 苍南县 (330327) in 2020
    with clock.frozen(datetime(2026, 3, 2, 4, tzinfo=UTC)):
        assert project_code_problem("2020-330327-48-01-167360") is None
        assert project_code_problem("2019-140000-44-01-000001") is None  # 山西省


def test_project_code_structure_year_and_region():
    # policy R14: structure, year (2015 .. this year) and the GB/T 2260 region code
    with clock.frozen(datetime(2026, 3, 2, 4, tzinfo=UTC)):
        assert "格式" in project_code_problem("202003303274801167360X")  # the invented form
        assert "格式" in project_code_problem("2020-330327-48-01-16736")  # 23 characters
        assert "年份" in project_code_problem("2027-330327-48-01-167360")  # next year
        assert "年份" in project_code_problem("2014-330327-48-01-167360")
        assert "地区码" in project_code_problem("2020-339999-48-01-167360")  # no such region
        assert "部门" in project_code_problem("2020-330327-00-01-167360")


def test_retired_region_codes_stay_valid_for_their_years():
    # policy R14: 滦县 (130223) became 滦州市 (130284) in 2018: a 2016 code stays valid,
    # a 2019 code with the retired region is refused; 临平区 (330113) exists from 2021 only.
    with clock.frozen(datetime(2026, 3, 2, 4, tzinfo=UTC)):
        assert project_code_problem("2016-130223-01-01-000017") is None
        assert "地区码" in project_code_problem("2019-130223-01-01-000017")
        assert project_code_problem("2019-130284-01-01-000017") is None
        assert project_code_problem("2023-330113-01-01-000017") is None
        assert "地区码" in project_code_problem("2019-330113-01-01-000017")


async def test_project_code_on_create_and_its_form(platform, uniq):
    # policy R14: the real form is accepted and shown as GB/T 40058; the invented one is 422
    code = f"2020-330327-48-01-{int(uniq[:6], 16) % 10**5:05d}0"
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects", json=body(uniq, project_code=code))
        assert r.status_code == 201, r.text
        assert r.json()["code_form"] == "gbt40058"
        r = await c.post("/api/v1/projects", json=body(uniq + "b", project_code="202305140521440112345670"))
        assert r.status_code == 422 and "project_code" in r.text


def test_check_character_is_a_replaceable_switch_off_by_default(monkeypatch):
    # policy R14: the standard's §4.7 algorithm is not confirmed — no check character is
    # tested by default; a confirmed algorithm plugs in as a function and a setting
    from services.registry import codes
    from services.registry.config import registry_settings

    with clock.frozen(datetime(2026, 3, 2, 4, tzinfo=UTC)):
        assert project_code_problem("2020-330327-48-01-167361") is None  # off: not checked
        monkeypatch.setattr(codes, "project_code_check_char", lambda body: "0")
        monkeypatch.setattr(registry_settings(), "project_code_check_enabled", True)
        assert project_code_problem("2020-330327-48-01-167360") is None
        assert "校验码" in project_code_problem("2020-330327-48-01-167361")
