"""Identity checks and derived values: project codes, credit codes, scale bands, stages.

policy R14 (project identity), R3 (scale bands), R8 (lifecycle).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from operator import mul

from services.registry.config import registry_settings
from services.registry.regions import region_valid_in
from shared import clock

# -- GB 32100-2015 unified social credit code (统一社会信用代码) ------------------------
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_CHARS)}
# 登记管理部门码 · 机构类别码 · 登记管理机关行政区划码 (6 digits) · 主体标识码 (9) · 校验码
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
# GB 11714-1997 organisation code (its 9 characters are positions 9–17 of the credit code)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ALNUM_VALUE = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 mod-31 check character of the first 17 characters (all in the charset)."""
    if len(first17) != 17:
        raise ValueError("the body of a credit code is 17 characters of the GB 32100 set")
    try:  # the look-ups and products in C: this runs once per row of a 10 k-row import
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    except KeyError:
        raise ValueError("the body of a credit code is 17 characters of the GB 32100 set") from None
    return _USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714-1997 check character of an 8-character organisation code body (0-9, A-Z)."""
    if len(body8) != len(_ORG_WEIGHTS):
        raise ValueError("an organisation code body is 8 characters")
    total = sum(map(mul, map(_ALNUM_VALUE.__getitem__, body8), _ORG_WEIGHTS))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None (policy R14)."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位"
    if not _USCC_SHAPE.match(code):
        return "统一社会信用代码含非法字符（不得含 I、O、S、V、Z 或小写字母）或结构不符 GB 32100-2015"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]}（GB 32100-2015）"
    org = org_code_check_char(code[8:16])
    if code[16] != org:
        return (
            f"统一社会信用代码中的组织机构代码 {code[8:16]}-{code[16]} 校验位错误：应为 {org}"
            "（GB 11714-1997）"
        )
    return None


# -- project codes (项目代码, GB/T 40058-2021, 发改投资〔2020〕1439号) ---------------------
# 24 characters, five hyphen-joined segments:
#   YYYY (year) - AAAAAA (region, GB/T 2260) - BB (central guiding department)
#   - CC (project type) - RRRRRK (5 random digits + 1 check character), e.g. 2020-330327-48-01-167360
_CODE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{5})([0-9A-Z])$")
# The check character's algorithm (§4.7 of the standard) is not confirmed: a replaceable
# function, used only when ``KPP_REGISTRY_PROJECT_CODE_CHECK_ENABLED`` is on (docs/registry.md).
CheckChar = Callable[[str], str]
project_code_check_char: CheckChar | None = None


def project_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid national project code, or None (policy R14)."""
    m = _CODE.match(code)
    if m is None:
        return (
            "项目代码格式错误：应为 GB/T 40058-2021 规定的 24 位代码"
            "（年份4位-地区6位-部门2位-类型2位-随机码5位加校验码1位，如 2020-330327-48-01-167360）"
        )
    settings = registry_settings()
    year, region, this_year = int(m.group(1)), m.group(2), clock.today().year
    if not settings.project_code_min_year <= year <= this_year:
        return f"项目代码年份 {year} 不在有效范围内（{settings.project_code_min_year}–{this_year}）"
    if not region_valid_in(region, year):
        return f"项目代码地区码 {region} 不是 {year} 年有效的行政区划代码（GB/T 2260）"
    if m.group(3) == "00":
        return "项目代码中央业务指导部门代码不能为 00"
    if m.group(4) == "00":
        return "项目代码项目类型代码不能为 00"
    check = project_code_check_char
    if settings.project_code_check_enabled and check is not None:
        expected = check(code[:23])
        if code[23] != expected:
            return f"项目代码校验码错误：应为 {expected}，实为 {code[23]}（GB/T 40058-2021）"
    return None


def code_form(code: str) -> str:
    """``gbt40058`` for the standard's form; ``legacy`` for anything stored before it."""
    return "gbt40058" if _CODE.match(code) else "legacy"


# -- scale bands (policy R3) -------------------------------------------------------------
SCALE_BANDS = ("small", "medium", "large")
SCALE_BANDS_ZH = {"small": "3000万元以下", "medium": "3000-5000万元", "large": "5000万元以上"}


def scale_band(total: Decimal) -> str:
    """policy R3: 以上/以下 include the number (民法典 art. 1259): ≤ 3,000万 small,
    ≥ 5,000万 large, in between medium; both bounds are configuration."""
    settings = registry_settings()
    if total <= settings.band_small_max:
        return "small"
    if total >= settings.band_large_min:
        return "large"
    return "medium"


# -- lifecycle (policy R8) ---------------------------------------------------------------
STAGES = ("signed", "landed", "started", "under_construction", "completed", "effective")
STAGES_ZH = {
    "signed": "签约",
    "landed": "落地",
    "started": "开工",
    "under_construction": "在建",
    "completed": "竣工",
    "effective": "达效",
}
CATEGORIES_ZH = {"industrial": "产业类", "infrastructure": "基础设施类", "livelihood": "民生保障类"}
LIBRARIES_ZH = {"reserve": "储备项目", "annual": "年度建设项目", "key": "重点工程"}
KINDS_ZH = {"new": "新开工", "continued": "续建"}
LEVELS_ZH = {"provincial": "省级", "municipal": "市级", "county": "县级"}


def stage_index(stage: str) -> int:
    return STAGES.index(stage)
