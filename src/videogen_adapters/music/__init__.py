"""Music sources (the ``MusicSource`` port): a procedural synthesiser (default),
the user's mood-tagged library folder, and silence.

Nothing is rendered or scanned at import. :func:`build_music_source` picks one
from ``Settings`` (``VIDEOGEN_MUSIC=synth|library|none``, ``VIDEOGEN_MUSIC_DIR``).
"""

from __future__ import annotations

from .moods import DEFAULT_MOOD, MOODS, resolve_mood
from .synth import SynthMusicSource

__all__ = ["DEFAULT_MOOD", "MOODS", "SynthMusicSource", "resolve_mood"]
