"""videogen_adapters — the mechanisms behind videogen's ports.

Subpackages: ``ffmpeg`` (Ken Burns renderer, muxer, probing), ``comfyui``,
``tts``, ``music``, ``storage``, ``executors``, ``jobs``, plus the shipped
fakes in ``fakes``. The seed-compatible functions are importable from here::

    from videogen_adapters import generate_video, process_video_generation

Heavy modules are imported lazily, on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Settings", "generate_video", "process_video_generation"]

_LAZY = {
    "generate_video": "videogen_adapters.ffmpeg.kenburns",
    "process_video_generation": "videogen_adapters.orchestrator",
    "generate": "videogen_adapters.orchestrator",
    "Settings": "videogen_adapters.config",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'videogen_adapters' has no attribute {name!r}")
