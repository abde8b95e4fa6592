"""The monthly bulletin (月度通报) as a Word document, in the style of a government 通报.

Renders the same `BulletinContent` as the xlsx (policy R28 notices and summons, R29
rankings, R30 five comparisons). Layout after GB/T 9704: A4, title in 宋体 (bold, 二号),
headings in 黑体 三号, body in 仿宋 三号; the East Asian font is set on the document
defaults and the Normal style (w:eastAsia) so Word and WPS render Chinese properly.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table

from services.scoring.bulletin import KIND_ZH, BulletinContent
from services.scoring.bulletin_charts import bulletin_charts
from services.scoring.rubric import COMPARISONS
from shared.clients.units import unit_directory
from shared.clock import today
from shared.errors import ServiceUnavailable
from shared.months import parse_month

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_ISSUER = "县重点项目建设服务中心"
BODY_FONT, TITLE_FONT, HEADING_FONT, NOTE_FONT, LATIN_FONT = "仿宋", "宋体", "黑体", "楷体", "Times New Roman"
BODY_PT, TABLE_PT = 16, 10.5
TEXT_WIDTH_CM = 15.6  # A4 less 2.8 cm left and 2.6 cm right
# the short name of each comparison (一比谋划、晒前期 → 晒前期), in the R30 order
COMPARISON_SHORT = {key: name.split("、")[-1] for key, name, _, _ in COMPARISONS}
NUMERALS = "一二三四五六七八九十"


def zh_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def zh_month(month: str) -> str:
    y, m = parse_month(month)
    return f"{y}年{m}月"


async def issuing_office() -> str:
    """The key office's name from the unit directory (the bulletin's issuer)."""
    try:
        units = await unit_directory()
    except ServiceUnavailable:
        units = {}
    offices = [u["name"] for _, u in sorted(units.items()) if u.get("kind") == "office" and u.get("name")]
    return offices[0] if offices else DEFAULT_ISSUER


def county_of(issuer: str) -> str:
    """'平遥县重点项目建设服务中心' → '平遥县'; the demo directory's '县…' → '县'."""
    return issuer[: issuer.index("县") + 1] if "县" in issuer else ""


def bulletin_title(b: BulletinContent, issuer: str) -> str:
    return f"{county_of(issuer)}重点项目建设{zh_month(b.month)}考核通报"


def status_line(b: BulletinContent) -> str:
    if b.published and b.published_on:
        return f"（已发布 · {zh_date(b.published_on)}发布 · 第{b.revision}版）"
    return f"（草稿 · 未发布 · 第{b.revision}版，仅供核对，以正式发布为准）"


def summary_text(b: BulletinContent) -> str:
    towns, depts = b.of_kind("township"), b.of_kind("department")
    versions = "、".join(f"{KIND_ZH[k]}第{v}版" for k, v in b.rubric_versions.items())
    parts = [
        f"{zh_month(b.month)}，共有{len(towns) + len(depts)}个单位参加重点项目建设月度考核，"
        f"其中乡镇{len(towns)}个、部门{len(depts)}个（评分细则：{versions}）。"
    ]
    for label, rows in (("乡镇", towns), ("部门", depts)):
        top = sorted((u for u in rows if u["rank"] <= 3), key=lambda u: (u["rank"], u["unit_id"]))
        if top:
            names = "、".join(f"{u['unit_name']}（{u['score']}分）" for u in top)
            parts.append(f"{label}综合得分前三名依次为：{names}。")
    if b.notices:
        units = len({n["unit_id"] for n in b.notices})
        parts.append(f"本月共通报逾期未办结或办理不力的交办事项{len(b.notices)}件，涉及{units}个单位；")
    else:
        parts.append("本月无交办事项被通报；")
    if b.summons:
        deputy = sum(1 for s in b.summons if s["level"] == "deputy")
        principal = len(b.summons) - deputy
        parts.append(f"安排约谈{len(b.summons)}次，其中分管领导约谈{deputy}次、主要领导约谈{principal}次。")
    else:
        parts.append("未安排约谈。")
    return "".join(parts)


# --- low-level formatting ----------------------------------------------------------


def _set_fonts(rpr: Any, east_asia: str, latin: str = LATIN_FONT) -> None:
    fonts = rpr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the named one
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _run(paragraph, text: str, *, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False):
    run = paragraph.add_run(text)
    run.font.size, run.font.bold = Pt(size), bold
    _set_fonts(run._element.get_or_add_rPr(), font)
    return run


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = LATIN_FONT, Pt(BODY_PT)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    # the document defaults too (text outside the Normal style), with Chinese as the East Asian language
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    inner = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")) if defaults is not None else None
    if inner is not None:
        _set_fonts(inner, BODY_FONT)
        lang = inner.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            inner.append(lang)
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", size=14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        run = _run(footer, "", size=14)
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
        else:
            fld = OxmlElement("w:instrText")
            fld.set(qn("xml:space"), "preserve")
            fld.text = text
        run._element.append(fld)
    _run(footer, " —", size=14)


def _para(doc, text: str = "", *, indent: bool = True, align=None, font: str = BODY_FONT, **kw):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(BODY_PT * 2)
    if align is not None:
        p.alignment = align
    if text:
        _run(p, text, font=font, **kw)
    return p


def _heading(doc, index: int, text: str) -> None:
    _para(doc, f"{NUMERALS[index]}、{text}", font=HEADING_FONT)


def _cell(cell, text: str, *, bold: bool = False, center: bool = True) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.line_spacing = 1.0
    _run(p, text, size=TABLE_PT, bold=bold, font=HEADING_FONT if bold else BODY_FONT)


def _shade(cell, fill: str = "D9E2F3") -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _table(doc, header: list[str], rows: list[list[str]], widths: list[float], left: set[int]) -> Table:
    """A bordered table with a repeated, shaded header; `left` = columns aligned left."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    scale = TEXT_WIDTH_CM / sum(widths)
    for i, h in enumerate(header):
        _shade(table.rows[0].cells[i])  # before vAlign/tcW, which python-docx inserts in schema order
        _cell(table.rows[0].cells[i], h, bold=True)
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))
    for row in rows:
        cells = table.add_row().cells
        for i, text in enumerate(row):
            _cell(cells[i], text, center=i not in left)
    for col, w in zip(table.columns, widths, strict=True):
        for c in col.cells:
            c.width = Cm(w * scale)
    return table


# --- the document ------------------------------------------------------------------


def _ranking(doc, b: BulletinContent, kind: str) -> None:
    rows = sorted(b.of_kind(kind), key=lambda u: (u["rank"], u["unit_id"]))
    if not rows:
        _para(doc, f"本月无{KIND_ZH[kind]}参加考核。")
        return
    keys = [k for k in COMPARISON_SHORT if k in b.comparisons]
    header = ["名次", "单位", "综合得分"] + [COMPARISON_SHORT[k] for k in keys]
    body = [
        [str(u["rank"]), u["unit_name"], u["score"]] + [str(u["comparison_ranks"].get(k, "—")) for k in keys]
        for u in rows
    ]
    _table(doc, header, body, [1.4, 4.4, 2.0] + [1.6] * len(keys), left={1})
    if keys:
        names = "、".join(f"“{COMPARISON_SHORT[k]}”" for k in keys)
        _para(
            doc,
            f"注：{names}各列为该单位在本月“五晒五比”相应比拼中于本类单位内的名次。",
            indent=False,
            font=NOTE_FONT,
            size=TABLE_PT,
        )


def _notices(doc, b: BulletinContent) -> None:
    if not b.notices:
        _para(doc, "本月无交办事项被通报。")
        return
    _para(doc, "以下交办事项逾期未办结或办理不力，予以通报，请相关单位限期整改落实：")
    rows = [
        [
            str(i),
            n["unit_name"],
            n["task"],
            zh_date(date.fromisoformat(n["deadline"])),
            f"第{n['ordinal']}次",
            n["reason_name"],
            n["level_name"],
        ]
        for i, n in enumerate(b.notices, start=1)
    ]
    header = ["序号", "单位", "交办任务", "办结期限", "通报次数", "原因", "处理"]
    _table(doc, header, rows, [1.1, 2.6, 4.6, 2.4, 1.5, 1.8, 2.8], left={2, 6})


def _summons(doc, b: BulletinContent) -> None:
    if not b.summons:
        _para(doc, "本月未安排约谈。")
        return
    _para(doc, "按照“一通报、两约谈”的规定，对以下单位负责人进行约谈：")
    rows = []
    for i, s in enumerate(b.summons, start=1):
        held = f"已于{zh_date(s['held_on'])}约谈" if s["held_on"] else "待约谈"
        if s["held_on"] and s["outcome"]:
            held += f"：{s['outcome']}"
        rows.append(
            [str(i), s["summoned"], s["level_name"], s["summoner"], f"{zh_date(s['due_by'])}前", held]
        )
    header = ["序号", "被约谈单位及负责人", "约谈级别", "约谈人", "约谈时限", "约谈情况"]
    _table(doc, header, rows, [1.1, 3.6, 2.4, 3.0, 2.8, 3.0], left={1, 3, 5})


def _charts(doc, b: BulletinContent) -> None:
    """The charts (issue 17), each with its figures as the picture's description."""
    for i, chart in enumerate(bulletin_charts(b), start=1):
        p = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # not the text's exact 28 pt
        shape = p.add_run().add_picture(BytesIO(chart.png), width=Cm(TEXT_WIDTH_CM * 0.9))
        shape._inline.docPr.set("title", chart.title)
        shape._inline.docPr.set("descr", chart.description)
        _para(
            doc,
            f"图{i}  {chart.title}",
            indent=False,
            align=WD_ALIGN_PARAGRAPH.CENTER,
            font=NOTE_FONT,
            size=TABLE_PT,
        )


def bulletin_docx(b: BulletinContent, *, issuer: str) -> bytes:
    doc = Document()
    _setup(doc)
    title = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_before = Pt(12)
    _run(title, bulletin_title(b, issuer), font=TITLE_FONT, size=22, bold=True)
    sub = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    sub.paragraph_format.space_after = Pt(12)
    _run(sub, status_line(b), font=NOTE_FONT)

    _heading(doc, 0, "总体情况")
    _para(doc, summary_text(b))
    _charts(doc, b)
    _heading(doc, 1, "乡镇考核排名")
    _ranking(doc, b, "township")
    _heading(doc, 2, "部门考核排名")
    _ranking(doc, b, "department")
    _heading(doc, 3, "交办事项通报")
    _notices(doc, b)
    _heading(doc, 4, "约谈安排")
    _summons(doc, b)
    _para(
        doc,
        "请各乡镇、各部门对照考核结果和通报事项，认真查找差距，抓好整改落实，"
        "确保重点项目建设各项任务按期完成。",
    )

    signed = b.published_on if b.published and b.published_on else today()
    for i, text in enumerate((issuer, zh_date(signed))):
        p = _para(doc, text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(BODY_PT * 2)
        if i == 0:
            p.paragraph_format.space_before = Pt(28)
    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()
