"""Narrators (the ``Narrator`` port): Piper (default), eSpeak NG, any
OpenAI-compatible HTTP endpoint, a fallback chain and a silent fake.

Engines load lazily on first use, never at import. :func:`build_narrator`
picks one from ``Settings`` (``VIDEOGEN_NARRATOR=piper|espeak|http|chain|silent``).
"""

from __future__ import annotations

from typing import Any

from videogen_core import InvalidRequest, Narrator

from .chain import FallbackNarrator, SilentNarrator
from .espeak import EspeakNarrator
from .openai_http import HttpSpeechNarrator
from .piper import BUNDLED_VOICE, PiperNarrator

__all__ = [
    "BUNDLED_VOICE",
    "EspeakNarrator",
    "FallbackNarrator",
    "HttpSpeechNarrator",
    "PiperNarrator",
    "SilentNarrator",
    "build_narrator",
]


def _single(kind: str, settings: Any) -> Narrator:
    if kind == "piper":
        paths = [settings.piper_voice_path] if settings.piper_voice_path else []
        return PiperNarrator(paths)
    if kind == "espeak":
        return EspeakNarrator(settings.espeak_voice or "en-us")
    if kind == "http":
        return HttpSpeechNarrator.from_settings(settings)
    if kind == "silent":
        return SilentNarrator()
    raise InvalidRequest("VIDEOGEN_NARRATOR", "must be one of piper, espeak, http, chain, silent",
                         kind)


def build_narrator(settings: Any) -> Narrator:
    """The narrator ``settings.narrator`` names; ``chain`` builds a FallbackNarrator of
    ``settings.narrator_chain`` (comma-separated, e.g. ``"piper,espeak"``)."""
    if settings.narrator != "chain":
        return _single(settings.narrator, settings)
    kinds = [k.strip() for k in settings.narrator_chain.split(",") if k.strip()]
    if not kinds or "chain" in kinds:
        raise InvalidRequest("VIDEOGEN_NARRATOR_CHAIN",
                             "must list narrators (piper, espeak, http, silent)",
                             settings.narrator_chain)
    return FallbackNarrator([_single(k, settings) for k in kinds])
