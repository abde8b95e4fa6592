"""One project, one file (policy R7 一项一档): documents — approval replies, certificates,
contracts — with type, issuer, date, hash and size limits, in the dossier and its export."""

from __future__ import annotations

import hashlib
import io

from docx import Document as DocxDocument
from openpyxl import load_workbook

from services.registry.config import registry_settings
from tests.registry.conftest import approvals_unreachable

# a minimal PDF as a scanner writes it (header, one empty page, trailer)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def docx_bytes() -> bytes:
    doc = DocxDocument()
    doc.add_paragraph("建设工程施工合同")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


async def test_documents_are_typed_hashed_and_in_the_dossier(platform, make_project, uniq):
    # policy R7: an approval reply (PDF) and a contract (docx) join the project's file
    p = await make_project(uniq, user="chengguan")
    base = f"/api/v1/projects/{p['id']}"
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            f"{base}/documents",
            files={"file": ("批复.pdf", PDF, "text/plain")},
            data={
                "doc_type": "approval_reply",
                "title": "关于项目备案的批复",
                "issuer": "县行政审批服务管理局",
                "issued_on": "2025-03-18",
                "doc_number": "审批备〔2025〕18号",
            },
        )
        assert r.status_code == 201, r.text
        reply = r.json()
        assert reply["content_type"] == "application/pdf"  # sniffed, not the declared type
        assert reply["sha256"] == hashlib.sha256(PDF).hexdigest() and reply["size"] == len(PDF)
        r = await c.post(
            f"{base}/documents",
            files={"file": ("合同.docx", docx_bytes(), "application/octet-stream")},
            data={"doc_type": "contract", "title": "建设工程施工合同", "issuer": "晋城关建设有限公司"},
        )
        assert r.status_code == 201, r.text
        r = await c.get(f"/api/v1/files/{reply['id']}")
        assert r.status_code == 200 and r.content == PDF
        d = (await c.get(f"{base}/dossier")).json()
        assert [(x["doc_type"], x["title"]) for x in d["documents"]] == [
            ("approval_reply", "关于项目备案的批复"),
            ("contract", "建设工程施工合同"),
        ]
        with approvals_unreachable():
            r = await c.get(f"{base}/dossier.xlsx")
        ws = load_workbook(io.BytesIO(r.content))["文件"]
        values = list(ws.iter_rows(values_only=True))
        assert values[1][:5] == (
            "批复文件",
            "关于项目备案的批复",
            "县行政审批服务管理局",
            values[1][3],
            "审批备〔2025〕18号",
        )
        assert values[1][3].date().isoformat() == "2025-03-18"
        assert values[2][0] == "合同"
    async with await platform.as_user("donghe") as c:  # another township: not its file
        assert (await c.get(f"/api/v1/files/{reply['id']}")).status_code == 404


async def test_documents_refuse_other_types_oversize_and_bad_fields(platform, make_project, uniq):
    # policy R7: only document types, within the size limit; bad input is 4xx, nothing stored
    p = await make_project(uniq)
    url = f"/api/v1/projects/{p['id']}/documents"
    meta = {"doc_type": "certificate", "title": "建设用地规划许可证"}
    async with await platform.as_user("zdb") as c:
        r = await c.post(url, files={"file": ("x.pdf", b"#!/bin/sh\necho", "application/pdf")}, data=meta)
        assert r.status_code == 422 and r.json()["code"] == "document.type_refused"
        r = await c.post(
            url, files={"file": ("x.pdf", PDF, "application/pdf")}, data={**meta, "doc_type": "photo"}
        )
        assert r.status_code == 422
        r = await c.post(
            url, files={"file": ("x.pdf", PDF, "application/pdf")}, data={**meta, "issued_on": "2999-01-01"}
        )
        assert r.status_code == 422 and r.json()["code"] == "document.date_future"
        settings = registry_settings()
        saved = settings.document_max_bytes
        settings.document_max_bytes = len(PDF) - 1
        try:
            r = await c.post(url, files={"file": ("x.pdf", PDF, "application/pdf")}, data=meta)
            assert r.status_code == 413 and r.json()["code"] == "document.too_large"
        finally:
            settings.document_max_bytes = saved
        assert (await c.get(url)).json() == []
