"""Subject-aware framing: where the subject of a photo is, and how the cover crop
and the camera keep it in frame (see :mod:`.subject` and :mod:`.geometry`)."""

from __future__ import annotations

from .geometry import cover_crop, frame_box
from .subject import Subject, detect_faces, detect_subject, resolve_focus, saliency_subject

__all__ = ["Subject", "cover_crop", "detect_faces", "detect_subject", "frame_box",
           "resolve_focus", "saliency_subject"]
