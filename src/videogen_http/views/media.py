"""``GET /media/<path>`` — stored files with HTTP Range support (video players seek)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Response, send_file

from videogen_adapters.image_decode import probe
from videogen_core import InvalidImage, NotFound, is_image_name

from ..service import current_service
from ..validation import check_media_key

__all__ = ["bp"]

bp = Blueprint("media", __name__)

_TYPES = {".mp4": "video/mp4", ".vtt": "text/vtt", ".srt": "application/x-subrip",
          ".webm": "video/webm", ".m4a": "audio/mp4", ".wav": "audio/wav",
          ".json": "application/json"}
#: on every /media response: no type sniffing, and nothing active runs even if
#: a browser is asked to render the file as a page
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; "
                               "style-src 'unsafe-inline'; sandbox",
}


def _content_type(key: str, path: Path) -> str:
    """For images the type of the stored bytes (their header parsed, never the
    name), for the rest the type of a short allowlist of extensions;
    ``application/octet-stream`` (served as an attachment) for anything else,
    including a "picture" whose bytes are none (``GIF89a<html>…``)."""
    try:
        return probe(path, name=Path(key).name).content_type
    except InvalidImage:
        pass
    if is_image_name(key):
        return "application/octet-stream"
    return _TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def _send(path: Path, key: str) -> Response:
    mimetype = _content_type(key, path)
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=3600,
                         as_attachment=mimetype == "application/octet-stream",
                         download_name=Path(key).name)
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/media/<path:key>")
def media(key: str) -> Response:
    """Serve the object under ``key``: straight from disk for local storage,
    through a temporary copy for other backends (opened, then deleted at once:
    nothing is left behind whether the download finishes, fails or the client
    goes away). Range requests give 206 with Content-Range, an unsatisfiable
    range 416; ETag/Last-Modified allow caching. Every response carries
    ``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy."""
    service = current_service()
    check_media_key(key)
    storage = service.container.storage()
    locate = getattr(storage, "path", None)
    if callable(locate):
        path = Path(locate(key))
        if not path.is_file():
            raise NotFound(f"no stored file {key!r}", key=key)
        return _send(path, key)
    if not storage.exists(key):
        raise NotFound(f"no stored file {key!r}", key=key)
    tmp = tempfile.mkdtemp(prefix="videogen-media-")
    try:
        path = storage.fetch(key, Path(tmp) / "object")
        # send_file opens the file before it returns: the directory can go now
        # (POSIX keeps an open file readable), so no close callback is needed
        return _send(path, key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
