"""Progress photos: content-addressed files on disk, type sniffed, size capped (policy R6, R7)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_read, require_write
from services.registry.config import registry_settings
from services.registry.models import Photo, ProgressReport, Project, pipeline
from services.registry.schemas_progress import PhotoOut
from services.registry.service import get_project
from shared.errors import InvalidInput, NotFound, PayloadTooLarge
from shared.identity import Principal

_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes (the declared content type is not trusted)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_path(sha256: str, content_type: str) -> Path:
    return registry_settings().photo_dir / sha256[:2] / f"{sha256}{_EXT[content_type]}"


def store_file(data: bytes, path: Path) -> None:
    """Write content-addressed bytes once, atomically (photos and documents, policy R7)."""
    if path.exists():
        return  # same content already stored
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


async def add_photo(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, month: str, upload: UploadFile
) -> Photo:
    settings = registry_settings()
    project = await get_project(session, principal=principal, project_id=project_id)
    require_write(principal, project)
    report = await session.scalar(
        select(ProgressReport.id).where(
            ProgressReport.project_id == project.id,
            ProgressReport.month == month,
            ProgressReport.current.is_(True),
        )
    )
    if report is None:
        raise InvalidInput(
            f"{month} 尚无月报：请先报送月报再上传照片",
            code="photo.no_report",
            fields=[{"field": "month", "message": "该月无月报"}],
        )
    data = await upload.read(settings.photo_max_bytes + 1)
    if len(data) > settings.photo_max_bytes:
        raise PayloadTooLarge(
            f"照片超过 {settings.photo_max_bytes // (1024 * 1024)} MB 上限", code="photo.too_large"
        )
    kind = sniff(data[:16])
    if kind is None or kind not in settings.photo_types:
        raise InvalidInput(
            "只接受 JPEG、PNG 或 WebP 图片（按文件内容判断）",
            code="photo.type_refused",
            fields=[{"field": "file", "message": "文件类型不允许"}],
        )
    sha = hashlib.sha256(data).hexdigest()
    store_file(data, photo_path(sha, kind))
    photo = Photo(
        id=uuid.uuid4(),
        project_id=project.id,
        month=month,
        sha256=sha,
        content_type=kind,
        size=len(data),
        filename=(upload.filename or "")[:200] or None,
        uploaded_by=principal.subject,
    )
    session.add(photo)
    await session.flush()
    out = PhotoOut.model_validate(photo, from_attributes=True).model_dump(mode="json")
    await pipeline.audit(
        session, principal, entity="project", entity_id=project.id, action="photo_add", after=out
    )
    return photo


async def get_photo(
    session: AsyncSession, *, principal: Principal, photo_id: uuid.UUID
) -> tuple[Photo, Path]:
    photo = await session.get(Photo, photo_id)
    if photo is None:
        raise NotFound("文件不存在", code="file.not_found")
    return photo, await readable_path(
        session, principal, photo.project_id, photo_path(photo.sha256, photo.content_type)
    )


async def readable_path(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, path: Path
) -> Path:
    """A stored file's path, if the principal may read its project and the content is there."""
    project = await session.get(Project, project_id)
    require_read(principal, project, project_id)
    return _present(path)


def _present(path: Path) -> Path:
    if not path.exists():
        raise NotFound("文件内容缺失（存储目录中找不到）", code="file.content_missing")
    return path


async def list_photos(session: AsyncSession, project_id: uuid.UUID) -> list[Photo]:
    rows = await session.scalars(
        select(Photo).where(Photo.project_id == project_id).order_by(Photo.month, Photo.uploaded_at)
    )
    return list(rows)
