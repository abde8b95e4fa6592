"""The one CJK font every part uses (issue 17): Noto Sans CJK SC (SIL OFL 1.1), shipped by the
pinned `mplfonts` package, so neither the bulletin's charts nor the overview page depend on
the fonts a machine happens to have."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    spec = find_spec("mplfonts")  # located, not imported: its import sets matplotlib up
    if spec is None or spec.origin is None:
        raise RuntimeError("mplfonts (pinned in pyproject.toml) is not installed")
    return Path(spec.origin).parent / "fonts" / CJK_FONT_FILE
