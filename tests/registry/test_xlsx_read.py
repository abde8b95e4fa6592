"""The import's own xlsx reader: the values openpyxl would read, dates, refusals (R6 ledger)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from services.registry import xlsx_read
from services.registry.excel import read_rows
from services.registry.excel_columns import HEADERS
from shared.errors import InvalidInput


def _book(write_only: bool = False) -> bytes:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("台账") if write_only else wb.active
    ws.append(["文本", 7, 2.5, True, False, datetime(2024, 2, 29, 12, 30), "=1+1", None, "  空格  "])
    ws.append([])
    ws.append([None, None, "第三行", "x005F_y"])
    if not write_only:
        wb.create_sheet("第二张表").append(["不读这张"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _openpyxl_rows(content: bytes) -> dict[int, dict[int, object]]:
    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    out = {}
    for n, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
        cells = {i: v for i, v in enumerate(row) if v is not None}
        if cells:
            out[n] = cells
    return out


@pytest.mark.parametrize("write_only", [False, True])  # shared strings / inline strings
def test_reader_gives_what_openpyxl_gives(write_only):
    # policy R6: the ledger import reads the first sheet's values as openpyxl would
    content = _book(write_only)
    assert dict(xlsx_read.iter_rows(content)) == _openpyxl_rows(content)


def test_date_columns_take_excel_serial_numbers():
    # policy R6: a date typed as a number (Excel serial) in a date column is that date
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    values = {h: None for h in HEADERS}
    values.update(
        {
            "项目代码": "2023-140521-44-01-000001",
            "阶段日期": 45000,
            "计划开工日期": datetime(2023, 3, 1),
            "总投资（万元）": 45000,
        }
    )
    ws.append([values[h] for h in HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    [(n, row)] = read_rows(buf.getvalue())
    assert n == 2
    assert row["stage_on"].date() == date(2023, 3, 15)  # serial 45000
    assert row["planned_start"] == datetime(2023, 3, 1)
    assert row["total_investment"] == 45000  # not a date column: the number as typed


@pytest.mark.parametrize(
    "content",
    [
        b"not a spreadsheet",
        b"PK\x03\x04 truncated zip",
        b"",
    ],
)
def test_non_xlsx_is_refused(content):
    # policy R6: an upload that is not an xlsx workbook is a 422, not a 500
    with pytest.raises(InvalidInput) as exc:
        read_rows(content)
    assert exc.value.code == "import.bad_file"


def test_zip_without_a_workbook_is_refused():
    # policy R6: a zip that is not a workbook (e.g. a .docx or any archive)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InvalidInput) as exc:
        read_rows(buf.getvalue())
    assert exc.value.code == "import.bad_file"


async def test_import_of_a_non_xlsx_upload_is_422(platform):
    # policy R6: the endpoint answers the refusal as a problem
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects/import", files={"file": ("ledger.xlsx", b"<html>not xlsx</html>")})
    assert r.status_code == 422 and r.json()["code"] == "import.bad_file"
