"""``POST /narration/preview``: speak one scene's narration, so an author hears it.

The configured narrator (the same one jobs use) speaks ``text`` with ``voice``
into a WAV that is returned as ``audio/wav``; ``X-Narration-Duration`` holds its
length in seconds, which the Studio uses for its "will be sped up / extended"
hints. Text is bounded (:data:`MAX_PREVIEW_CHARS`) and at most
:data:`MAX_CONCURRENT_PREVIEWS` previews are spoken at once per process (429
beyond), so previews cannot crowd out rendering jobs.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request

from videogen_core import Busy, InvalidRequest, UnknownVoice

from ..service import current_service
from ..validation import read_json

__all__ = ["MAX_CONCURRENT_PREVIEWS", "MAX_PREVIEW_CHARS", "bp"]

bp = Blueprint("preview", __name__)

#: Longest narration text a preview speaks (characters).
MAX_PREVIEW_CHARS = 1000
#: Previews spoken at the same time by one process; more get 429.
MAX_CONCURRENT_PREVIEWS = 2
_FIELDS = ("text", "voice")


def _slots() -> threading.BoundedSemaphore:
    slots: threading.BoundedSemaphore | None = current_app.extensions.get("videogen_previews")
    if slots is None:
        slots = current_app.extensions.setdefault(
            "videogen_previews", threading.BoundedSemaphore(MAX_CONCURRENT_PREVIEWS))
    return slots


def _parse(body: Any) -> tuple[str, str | None]:
    if not isinstance(body, dict):
        raise InvalidRequest("", "the request body must be a JSON object", type(body).__name__)
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise InvalidRequest(unknown[0], "is not a known field", None, unknown=unknown)
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidRequest("text", "must be a string" if "text" in body else "is required")
    if not text.strip():
        raise InvalidRequest("text", "must not be empty")
    if len(text) > MAX_PREVIEW_CHARS:
        raise InvalidRequest("text", f"must be at most {MAX_PREVIEW_CHARS} characters",
                             len(text), max_chars=MAX_PREVIEW_CHARS)
    voice = body.get("voice")
    if voice is not None and not isinstance(voice, str):
        raise InvalidRequest("voice", "must be a string or null", voice)
    return text, voice or None


@bp.post("/narration/preview")
def narration_preview() -> Response:
    """Speak ``{"text", "voice"?}`` with the configured narrator: ``audio/wav``."""
    service = current_service()
    text, voice = _parse(read_json(request, service.settings.max_body_kb * 1024))
    slots = _slots()
    if not slots.acquire(blocking=False):
        raise Busy("too many narration previews at once; retry in a moment", retry_after=1)
    try:
        narrator = service.container.narrator()
        with tempfile.TemporaryDirectory(prefix="videogen-preview-") as tmp:
            try:
                narration = narrator.synthesize(text, Path(tmp) / "preview.wav",
                                                voice=voice or service.settings.voice or None)
            except UnknownVoice as exc:  # narrators name the job's field; here it is ``voice``
                raise UnknownVoice(voice or service.settings.voice,
                                   exc.details.get("available", []), field="voice") from None
            if narration.path is None:  # only silence to speak (e.g. punctuation only)
                raise InvalidRequest("text", "has nothing to speak")
            data = Path(narration.path).read_bytes()
    finally:
        slots.release()
    response = Response(data, content_type="audio/wav")
    response.headers["X-Narration-Duration"] = f"{narration.duration:.3f}"
    response.headers["X-Narration-Voice"] = narration.voice
    response.headers["Cache-Control"] = "no-store"
    return response
