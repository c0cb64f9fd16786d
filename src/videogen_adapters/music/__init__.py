"""Music sources (the ``MusicSource`` port): a procedural synthesiser (default),
the user's mood-tagged library folder, and silence.

Nothing is rendered or scanned at import. :func:`build_music_source` picks one
from ``Settings`` (``VIDEOGEN_MUSIC=synth|library|none``, ``VIDEOGEN_MUSIC_DIR``).
"""

from __future__ import annotations

from typing import Any

from videogen_core import InvalidRequest, MusicSource

from .library import LibraryMusicSource, SilenceMusicSource
from .moods import DEFAULT_MOOD, MOODS, resolve_mood
from .synth import SynthMusicSource

__all__ = [
    "DEFAULT_MOOD",
    "MOODS",
    "LibraryMusicSource",
    "NullMusicSource",
    "SilenceMusicSource",
    "SynthMusicSource",
    "build_music_source",
    "resolve_mood",
]

#: Alias: the source behind ``VIDEOGEN_MUSIC=none``.
NullMusicSource = SilenceMusicSource


def build_music_source(settings: Any) -> MusicSource:
    """The music source ``settings.music`` names (``library`` needs ``music_dir``)."""
    if settings.music == "synth":
        return SynthMusicSource()
    if settings.music == "library":
        if not settings.music_dir:
            raise InvalidRequest("VIDEOGEN_MUSIC_DIR", "is required when VIDEOGEN_MUSIC=library")
        return LibraryMusicSource(settings.music_dir)
    if settings.music == "none":
        return SilenceMusicSource()
    raise InvalidRequest("VIDEOGEN_MUSIC", "must be one of synth, library, none", settings.music)
