"""Pure decisions of the ComfyUI renderer: prompt text, motion strength, seeds, segments.

Seeds. Segment ``k`` of scene ``n`` of a job with seed ``s`` uses::

    int.from_bytes(sha256(f"videogen/comfyui/{s}/{n}/{k}".encode()).digest()[:4], "big")

— a value in ``0..2**32-1`` that is the same on every machine and run, and
differs between scenes and between the segments of one scene.

Segments. A scene needs ``round(duration · fps)`` frames at the generation
fps. One prompt makes at most ``capacity`` frames (the template's
``max_frames`` and ``max_duration`` seconds, whichever is smaller). Segment
``k > 0`` starts from the last kept frame of segment ``k - 1``, so its first
frame repeats that frame and is dropped when joining: ``n`` segments of
``c_k`` frames give ``c_0 + Σ (c_k − 1)`` frames.
"""

from __future__ import annotations

import hashlib
import math

import attrs

from videogen_core import Movement, parse_clip_action

__all__ = [
    "DEFAULT_NEGATIVE_PROMPT",
    "Segment",
    "build_prompt",
    "motion_factor",
    "motion_value",
    "plan_segments",
    "segment_seed",
]

DEFAULT_NEGATIVE_PROMPT = "blurry, distorted, low quality, watermark, text, jittery motion"
_PROMPT_LIMIT = 600

_PHRASES = {
    "zoom in": "the camera slowly pushes in",
    "zoom out": "the camera pulls back",
    "pan left": "the camera pans left",
    "pan right": "the camera pans right",
    "pan up": "the camera pans up",
    "pan down": "the camera pans down",
    "tilt up": "the camera tilts up",
    "tilt down": "the camera tilts down",
    "static": "static camera, almost no motion",
}
_SPEED_ADVERBS = {"slow": "slowly", "gentle": "gently", "fast": "quickly", "quick": "quickly"}


def segment_seed(seed: int, scene_number: int, k: int) -> int:
    """The seed of segment ``k`` of scene ``scene_number`` (see the module docstring)."""
    digest = hashlib.sha256(f"videogen/comfyui/{seed}/{scene_number}/{k}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _phrase(movement: Movement) -> str:
    base = movement.name
    adverb = _SPEED_ADVERBS.get(movement.speed)
    if base == "static":
        return _PHRASES[base]
    verb, direction = base.split(" ", 1)
    if verb == "zoom":
        text = "the camera pushes in" if direction == "in" else "the camera pulls back"
    else:
        text = f"the camera {verb}s {direction}"
    return f"{text} {adverb}" if adverb else text


def build_prompt(clip_action: str, narration: str = "") -> str:
    """Positive prompt text: camera movements in words, the description, then the narration.

    ``"slow zoom in, misty forest"`` + narration ``"Dawn breaks."`` →
    ``"the camera pushes in slowly. misty forest. Dawn breaks."`` (cut at 600 characters).
    """
    parsed = parse_clip_action(clip_action)
    parts = [", ".join(_phrase(m) for m in parsed.movements)] if parsed.movements else []
    if parsed.description:
        parts.append(parsed.description)
    if narration.strip():
        parts.append(" ".join(narration.split()))
    text = ". ".join(p.strip().rstrip(".") for p in parts if p.strip())
    if text:
        text += "."
    return text[:_PROMPT_LIMIT].rstrip()


def motion_factor(clip_action: str) -> float:
    """How much motion the clip action asks for: the mean speed factor of its movements
    (slow 0.5 … quick 2.0), 0.25 for a static shot, 1.0 when it names no movement."""
    movements = parse_clip_action(clip_action).movements
    if not movements:
        return 1.0
    factors = [0.25 if m.name == "static" else m.factor for m in movements]
    return sum(factors) / len(factors)


def motion_value(clip_action: str, base: float, low: float, high: float,
                 integer: bool = True) -> float | int:
    """The motion input (e.g. SVD ``motion_bucket_id``): ``base × motion_factor``, clamped."""
    value = min(high, max(low, base * motion_factor(clip_action)))
    return round(value) if integer else value


@attrs.frozen
class Segment:
    """One prompt's worth of a scene: generate ``frames`` frames, keep the first ``keep``.

    ``keep`` counts the frames that reach the joined clip, so segment ``k > 0``
    contributes ``keep - 1`` new frames (its first frame repeats the previous one's last).
    """

    index: int
    frames: int
    keep: int


def plan_segments(total_frames: int, capacity: int, frame_step: int = 1) -> list[Segment]:
    """Split ``total_frames`` into chained segments of at most ``capacity`` frames each.

    ``frame_step`` > 1 rounds each segment's generated count up to ``1 + k·step``
    (never beyond ``capacity``, which must itself be such a count); the surplus
    frames are trimmed (``keep``).
    """
    total = max(1, total_frames)
    capacity = max(2, capacity)
    if total <= capacity:
        counts = [total]
    else:
        n = 1 + math.ceil((total - capacity) / (capacity - 1))
        raw = total + n - 1  # generated frames counting the repeated first frames
        base, extra = divmod(raw, n)
        counts = [base + (1 if i < extra else 0) for i in range(n)]
    segments = []
    for i, keep in enumerate(counts):
        frames = keep
        if frame_step > 1:
            k = -(-(keep - 1) // frame_step)
            frames = min(capacity, 1 + k * frame_step) if keep > 1 else 1
            frames = max(frames, keep)
        segments.append(Segment(i, frames, keep))
    return segments
