"""Value objects of the domain: scenes, sequences, settings.

All are frozen attrs classes; a change returns a copy (``attrs.evolve``).
Intrinsic rules (types, finiteness, ranges) are checked on construction and
raise :class:`~videogen_core.errors.InvalidRequest` naming the field and the
bad value; rules that depend on configuration (duration cap, transition
length) are checked by :func:`validate_sequence`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import InvalidRequest

__all__ = [
    "ASPECT_RATIOS",
    "CAPTION_STYLES",
    "FOCUS_MODES",
    "MAX_NARRATION_CHARS",
    "MAX_SEED",
    "RESOLUTIONS",
    "TRANSITION_TYPES",
    "AnimationSettings",
    "AudioSettings",
    "GenerationParams",
    "Scene",
    "Sequence",
    "VideoSettings",
    "clean_text",
    "derive_seed",
    "frame_size",
    "transition_length",
    "validate_sequence",
]

MAX_SEED = 2**32 - 1
#: Default cap on one scene's narration (characters): about four minutes of speech.
MAX_NARRATION_CHARS = 4000
TRANSITION_TYPES = ("none", "fade", "crossfade")
#: ``Scene.renderer``: ``auto`` is the configured renderer
SCENE_RENDERERS = ("auto", "kenburns", "comfyui")
#: ``generation_params.caption_style``: nothing burnt in, sentences at the bottom
#: (burnt in when the service burns subtitles), karaoke lines, big bold words
CAPTION_STYLES = ("none", "subtitle", "karaoke", "bold")
FPS_RANGE = (1, 120)
#: Per-job output formats (``generation_params.aspect_ratio`` / ``.resolution``).
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:5")
#: The short side of the frame, in pixels.
RESOLUTIONS = {"576p": 576, "720p": 720, "1080p": 1080}
#: ``Scene.focus`` words; an ``(x, y)`` pair in 0–1 image coordinates is the third form.
FOCUS_MODES = ("auto", "center")


def _check_int(field: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(field, "must be an integer", value)
    if not lo <= value <= hi:
        raise InvalidRequest(field, f"must be between {lo} and {hi}", value)


def _check_number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(field, "must be a number", value)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float is not a usable duration either
        raise InvalidRequest(field, "must be a finite number", value) from None
    if not math.isfinite(number):
        raise InvalidRequest(field, "must be a finite number", value)
    return number


def _check_str(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidRequest(field, "must be a string", value)
    if "\x00" in value:
        raise InvalidRequest(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") is not text
        raise InvalidRequest(
            field, f"must be valid Unicode text: lone surrogate U+{ord(value[exc.start]):04X} "
            f"at index {exc.start}") from None


def clean_text(value: Any) -> Any:
    """Narration as the narrators get it: NFC-normalised, control characters
    (other than NUL, tab and newlines) replaced by spaces. Values that are not
    valid text (not a string, a lone surrogate) are left for the validator."""
    if not isinstance(value, str):
        return value
    try:
        text = unicodedata.normalize("NFC", value)
    except UnicodeError:  # pragma: no cover - normalize accepts surrogates today
        return value
    return "".join(" " if unicodedata.category(c) == "Cc" and c not in "\x00\t\n\r" else c
                   for c in text)


def _scene_number(_: Any, a: attrs.Attribute[int], value: int) -> None:
    _check_int(a.name, value, 0, 1_000_000)


def _positive_duration(_: Any, a: attrs.Attribute[float], value: float) -> None:
    if _check_number(a.name, value) <= 0:
        raise InvalidRequest(a.name, "must be greater than 0", value)


def _text(_: Any, a: attrs.Attribute[str], value: str) -> None:
    _check_str(a.name, value)


def _as_focus(value: Any) -> Any:
    """A JSON ``[x, y]`` list becomes a tuple (scenes are frozen and hashable)."""
    return tuple(value) if isinstance(value, list) else value


def _focus(_: Any, a: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, str):
        if value not in FOCUS_MODES:
            raise InvalidRequest(a.name, f"must be one of {', '.join(FOCUS_MODES)} or [x, y] "
                                 "with x and y between 0 and 1", value)
        return
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidRequest(a.name, "must be \"auto\", \"center\" or [x, y] with x and y "
                             "between 0 and 1", value)
    for number in value:
        if not 0.0 <= _check_number(a.name, number) <= 1.0:
            raise InvalidRequest(a.name, "x and y must be between 0 and 1", list(value))


def _scene_renderer(_: Any, a: attrs.Attribute[str], value: str) -> None:
    _check_str(a.name, value)
    if value not in SCENE_RENDERERS:
        raise InvalidRequest(a.name, f"must be one of {', '.join(SCENE_RENDERERS)}", value)


@attrs.frozen
class Scene:
    """One scene: an image shown for ``duration`` seconds while ``narration`` is spoken."""

    scene_number: int = attrs.field(validator=_scene_number)
    narration: str = attrs.field(default="", converter=clean_text, validator=_text)
    duration: float = attrs.field(default=5.0, validator=_positive_duration)
    clip_action: str = attrs.field(default="", validator=_text)
    music_mood: str = attrs.field(default="", validator=_text)
    #: where the subject is: ``"auto"`` (detected), ``"center"`` (the image centre,
    #: no detection) or an ``(x, y)`` point in 0–1 image coordinates
    focus: str | tuple[float, float] = attrs.field(
        default="auto", converter=_as_focus, validator=_focus)
    #: which renderer makes this scene: ``"auto"`` (the configured one),
    #: ``"kenburns"`` or ``"comfyui"`` — both kinds can share one video
    renderer: str = attrs.field(default="auto", validator=_scene_renderer)


def _seed(_: Any, a: attrs.Attribute[int], value: int) -> None:
    _check_int(a.name, value, 0, MAX_SEED)


def _fps(_: Any, a: attrs.Attribute[int], value: int) -> None:
    _check_int(a.name, value, *FPS_RANGE)


def _transition(_: Any, a: attrs.Attribute[str], value: str) -> None:
    _check_str(a.name, value)
    if value not in TRANSITION_TYPES:
        raise InvalidRequest(a.name, f"must be one of {', '.join(TRANSITION_TYPES)}", value)


def _optional_text(_: Any, a: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        _check_str(a.name, value)


def _optional_choice(choices: tuple[str, ...]) -> Any:
    def check(_: Any, a: attrs.Attribute[str | None], value: str | None) -> None:
        if value is None:
            return
        _check_str(a.name, value)
        if value not in choices:
            raise InvalidRequest(a.name, f"must be one of {', '.join(choices)}", value)
    return check


def frame_size(aspect_ratio: str = "16:9", resolution: str = "576p") -> tuple[int, int]:
    """``(width, height)`` of a named format: the short side is the resolution's
    number, the long side follows the aspect ratio, both rounded to even numbers
    (square pixels). ``16:9`` + ``576p`` is 1024x576; ``9:16`` + ``1080p`` 1080x1920."""
    if aspect_ratio not in ASPECT_RATIOS:
        raise InvalidRequest("aspect_ratio", f"must be one of {', '.join(ASPECT_RATIOS)}",
                             aspect_ratio)
    if resolution not in RESOLUTIONS:
        raise InvalidRequest("resolution", f"must be one of {', '.join(RESOLUTIONS)}",
                             resolution)
    short = RESOLUTIONS[resolution]
    a, b = (int(x) for x in aspect_ratio.split(":"))
    long = 2 * round(short * max(a, b) / min(a, b) / 2)
    return (long, short) if a >= b else (short, long)


def _optional_transition_duration(
    _: Any, a: attrs.Attribute[float | None], v: float | None
) -> None:
    if v is not None and _check_number(a.name, v) < 0:
        raise InvalidRequest(a.name, "must be 0 or more", v)


def _caption_style(_: Any, a: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    _check_str(a.name, value)
    if value not in CAPTION_STYLES:
        raise InvalidRequest(a.name, f"must be one of {', '.join(CAPTION_STYLES)}", value)


def _optional_scene_number(_: Any, a: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        _check_int(a.name, value, 0, 1_000_000)


@attrs.frozen
class GenerationParams:
    """Job-wide choices: transition, seed, frame rate, and optional extras."""

    transition_type: str = attrs.field(default="crossfade", validator=_transition)
    seed: int = attrs.field(default=0, validator=_seed)
    fps: int = attrs.field(default=24, validator=_fps)
    voice: str | None = attrs.field(default=None, validator=_optional_text)
    callback_url: str | None = attrs.field(default=None, validator=_optional_text)
    transition_duration: float | None = attrs.field(
        default=None, validator=_optional_transition_duration
    )
    #: one of CAPTION_STYLES; None = "subtitle"
    caption_style: str | None = attrs.field(default=None, validator=_caption_style)
    #: the scene the poster frame comes from (its ``scene_number``); None = the first
    poster_scene: int | None = attrs.field(default=None, validator=_optional_scene_number)
    #: output format; when both are None the configured size is used
    aspect_ratio: str | None = attrs.field(
        default=None, validator=_optional_choice(ASPECT_RATIOS))
    resolution: str | None = attrs.field(
        default=None, validator=_optional_choice(tuple(RESOLUTIONS)))

    def frame_size(self) -> tuple[int, int] | None:
        """The job's ``(width, height)``, or None when it names no format (a field
        left out takes its default: ``16:9``, ``576p``)."""
        if self.aspect_ratio is None and self.resolution is None:
            return None
        return frame_size(self.aspect_ratio or "16:9", self.resolution or "576p")


def _scenes(_: Any, a: attrs.Attribute[tuple[Scene, ...]], value: tuple[Scene, ...]) -> None:
    if not value:
        raise InvalidRequest("sequence_data", "must hold at least one scene")
    seen: dict[int, int] = {}
    for index, scene in enumerate(value):
        if scene.scene_number in seen:
            raise InvalidRequest(
                f"sequence_data[{index}].scene_number",
                f"duplicates sequence_data[{seen[scene.scene_number]}].scene_number",
                scene.scene_number,
            )
        seen[scene.scene_number] = index


@attrs.frozen
class Sequence:
    """The scene script: scenes in playing order plus the generation parameters."""

    scenes: tuple[Scene, ...] = attrs.field(converter=tuple, validator=_scenes)
    params: GenerationParams = attrs.field(factory=GenerationParams)

    @property
    def total_scene_time(self) -> float:
        """Sum of scene durations (before transition overlaps)."""
        return sum(s.duration for s in self.scenes)


@attrs.frozen
class VideoSettings:
    """Output encoding. Defaults: 1024x576, 24 fps, H.264 yuv420p, CRF 5."""

    width: int = 1024
    height: int = 576
    fps: int = 24
    codec: str = "h264"
    pix_fmt: str = "yuv420p"
    crf: int = 5
    preset: str = "medium"
    #: x264 threads per encoder; 0 = automatic (a lone encoder: cores + 2)
    threads: int = 0

    def __attrs_post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            _check_int(name, value, 16, 8192)
            if value % 2:
                raise InvalidRequest(name, "must be even for yuv420p", value)
        _check_int("fps", self.fps, *FPS_RANGE)
        _check_int("crf", self.crf, 0, 51)
        _check_int("threads", self.threads, 0, 256)

    def frames(self, duration: float) -> int:
        """Frame count of a clip of ``duration`` seconds: ``round(duration·fps)``, at least 1."""
        return max(1, round(duration * self.fps))


@attrs.frozen
class AudioSettings:
    """Mix targets: integrated loudness, true peak, ducking depth, sample rate."""

    loudness_lufs: float = -14.0
    true_peak_db: float = -1.0
    duck_db: float = 12.0
    music_gain_db: float = -6.0
    sample_rate: int = 48000
    music_crossfade: float = 2.0
    fade_in: float = 1.0
    fade_out: float = 1.5


def _limits(_: Any, a: attrs.Attribute[Mapping[str, int]], value: Mapping[str, int]) -> None:
    if not value:
        raise InvalidRequest(a.name, "must hold at least one limit")
    for key, limit in value.items():
        try:
            float(key)
        except (TypeError, ValueError):
            raise InvalidRequest(a.name, "keys must be durations in seconds", key) from None
        _check_int(f"{a.name}[{key!r}]", limit, 0, 100)


@attrs.frozen
class AnimationSettings:
    """Rules for clips: movement limits by duration, transitions, caps."""

    max_duration: float = 6.0
    transition_types: tuple[str, ...] = TRANSITION_TYPES
    movement_limits: Mapping[str, int] = attrs.field(
        factory=lambda: {"3": 1, "5": 2, "7": 3}, validator=_limits
    )
    transition_duration: float = 0.5
    max_scene_duration: float = 300.0
    max_scenes: int = 500
    narration_lead_in: float = 0.25
    narration_gap: float = 0.2
    max_speedup: float = 1.25
    #: longest narration of one scene, in characters (``VIDEOGEN_MAX_NARRATION_CHARS``)
    max_narration_chars: int = MAX_NARRATION_CHARS

    def movement_limit(self, duration: float) -> int:
        """Movements allowed for ``duration``: the value of the smallest key ≥ it,
        or of the largest key when the duration is above every key."""
        keys = sorted((float(k), v) for k, v in self.movement_limits.items())
        for key, limit in keys:
            if duration <= key:
                return limit
        return keys[-1][1]


def validate_sequence(sequence: Sequence, settings: AnimationSettings) -> None:
    """Check the configuration-dependent rules; raise InvalidRequest naming the field."""
    if len(sequence.scenes) > settings.max_scenes:
        raise InvalidRequest(
            "sequence_data", f"must hold at most {settings.max_scenes} scenes", len(sequence.scenes)
        )
    for index, scene in enumerate(sequence.scenes):
        if scene.duration > settings.max_scene_duration:
            raise InvalidRequest(
                f"sequence_data[{index}].duration",
                f"must be at most {settings.max_scene_duration:g} seconds",
                scene.duration,
            )
        if len(scene.narration) > settings.max_narration_chars:
            raise InvalidRequest(
                f"sequence_data[{index}].narration",
                f"must be at most {settings.max_narration_chars} characters "
                "(VIDEOGEN_MAX_NARRATION_CHARS)",
                len(scene.narration),
            )
    params = sequence.params
    if params.poster_scene is not None and all(
            s.scene_number != params.poster_scene for s in sequence.scenes):
        raise InvalidRequest("generation_params.poster_scene",
                             "must be the scene_number of a scene in sequence_data",
                             params.poster_scene)
    if params.transition_type not in settings.transition_types:
        raise InvalidRequest(
            "generation_params.transition_type",
            f"must be one of {', '.join(settings.transition_types)}",
            params.transition_type,
        )
    overlap = transition_length(sequence, settings)
    scenes = sequence.scenes
    if params.transition_type == "crossfade" and len(scenes) > 1:
        for index, scene in enumerate(scenes):
            neighbours = (index > 0) + (index < len(scenes) - 1)
            if neighbours * overlap >= scene.duration:
                raise InvalidRequest(
                    f"sequence_data[{index}].duration",
                    f"too short for {neighbours} crossfade(s) of {overlap:g} s",
                    scene.duration,
                )


def transition_length(sequence: Sequence, settings: AnimationSettings) -> float:
    """The transition length in seconds for this sequence (0 for ``none``)."""
    if sequence.params.transition_type == "none":
        return 0.0
    if sequence.params.transition_duration is not None:
        return sequence.params.transition_duration
    return settings.transition_duration


def derive_seed(seed: int, *parts: object) -> int:
    """A seed for a sub-task (a scene, a segment, a music bed) derived
    deterministically from the job seed: ``sha256(seed, parts) mod 2**32``."""
    import hashlib

    text = ":".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
