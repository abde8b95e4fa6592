"""Names people read: no control or format characters (RTL overrides, zero-width joiners).

A project, target or unit name made of U+202E (right-to-left override) or U+200B
(zero-width space) reads as something else, or as nothing, on every list and report.
``Name`` refuses Unicode categories Cc (control) and Cf (format) and a name that is
blank once trimmed; free text (work plans, descriptions) keeps line breaks and tabs.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf"})


def check_name(value: str) -> str:
    value = value.strip()
    # isprintable() is False for every Cc and Cf character (and some others): only then look
    if not value.isprintable() and any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in value):
        raise ValueError("名称不能含有控制字符或格式字符（如从右至左覆盖符、零宽字符）")
    if not value:
        raise ValueError("名称不能为空白")
    return value


def check_free_text(value: str | None) -> str | None:
    """Free text: line breaks and tabs are fine; other control characters are not."""
    if value is None:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise ValueError("文本不能含有控制字符")
    return value


Name = Annotated[str, AfterValidator(check_name)]
FreeText = Annotated[str, AfterValidator(check_free_text)]
