"""``/folders/<folder_id>/images``: upload images (multipart) and list them."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import FileStorage

from videogen_core import InvalidRequest

from ..errors import PayloadTooLarge, UnsupportedMediaType
from ..service import current_service
from ..uploads import sniff_image, upload_name
from ..validation import check_id

__all__ = ["bp"]

bp = Blueprint("folders", __name__)
log = logging.getLogger("videogen.http")


def _size(file: FileStorage) -> int:
    stream = file.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


@bp.post("/folders/<folder_id>/images")
def upload_images(folder_id: str) -> tuple[Response, int]:
    """Store every file of a ``multipart/form-data`` body (any field name) in the
    folder. Only PNG, JPEG, WebP, GIF, BMP and TIFF (by their first bytes): 415
    otherwise; 413 above ``VIDEOGEN_MAX_UPLOAD_MB``. All files are checked before
    any is stored."""
    service = current_service()
    check_id(folder_id, "folder_id")
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            f"upload images as multipart/form-data (got {request.mimetype or 'no Content-Type'})",
            expected="multipart/form-data", got=request.mimetype)
    files = [f for _, f in request.files.items(multi=True)]
    if not files:
        raise InvalidRequest("files", "no file in the upload")
    limit = service.settings.max_upload_mb * 1024 * 1024
    accepted: list[tuple[FileStorage, str, str, int]] = []
    for index, file in enumerate(files):
        field = f"files[{index}]"
        kind = sniff_image(file.stream.read(32))
        file.stream.seek(0)
        if kind is None:
            raise UnsupportedMediaType(
                f"{file.filename or field} is not a PNG, JPEG, WebP, GIF, BMP or TIFF image",
                field=field, file=file.filename or "")
        size = _size(file)
        if size > limit:
            raise PayloadTooLarge(f"{file.filename} exceeds {service.settings.max_upload_mb} MB",
                                  field=field, limit_bytes=limit)
        name = check_id(upload_name(file.filename or "", kind[1]), f"{field}.filename")
        accepted.append((file, name, kind[0], size))
    storage = service.container.storage()
    stored: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="videogen-upload-") as tmp:
        for i, (file, name, content_type, size) in enumerate(accepted):
            local = Path(tmp) / f"{i:04d}"
            file.save(local)
            key = storage.put(local, f"{folder_id}/{name}", content_type)
            stored.append({"key": key, "name": name, "size": size,
                           "content_type": content_type, "url": storage.url(key)})
    log.info("folder %s: stored %d image(s)", folder_id, len(stored))
    return jsonify({"success": True, "folder_id": folder_id, "images": stored,
                    "count": len(stored)}), 201


@bp.get("/folders/<folder_id>/images")
def list_images(folder_id: str) -> Response:
    """The folder's images in natural order (the order scenes fall back to)."""
    service = current_service()
    check_id(folder_id, "folder_id")
    storage = service.container.storage()
    keys = storage.list_images(folder_id)
    images = [{"key": k, "name": k.rsplit("/", 1)[-1], "url": storage.url(k)} for k in keys]
    return jsonify({"success": True, "folder_id": folder_id, "images": images,
                    "count": len(images)})
