"""``GET /capabilities``: what this server offers, for clients that build forms.

The Studio reads it to fill its controls: the music moods and voices of the
configured adapters, the transitions, the movement limits and the clip-action
vocabulary, the narration timing rules (lead-in, gap, speed-up cap), a speech
rate measured once from the configured narrator (for "narration too long"
hints before anything is spoken), and the request schemas of the OpenAPI
document — so options added to the API (aspect ratio, resolution, caption
style...) appear in the page without changing it.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import attrs
from flask import Blueprint, Response, current_app, jsonify

from videogen_core import GenerationParams, VideogenError
from videogen_core.motion import MOVEMENTS, SPEEDS

from ..openapi import openapi_document
from ..service import Service, current_service
from .preview import MAX_PREVIEW_CHARS

__all__ = ["DEFAULT_WORDS_PER_SECOND", "REFERENCE_TEXT", "RETRY_SECONDS", "bp", "speech_rate"]

bp = Blueprint("capabilities", __name__)
log = logging.getLogger("videogen.http")

#: Spoken once to measure the narrator's speech rate (30 words, two sentences).
REFERENCE_TEXT = ("The morning light spread slowly across the quiet valley, and the river "
                  "shone like silver. We walked along the old stone path until the village "
                  "bells began to ring.")
#: Words per second assumed when the narrator cannot be measured (≈150 words a minute).
DEFAULT_WORDS_PER_SECOND = 2.5
#: Seconds before a failed measurement is tried again.
RETRY_SECONDS = 60.0
_lock = threading.Lock()


def speech_rate(service: Service) -> dict[str, Any]:
    """``{"words_per_second", "measured"}``: the configured narrator's rate with its
    default voice, measured on :data:`REFERENCE_TEXT` once per app and kept. When the
    narrator fails, the estimate is answered and measuring is tried again after
    :data:`RETRY_SECONDS` (a narrator that is down must not slow every page load)."""
    with _lock:
        cached = current_app.extensions.get("videogen_speech_rate")
        if cached is not None and (cached[1] is None or time.monotonic() < cached[1]):
            return dict(cached[0])
        rate: dict[str, Any] = {"words_per_second": DEFAULT_WORDS_PER_SECOND,
                                "measured": False}
        expires: float | None = time.monotonic() + RETRY_SECONDS
        try:
            with tempfile.TemporaryDirectory(prefix="videogen-rate-") as tmp:
                narration = service.container.narrator().synthesize(
                    REFERENCE_TEXT, Path(tmp) / "rate.wav", voice=service.settings.voice or None)
            if narration.duration > 0:
                words = len(REFERENCE_TEXT.split())
                rate = {"words_per_second": round(words / narration.duration, 3),
                        "measured": True}
                expires = None
        except (VideogenError, OSError) as exc:  # a narrator that is down: the estimate
            log.warning("speech rate not measured (%s); assuming %.1f words/s", exc,
                        DEFAULT_WORDS_PER_SECOND)
        current_app.extensions["videogen_speech_rate"] = (rate, expires)
        return dict(rate)


def _listed(getter: Any) -> list[str]:
    try:
        return list(getter())
    except (VideogenError, OSError) as exc:
        log.warning("capabilities: %s", exc)
        return []


@bp.get("/capabilities")
def capabilities() -> Response:
    """Moods, voices, transitions, limits and request schemas of this server."""
    service = current_service()
    settings = service.settings
    animation = settings.animation()
    music = service.container.music()
    schemas = openapi_document()["components"]["schemas"]
    return jsonify({
        "success": True,
        "moods": _listed(music.moods) if music is not None else [],
        "voices": _listed(service.container.narrator().voices),
        "default_voice": settings.voice or None,
        "transitions": list(animation.transition_types),
        "default_transition": attrs.fields(GenerationParams).transition_type.default,
        "transition_duration": animation.transition_duration,
        "movement_limits": dict(animation.movement_limits),
        "movements": list(MOVEMENTS),
        "speeds": list(SPEEDS),
        "max_scene_duration": animation.max_scene_duration,
        "max_scenes": animation.max_scenes,
        "max_speedup": animation.max_speedup,
        "narration_lead_in": animation.narration_lead_in,
        "narration_gap": animation.narration_gap,
        "speech_rate": speech_rate(service),
        "fps": settings.fps,
        "width": settings.width,
        "height": settings.height,
        "max_upload_mb": settings.max_upload_mb,
        "narration_preview": {"max_chars": MAX_PREVIEW_CHARS},
        "request_schemas": {name: schemas[name] for name in ("Scene", "GenerationParams")},
    })
