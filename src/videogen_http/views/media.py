"""``GET /media/<path>`` — stored files with HTTP Range support (video players seek)."""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Response, send_file

from videogen_core import NotFound

from ..service import current_service
from ..validation import check_media_key

__all__ = ["bp"]

bp = Blueprint("media", __name__)

_TYPES = {".mp4": "video/mp4", ".vtt": "text/vtt", ".srt": "application/x-subrip",
          ".webm": "video/webm", ".m4a": "audio/mp4", ".wav": "audio/wav"}


def _content_type(key: str) -> str:
    ext = Path(key).suffix.lower()
    return _TYPES.get(ext) or mimetypes.guess_type(key)[0] or "application/octet-stream"


@bp.get("/media/<path:key>")
def media(key: str) -> Response:
    """Serve the object under ``key``: straight from disk for local storage,
    through a temporary copy for other backends. Range requests give 206 with
    Content-Range, an unsatisfiable range 416; ETag/Last-Modified allow caching."""
    service = current_service()
    check_media_key(key)
    storage = service.container.storage()
    locate = getattr(storage, "path", None)
    if callable(locate):
        path = Path(locate(key))
        if not path.is_file():
            raise NotFound(f"no stored file {key!r}", key=key)
        return send_file(path, mimetype=_content_type(key), conditional=True, etag=True,
                         max_age=3600)
    if not storage.exists(key):
        raise NotFound(f"no stored file {key!r}", key=key)
    tmp = tempfile.mkdtemp(prefix="videogen-media-")
    try:
        path = storage.fetch(key, Path(tmp) / Path(key).name)
        response = send_file(path, mimetype=_content_type(key), conditional=True, etag=True,
                             max_age=3600)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    response.call_on_close(lambda: shutil.rmtree(tmp, ignore_errors=True))
    return response
