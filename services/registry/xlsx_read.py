"""A streaming reader for the first sheet of an xlsx file (values only).

An xlsx file is a zip of XML parts; reading it with ``ElementTree.iterparse`` (clearing each
row once read) is about ten times cheaper than openpyxl for the ledger import. Values come
back as openpyxl's ``values_only`` would give them: shared and inline strings as ``str``,
numbers as ``int``/``float``, booleans as ``bool``, error cells as their text, date-styled
numbers as ``datetime``. Rows come with their sheet row number; missing rows are skipped.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_SERIAL = 2_958_465  # 9999-12-31


class NotXlsx(ValueError):
    """The content is not a readable xlsx workbook."""


def _col(ref: str) -> int:
    """'AB12' → 27 (0-based column index)."""
    n = 0
    for ch in ref:
        o = ord(ch)
        if o < 65:  # a digit: the row part begins
            break
        n = n * 26 + (o & 0x1F)
    return n - 1


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, target path inside the zip)."""
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", name + ".rels")
    out = {}
    if path not in z.namelist():
        return out
    for _, el in iterparse(io.BytesIO(z.read(path))):
        if el.tag == f"{{{PKG_REL}}}Relationship":
            target = el.get("Target", "")
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            out[el.get("Id", "")] = (el.get("Type", "").rsplit("/", 1)[-1], target)
    return out


_T, _R = f"{{{MAIN}}}t", f"{{{MAIN}}}r"


def _text(el: Any) -> str:
    """A string item's text: its ``t`` then the ``t`` of its runs (phonetic runs left out)."""
    if len(el) == 1 and el[0].tag == _T:
        return el[0].text or ""
    parts = []
    for child in el:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.extend(g.text or "" for g in child if g.tag == _T)
    return "".join(parts)


def _shared_strings(z: zipfile.ZipFile, path: str | None) -> list[str]:
    if not path or path not in z.namelist():
        return []
    out = []
    with z.open(path) as fh:
        for _, el in iterparse(fh):
            if el.tag == f"{{{MAIN}}}si":
                out.append(_text(el).replace("x005F_", ""))  # as openpyxl does
                el.clear()
    return out


def _date_styles(z: zipfile.ZipFile, path: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """Indices of the cell formats (``s`` attribute) showing a number as a date, and those
    showing it as a duration (openpyxl's rules)."""
    if not path or path not in z.namelist():
        return frozenset(), frozenset()
    custom: dict[int, str] = {}
    styles: list[int] = []
    in_xfs = False
    for event, el in iterparse(io.BytesIO(z.read(path)), events=("start", "end")):
        if el.tag == f"{{{MAIN}}}cellXfs":
            in_xfs = event == "start"
        elif event == "end" and el.tag == f"{{{MAIN}}}numFmt":
            custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
        elif event == "start" and in_xfs and el.tag == f"{{{MAIN}}}xf":
            styles.append(int(el.get("numFmtId", "0")))
    fmts = [custom[i] if i in custom else builtin_format_code(i) for i in styles]
    return (
        frozenset(i for i, f in enumerate(fmts) if is_date_format(f)),
        frozenset(i for i, f in enumerate(fmts) if is_timedelta_format(f)),
    )


def to_datetime(value: float, epoch: datetime = WINDOWS_EPOCH, duration: bool = False) -> Any:
    """An Excel serial number as openpyxl gives it (the number itself if out of range)."""
    if not 0 <= value <= MAX_SERIAL:
        return value
    return from_excel(value, epoch, timedelta=duration)


def _number(v: str) -> int | float:
    return float(v) if ("." in v or "E" in v or "e" in v) else int(v)


def iter_rows(
    content: bytes,
    date_columns: set[int] | None = None,
) -> Iterator[tuple[int, dict[int, Any]]]:
    """(row number, {column index: value}) for each row of the first sheet holding a cell.

    Numbers in ``date_columns`` are taken as Excel serial dates even without a date style
    (the caller may fill the set while iterating, once it has read the header row)."""
    date_columns = set() if date_columns is None else date_columns
    try:
        z = zipfile.ZipFile(io.BytesIO(content))
        wb_rels = _rels(z, "xl/workbook.xml")
        first_rid, epoch = None, WINDOWS_EPOCH
        for _, el in iterparse(io.BytesIO(z.read("xl/workbook.xml"))):
            if el.tag == f"{{{MAIN}}}workbookPr" and el.get("date1904") in ("1", "true"):
                epoch = MAC_EPOCH
            elif el.tag == f"{{{MAIN}}}sheet" and first_rid is None:
                first_rid = el.get(f"{{{REL}}}id")
        by_type = {t: p for t, p in wb_rels.values()}
        sheet = wb_rels[first_rid][1] if first_rid in wb_rels else None
        if sheet is None:
            raise NotXlsx("no worksheet")
        strings = _shared_strings(z, by_type.get("sharedStrings"))
        dates, durations = _date_styles(z, by_type.get("styles"))
        fh = z.open(sheet)
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError, OSError, EOFError) as exc:
        raise NotXlsx(str(exc)) from exc
    c_tag, v_tag, is_tag, row_tag = (f"{{{MAIN}}}{t}" for t in ("c", "v", "is", "row"))
    row_n = 0
    try:
        with fh:
            # end events only; each row is cleared once read (its empty shell stays attached)
            for _, el in iterparse(fh):
                if el.tag != row_tag:
                    continue
                r = el.get("r")
                row_n = int(r) if r else row_n + 1
                values: dict[int, Any] = {}
                col = -1
                for c in el:
                    if c.tag != c_tag:
                        continue
                    ref = c.get("r")
                    col = _col(ref) if ref else col + 1
                    t = c.get("t", "n")
                    if t == "inlineStr":
                        node = c.find(is_tag)
                        values[col] = _text(node) if node is not None else ""
                        continue
                    v = c.find(v_tag)
                    if v is None or v.text is None:
                        continue
                    text = v.text
                    if t == "s":
                        values[col] = strings[int(text)]
                    elif t == "n":
                        num = _number(text)
                        s = c.get("s")
                        if s is not None and int(s) in dates:
                            values[col] = to_datetime(num, epoch, int(s) in durations)
                        elif col in date_columns:
                            values[col] = to_datetime(num, epoch)
                        else:
                            values[col] = num
                    elif t == "b":
                        values[col] = bool(int(text))
                    elif t == "d":
                        values[col] = from_ISO8601(text)
                    else:  # "str" (a formula's text), "e" (an error such as #N/A)
                        values[col] = text
                el.clear()
                if values:
                    yield row_n, values
    except (ParseError, ValueError, IndexError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise NotXlsx(str(exc)) from exc
