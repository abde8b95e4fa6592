"""Project documents for the one-project-one-file dossier (policy R7): approval replies,
certificates, contracts — typed, with issuer and date, type sniffed, size capped, stored
content-addressed like the progress photos."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from fastapi import UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_write
from services.registry.config import registry_settings
from services.registry.models import Document, Photo, pipeline
from services.registry.photos import get_photo, readable_path, store_file
from services.registry.photos import sniff as sniff_image
from services.registry.service import get_project
from shared.clock import today
from shared.errors import InvalidInput, PayloadTooLarge
from shared.identity import Principal

DocType = Literal["approval_reply", "certificate", "contract", "other"]
DOC_TYPES_ZH = {"approval_reply": "批复文件", "certificate": "证照", "contract": "合同", "other": "其他"}
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"
_EXT = {
    PDF: ".pdf",
    DOCX: ".docx",
    XLSX: ".xlsx",
    OFD: ".ofd",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
}


class DocumentOut(BaseModel):
    id: uuid.UUID = Field(description="文件 ID（下载：GET /api/v1/files/{id}）")
    doc_type: DocType = Field(
        description="类型：approval_reply 批复 / certificate 证照 / contract 合同 / other 其他"
    )
    title: str = Field(description="文件名称")
    issuer: str | None = Field(description="出具单位（发文机关、发证机关、合同相对方）")
    issued_on: date | None = Field(description="出具日期")
    doc_number: str | None = Field(description="文号或证号")
    sha256: str = Field(description="内容 SHA-256")
    content_type: str = Field(description="文件类型（按内容判断）")
    size: int = Field(description="字节数")
    filename: str | None = Field(description="原文件名")
    uploaded_by: str = Field(description="上传人")
    uploaded_at: datetime = Field(description="上传时间")


def sniff(data: bytes) -> str | None:
    """The document's real type from its content (the declared content type is not trusted)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        if "OFD.xml" in names:
            return OFD
        return None
    return sniff_image(data[:16])


def document_path(sha256: str, content_type: str) -> Path:
    return registry_settings().document_dir / sha256[:2] / f"{sha256}{_EXT[content_type]}"


async def add_document(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    doc_type: str,
    title: str,
    issuer: str | None,
    issued_on: date | None,
    doc_number: str | None,
    upload: UploadFile,
) -> Document:
    settings = registry_settings()
    project = await get_project(session, principal=principal, project_id=project_id)
    require_write(principal, project)
    if issued_on is not None and issued_on > today():
        raise InvalidInput(
            "出具日期不能晚于今天",
            code="document.date_future",
            fields=[{"field": "issued_on", "message": "晚于今天"}],
        )
    data = await upload.read(settings.document_max_bytes + 1)
    if len(data) > settings.document_max_bytes:
        raise PayloadTooLarge(
            f"文件超过 {settings.document_max_bytes // (1024 * 1024)} MB 上限", code="document.too_large"
        )
    kind = sniff(data)
    if kind is None or kind not in settings.document_types:
        raise InvalidInput(
            "只接受 PDF、OFD、Word（docx）、Excel（xlsx）或 JPEG/PNG/WebP 图片（按文件内容判断）",
            code="document.type_refused",
            fields=[{"field": "file", "message": "文件类型不允许"}],
        )
    sha = hashlib.sha256(data).hexdigest()
    store_file(data, document_path(sha, kind))
    doc = Document(
        id=uuid.uuid4(),
        project_id=project.id,
        doc_type=doc_type,
        title=title,
        issuer=issuer,
        issued_on=issued_on,
        doc_number=doc_number,
        sha256=sha,
        content_type=kind,
        size=len(data),
        filename=(upload.filename or "")[:200] or None,
        uploaded_by=principal.subject,
    )
    session.add(doc)
    await session.flush()
    out = DocumentOut.model_validate(doc, from_attributes=True).model_dump(mode="json")
    await pipeline.audit(
        session, principal, entity="project", entity_id=project.id, action="document_add", after=out
    )
    return doc


async def get_file(
    session: AsyncSession, *, principal: Principal, file_id: uuid.UUID
) -> tuple[Photo | Document, Path]:
    """A stored file — a progress photo or a project document — with its path on disk."""
    doc = await session.get(Document, file_id)
    if doc is None:
        return await get_photo(session, principal=principal, photo_id=file_id)
    path = document_path(doc.sha256, doc.content_type)
    return doc, await readable_path(session, principal, doc.project_id, path)


async def list_documents(session: AsyncSession, project_id: uuid.UUID) -> list[Document]:
    rows = await session.scalars(
        select(Document)
        .where(Document.project_id == project_id)
        .order_by(Document.issued_on.nulls_last(), Document.uploaded_at)
    )
    return list(rows)
