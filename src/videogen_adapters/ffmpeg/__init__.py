"""The FFmpeg media layer: Ken Burns renderer, clip conforming, muxer, probing.

Runs the ffmpeg binary that ``imageio-ffmpeg`` ships (located when an adapter
is constructed, never at import) and probes with PyAV.

* :class:`KenBurnsClipRenderer` — ``ClipRenderer``: a still → a sub-pixel smooth clip.
* :func:`conform_clip` — any video / animation / frame list → a clip like the above.
* :class:`FfmpegMuxer` — ``Muxer``: clips + transitions + mixed audio → final MP4.
* :func:`probe` — measured facts of a media file.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "FfmpegMuxer",
    "FfmpegRunner",
    "KenBurnsClipRenderer",
    "MediaInfo",
    "conform_clip",
    "generate_video",
    "load_image",
    "probe",
]

_LAZY = {
    "FfmpegMuxer": "muxer",
    "FfmpegRunner": "runner",
    "KenBurnsClipRenderer": "kenburns",
    "generate_video": "kenburns",
    "MediaInfo": "probe",
    "probe": "probe",
    "conform_clip": "conform",
    "load_image": "images",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
