"""Identity checks and derived values: project codes, credit codes, scale bands, stages.

policy R14 (project identity), R3 (scale bands), R8 (lifecycle).
"""

from __future__ import annotations

import re
from decimal import Decimal

from shared import clock

# -- GB 32100-2015 unified social credit code (统一社会信用代码) ------------------------
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_CHARS)}
_USCC_SHAPE = re.compile(r"^[1-9ANY][0-9A-Z][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{9}[0-9A-HJ-NP-RTUW-Y]$")


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("the body of a credit code is 17 characters")
    value = _USCC_VALUE
    total = sum(map(int.__mul__, [value[c] for c in first17], _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位"
    if not _USCC_SHAPE.match(code):
        return "统一社会信用代码含非法字符（不得含 I、O、S、V、Z 或小写字母）或结构不符 GB 32100-2015"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]}（GB 32100-2015）"
    return None


# -- project codes (项目代码) ------------------------------------------------------------
# GB/T 40058-2021: 24 characters without separators —
#   YYYYMM (issue year and month) · AAAAAA (region) · BB (central guidance department)
#   · CC (project type) · RRRRRRR (random/serial, digits or capitals) · K (check)
# The check character is ISO/IEC 7064 MOD 37,36 over 0-9A-Z (see docs/registry.md).
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM_VALUE = {c: i for i, c in enumerate(_ALNUM)}
_NEW = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{6})([0-9]{2})([0-9]{2})([0-9A-Z]{7})([0-9A-Z])$")
# Older codes: YYYY-AAAAAA-BB-CC-NNNNNN (e.g. 2019-140000-44-01-000001)
_OLD = re.compile(r"^([0-9]{4})-([0-9]{6})-([0-9]{2})-([0-9]{2})-([0-9]{6})$")


def mod37_36_check_char(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid system) check character for an alphanumeric string."""
    p = 36
    for ch in body:
        s = (p % 37 + _ALNUM_VALUE[ch]) % 36 or 36
        p = (s * 2) % 37
    return _ALNUM[(37 - p) % 36]


def _year_ok(year: int) -> bool:
    return 1990 <= year <= clock.today().year + 1


def project_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid national project code (either form), or None."""
    if m := _OLD.match(code):
        if not _year_ok(int(m.group(1))):
            return f"项目代码年份 {m.group(1)} 不在有效范围内"
        if m.group(2) == "000000":
            return "项目代码地区码不能为 000000"
        return None
    if m := _NEW.match(code):
        year, month = int(m.group(1)), int(m.group(2))
        if not _year_ok(year):
            return f"项目代码赋码年份 {year} 不在有效范围内"
        if not 1 <= month <= 12:
            return f"项目代码赋码月份 {m.group(2)} 无效"
        if m.group(3) == "000000":
            return "项目代码地区码不能为 000000"
        expected = mod37_36_check_char(code[:23])
        if code[23] != expected:
            return f"项目代码校验码错误：应为 {expected}，实为 {code[23]}（GB/T 40058-2021）"
        return None
    if "-" in code:
        return "项目代码格式错误：旧版应为 YYYY-AAAAAA-BB-CC-NNNNNN（如 2019-140000-44-01-000001）"
    return "项目代码格式错误：应为 GB/T 40058-2021 规定的 24 位代码（年月+地区+部门+类型+随机码+校验码）"


def code_form(code: str) -> str:
    return "legacy" if "-" in code else "gbt40058"


def make_project_code(year: int, month: int, region: str, dept: str, kind: str, serial: str) -> str:
    """A valid 24-character code (tests, benchmarks and the demo data use it)."""
    body = f"{year:04d}{month:02d}{region}{dept}{kind}{serial}"
    return body + mod37_36_check_char(body)


# -- scale bands (policy R3) -------------------------------------------------------------
SMALL_MAX = Decimal("3000")
LARGE_MIN = Decimal("5000")
SCALE_BANDS = ("small", "medium", "large")
SCALE_BANDS_ZH = {"small": "3000万元以下", "medium": "3000-5000万元", "large": "5000万元以上"}


def scale_band(total: Decimal) -> str:
    """< 3,000万 small; 3,000–5,000万 (both ends included) medium; > 5,000万 large."""
    if total < SMALL_MAX:
        return "small"
    if total <= LARGE_MIN:
        return "medium"
    return "large"


# -- lifecycle (policy R8) ---------------------------------------------------------------
STAGES = ("signed", "landed", "started", "under_construction", "completed", "effective")
STAGES_ZH = {"signed": "签约", "landed": "落地", "started": "开工", "under_construction": "在建",
             "completed": "竣工", "effective": "达效"}
CATEGORIES_ZH = {"industrial": "产业类", "infrastructure": "基础设施类", "livelihood": "民生保障类"}
LIBRARIES_ZH = {"reserve": "储备项目", "annual": "年度建设项目", "key": "重点工程"}
KINDS_ZH = {"new": "新开工", "continued": "续建"}
LEVELS_ZH = {"provincial": "省级", "municipal": "市级", "county": "县级"}


def stage_index(stage: str) -> int:
    return STAGES.index(stage)
