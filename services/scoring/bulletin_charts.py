"""The monthly bulletin's charts (issue 17): ranking bars, the start-rate gauge and the
investment trend, drawn server-side with matplotlib from the same `BulletinContent`.

The Chinese is set in Noto Sans CJK SC from the `mplfonts` package (SIL OFL), loaded by
path: the charts never depend on the fonts a server happens to have. Each chart carries its
figures as data (`Chart.data`), which the .docx puts in the picture's description and the
.xlsx beside the picture, so a reader (or a test) can check them against the result.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from io import BytesIO
from typing import Any

from matplotlib import font_manager
from matplotlib.figure import Figure  # drawn without pyplot: no display, no global state

from services.scoring.bulletin import KIND_ZH, BulletinContent
from services.scoring.config import scoring_settings
from shared.fonts import cjk_font_path

BLUE, GREY, RED, GREEN = "#2F5597", "#D9D9D9", "#C00000", "#548235"
_lock = threading.Lock()  # pyplot-free Figures, but the font cache is shared


@lru_cache
def cjk_font() -> font_manager.FontProperties:
    path = str(cjk_font_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    png: bytes
    data: dict[str, Any]

    @property
    def description(self) -> str:
        """The picture's alternative text: its title and its figures."""
        return f"{self.title}｜" + json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


def _png(fig: Figure) -> bytes:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return buf.getvalue()


def _frame(ax: Any, title: str, set_label: Any, label: str, category_ticks: list) -> None:
    """Title, the value axis' label and the category names in the CJK font; no top/right."""
    font = cjk_font()
    ax.set_title(title, fontproperties=font, fontsize=13)
    set_label(label, fontproperties=font)
    for tick in category_ticks:
        tick.set_fontproperties(font)
    ax.spines[["top", "right"]].set_visible(False)


def _ranking(b: BulletinContent, kind: str) -> Chart | None:
    rows = sorted(b.of_kind(kind), key=lambda u: (u["rank"], u["unit_id"]))
    if not rows:
        return None
    font = cjk_font()
    title = f"{b.month} {KIND_ZH[kind]}综合得分排名"
    fig = Figure(figsize=(6.4, 0.9 + 0.36 * len(rows)), layout="constrained")
    ax = fig.subplots()
    names = [f"{u['rank']}. {u['unit_name']}" for u in rows][::-1]
    scores = [float(Decimal(str(u["score"]))) for u in rows][::-1]
    bars = ax.barh(names, scores, color=BLUE)
    ax.bar_label(bars, labels=[str(u["score"]) for u in rows][::-1], padding=3, fontproperties=font)
    ax.set_xlim(0, max([*scores, 1.0]) * 1.15)
    _frame(ax, title, ax.set_xlabel, "综合得分", ax.get_yticklabels())
    data = {
        "kind": kind,
        "units": [{"rank": u["rank"], "unit": u["unit_name"], "score": str(u["score"])} for u in rows],
    }
    return Chart(f"ranking_{kind}", title, _png(fig), data)


def _gauge(b: BulletinContent) -> Chart:
    done, due = b.starts
    target = scoring_settings().start_rate_target
    rate = (Decimal(done) / due).quantize(Decimal("0.0001"), ROUND_HALF_UP) if due else None
    font = cjk_font()
    title = f"{b.month} 年度计划开工率"
    fig = Figure(figsize=(4.8, 3.0), layout="constrained")
    ax = fig.subplots(subplot_kw={"projection": "polar"})
    ax.set_thetamin(0)
    ax.set_thetamax(180)
    ax.set_axis_off()
    ax.barh(1, math.pi, left=0, height=0.5, color=GREY)
    share = float(rate) if rate is not None else 0.0
    met = rate is not None and rate >= target
    # the arc fills from the left (0 %) to the right (100 %)
    ax.barh(1, math.pi * share, left=math.pi * (1 - share), height=0.5, color=GREEN if met else RED)
    t = math.pi * (1 - float(target))
    ax.plot([t, t], [0.7, 1.3], color="black", linewidth=2)
    ax.text(t, 1.5, f"目标 {target * 100:.0f}%", ha="center", fontproperties=font, fontsize=9)
    shown = f"{rate * 100:.2f}%" if rate is not None else "—"
    ax.text(
        math.pi / 2,
        0,
        f"{shown}\n{done}/{due} 个",
        ha="center",
        va="center",
        fontproperties=font,
        fontsize=14,
    )
    ax.set_rmax(1.6)
    fig.suptitle(title, fontproperties=font, fontsize=13)
    data = {
        "started": done,
        "planned": due,
        "rate": str(rate) if rate is not None else None,
        "target": str(target),
        "met": met,
    }
    return Chart("start_rate", title, _png(fig), data)


def _trend(b: BulletinContent) -> Chart:
    font = cjk_font()
    title = f"{b.month[:4]}年各月完成投资（万元）"
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.subplots()
    months = [m for m, _ in b.trend]
    values = [float(v) for _, v in b.trend]
    ax.plot([m[5:] + "月" for m in months], values, marker="o", color=BLUE)
    for x, (_, v) in enumerate(b.trend):
        ax.annotate(
            f"{v:f}".rstrip("0").rstrip("."),
            (x, float(v)),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
            fontproperties=font,
        )
    ax.set_ylim(0, max([*values, 1.0]) * 1.2)
    _frame(ax, title, ax.set_ylabel, "万元", ax.get_xticklabels())
    data = {"months": [{"month": m, "investment": str(v)} for m, v in b.trend]}
    return Chart("investment_trend", title, _png(fig), data)


def bulletin_charts(b: BulletinContent) -> list[Chart]:
    """Ranking bars (townships, departments), the start-rate gauge, the investment trend."""
    with _lock:
        charts = [_ranking(b, kind) for kind in KIND_ZH]
        return [c for c in charts if c is not None] + [_gauge(b), _trend(b)]
