"""Money in 万元: exact ``Decimal``, stored as NUMERIC(18,4), written in JSON as a string.

policy R3: money is exact decimal in 万元, never a float.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from sqlalchemy import Numeric

MONEY_SCALE = 4
MONEY_SQL = Numeric(18, MONEY_SCALE)
# ASCII digits only: Python's \d also matches "０１２" and "١٢٣" (any Unicode digit)
_PLAIN = re.compile(r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$", re.ASCII)
YI = Decimal(10000)  # 1 亿元 = 10,000 万元


def parse_money(value: Any, *, allow_negative: bool = False) -> Decimal:
    """A plain decimal string (or int) in 万元 with at most 4 decimals."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("金额须为十进制字符串（万元），不接受浮点数")
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError("金额须为十进制字符串（万元）")
    if not _PLAIN.match(text):
        raise ValueError("金额格式错误：须为最多 4 位小数的十进制数（万元），不接受科学计数法")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already refuses it
        raise ValueError("金额格式错误") from exc
    if amount < 0 and not allow_negative:
        raise ValueError("金额不能为负数")
    return amount


def money_str(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    return format(amount.quantize(Decimal(1).scaleb(-MONEY_SCALE)), "f")


# the longest money string: sign, 14 integer digits, point, 4 decimals (issue 14: documented bound)
MONEY_MAX_LENGTH = 20
_schema = WithJsonSchema(
    {
        "type": "string",
        "pattern": r"^[0-9]{1,14}(\.[0-9]{1,4})?$",
        "maxLength": MONEY_MAX_LENGTH,
        "examples": ["1250.5"],
    }
)
_serialize = PlainSerializer(money_str, return_type=str, when_used="always")

# Non-negative money in 万元 (investments, totals).
Money = Annotated[Decimal, BeforeValidator(parse_money), _serialize, _schema]
# Signed money (differences, corrections).
SignedMoney = Annotated[
    Decimal,
    BeforeValidator(lambda v: parse_money(v, allow_negative=True)),
    _serialize,
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$", "maxLength": MONEY_MAX_LENGTH}
    ),
]


def bounded_decimal(maximum: int, places: int, description: str | None = None) -> Any:
    """A non-negative decimal (JSON number or string) up to ``maximum`` with at most ``places``
    decimals, for percentages and ratios; its documented string form is bounded too."""
    digits = len(str(maximum))
    pattern = rf"^[0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?$"
    plain = re.compile(pattern, re.ASCII)

    def ascii_only(value: Any) -> Any:
        if isinstance(value, str) and not plain.match(value.strip()):
            raise ValueError(f"须为 0–{maximum} 的十进制数，最多 {places} 位小数（仅 ASCII 数字）")
        return value

    return Annotated[
        Decimal,
        BeforeValidator(ascii_only),
        Field(ge=0, le=maximum, decimal_places=places, max_digits=digits + places),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": maximum},
                    {"type": "string", "pattern": pattern, "maxLength": digits + 1 + places},
                ],
                **({"description": description} if description else {}),
            }
        ),
    ]


# a percentage with 2 decimals (形象进度, thresholds, weights)
Percent = bounded_decimal(100, 2)


def to_yi(amount: Decimal) -> Decimal:
    """万元 → 亿元, for reports."""
    return (amount / YI).quantize(Decimal("0.0001"))
