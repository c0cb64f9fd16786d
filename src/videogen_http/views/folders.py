"""``/folders/<folder_id>/images``: upload images (multipart) and list them."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import FileStorage

from videogen_core import InvalidImage, InvalidRequest

from ..errors import PayloadTooLarge, UnsupportedMediaType
from ..service import current_service
from ..uploads import CheckedUpload, check_upload, sniff_image
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
    folder. Only PNG, JPEG, WebP, GIF, BMP and TIFF (by their bytes, never the
    name): 415 when the first bytes are no image, 422 when the file does not
    decode whole (every pixel is decoded, in bounded memory) or hides bytes
    after a PNG/GIF/WebP; 413 above ``VIDEOGEN_MAX_UPLOAD_MB``; 400 when two
    parts would be stored under one name. All files are checked before any is
    stored; each stored name carries the extension of its real format."""
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
    storage = service.container.storage()
    stored: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="videogen-upload-") as tmp:
        accepted = [_check(file, index, Path(tmp), limit, service.settings.max_upload_mb)
                    for index, file in enumerate(files)]
        _refuse_duplicates(accepted)
        for _index, file, checked in accepted:
            key = storage.put(checked.path, f"{folder_id}/{checked.name}",
                              checked.info.content_type)
            entry: dict[str, Any] = {
                "key": key, "name": checked.name, "filename": file.filename or "",
                "size": checked.path.stat().st_size, "content_type": checked.info.content_type,
                "width": checked.info.width, "height": checked.info.height,
                "url": storage.url(key)}
            if checked.removed_bytes:
                entry["removed_trailing_bytes"] = checked.removed_bytes
            stored.append(entry)
    log.info("folder %s: stored %d image(s)", folder_id, len(stored))
    return jsonify({"success": True, "folder_id": folder_id, "images": stored,
                    "count": len(stored)}), 201


def _check(file: FileStorage, index: int, tmp: Path, limit: int,
           limit_mb: int) -> tuple[int, FileStorage, CheckedUpload]:
    """One part, saved to ``tmp`` and decoded whole; the errors name ``files[index]``."""
    field = f"files[{index}]"
    label = file.filename or field
    if _size(file) > limit:
        raise PayloadTooLarge(f"{label} exceeds {limit_mb} MB", field=field, limit_bytes=limit)
    if sniff_image(file.stream.read(32)) is None:
        raise UnsupportedMediaType(
            f"{label} is not a PNG, JPEG, WebP, GIF, BMP or TIFF image", field=field, file=label)
    file.stream.seek(0)
    local = tmp / f"{index:04d}"
    file.save(local)
    try:
        checked = check_upload(local, label)
    except InvalidImage as exc:
        error = InvalidImage(label, exc.details["reason"])
        error.details["field"] = field
        raise error from None
    check_id(checked.name, f"{field}.filename")
    return index, file, checked


def _refuse_duplicates(accepted: list[tuple[int, FileStorage, CheckedUpload]]) -> None:
    """400 when two parts would be stored under one name (the second would
    silently replace the first)."""
    first: dict[str, int] = {}
    for index, file, checked in accepted:
        earlier = first.setdefault(checked.name, index)
        if earlier != index:
            raise InvalidRequest(
                f"files[{index}].filename",
                f"{file.filename!r} would be stored as {checked.name!r}, like files[{earlier}]; "
                "give every file of one upload its own name", file.filename,
                name=checked.name, same_as=f"files[{earlier}]")


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
