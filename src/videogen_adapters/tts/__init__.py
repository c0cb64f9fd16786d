"""Narrators: Piper (default), eSpeak NG, OpenAI-compatible HTTP, a fallback chain and
a silent fake. Engines are loaded lazily on first use, never at import."""

from .piper import BUNDLED_VOICE, PiperNarrator

__all__ = ["BUNDLED_VOICE", "PiperNarrator"]
