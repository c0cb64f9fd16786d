"""The one cattrs converter at the edge: the seed's JSON ⇄ the core's models.

The core never serialises. The HTTP API, the CLI and the orchestrator use
:func:`structure_request` to turn a request body into a validated
:class:`~videogen_core.Sequence` — any problem becomes an
:class:`~videogen_core.InvalidRequest` whose ``field`` is the JSON path
(``sequence_data[2].duration``) — and :func:`result_to_response` to turn a
:class:`~videogen_core.pipeline.VideoResult` into the seed's response shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from videogen_core import GenerationParams, InvalidRequest, Scene, Sequence
from videogen_core.pipeline import VideoResult

__all__ = [
    "MAX_TRANSITION_DURATION",
    "make_converter",
    "result_to_response",
    "sequence_to_request",
    "structure_request",
]

#: Longest ``generation_params.transition_duration`` a request may ask for (seconds),
#: the same bound as ``VIDEOGEN_TRANSITION_DURATION``.
MAX_TRANSITION_DURATION = 10.0

_SCENE_FIELDS = {a.name for a in attrs.fields(Scene)}
_PARAM_FIELDS = {a.name for a in attrs.fields(GenerationParams)}


class _FieldTypeError(ValueError):
    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.message = message
        self.value = value


def _strict_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _FieldTypeError("must be an integer", value)
    return value


def _strict_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FieldTypeError("must be a number", value)
    if not math.isfinite(value):
        raise _FieldTypeError("must be a finite number", value)
    return float(value)


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise _FieldTypeError("must be a string", value)
    return value


def _structure_focus(value: Any, _: type) -> str | tuple[float, float]:
    """``Scene.focus``: a word (checked by the model) or ``[x, y]`` numbers."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and len(value) == 2:
        return (_strict_float(value[0], float), _strict_float(value[1], float))
    raise _FieldTypeError('must be "auto", "center" or [x, y] with x and y between 0 and 1',
                          value)


def make_converter() -> cattrs.Converter:
    """A converter with strict scalar types (no ``"5"`` → 5, no ``true`` → 1),
    unknown keys refused, and detailed validation for JSON paths."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)

    def structure_str_or_none(value: Any, _: type) -> str | None:
        return None if value is None else _strict_str(value, str)

    def structure_float_or_none(value: Any, _: type) -> float | None:
        return None if value is None else _strict_float(value, float)

    conv.register_structure_hook(str | None, structure_str_or_none)
    conv.register_structure_hook(float | None, structure_float_or_none)
    conv.register_structure_hook(str | tuple[float, float], _structure_focus)
    return conv


_CONVERTER = make_converter()


def _translate(exc: BaseException, path: str) -> InvalidRequest:
    """The first leaf problem of a cattrs exception tree, as InvalidRequest at its path."""
    if isinstance(exc, InvalidRequest):
        return exc.at(path) if path else exc
    if isinstance(exc, ForbiddenExtraKeysError):
        extra = sorted(exc.extra_fields)
        field = f"{path}.{extra[0]}" if path else extra[0]
        return InvalidRequest(field, "is not a known field", None, unknown=extra)
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for inner, note in with_notes:
            if isinstance(note, IterableValidationNote):
                sub = f"{path}[{note.index}]"
            else:
                name = getattr(note, "name", "")
                sub = f"{path}.{name}" if path and name else name or path
            return _translate(inner, sub)
        for inner in without_notes:
            return _translate(inner, path)
    if isinstance(exc, _FieldTypeError):
        return InvalidRequest(path, exc.message, exc.value)
    if isinstance(exc, KeyError):
        name = exc.args[0] if exc.args else "?"
        field = f"{path}.{name}" if path else str(name)
        return InvalidRequest(field, "is required")
    if isinstance(exc, TypeError | ValueError):
        return InvalidRequest(path, str(exc) or "has a bad value")
    return InvalidRequest(path, f"{type(exc).__name__}: {exc}")


def _structure(cls: type[Any], data: Any, path: str) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidRequest(path, "must be a JSON object", type(data).__name__)
    try:
        return _CONVERTER.structure(dict(data), cls)
    except Exception as exc:  # noqa: BLE001 - every failure becomes InvalidRequest
        raise _translate(exc, path) from None


def structure_request(data: Any) -> Sequence:
    """Turn the seed's request body into a validated Sequence.

    ``{"sequence_data": [{scene_number, narration, duration, clip_action,
    music_mood, focus?, renderer?}], "generation_params": {transition_type, seed, fps, voice?,
    callback_url?, transition_duration?, caption_style?, poster_scene?, aspect_ratio?,
    resolution?}}``. Raises
    InvalidRequest naming the JSON path; never any other exception.
    """
    if not isinstance(data, Mapping):
        raise InvalidRequest("", "the request body must be a JSON object",
                             type(data).__name__)
    unknown = sorted(set(data) - {"sequence_data", "generation_params"})
    if unknown:
        raise InvalidRequest(unknown[0], "is not a known field", None, unknown=unknown)
    if "sequence_data" not in data:
        raise InvalidRequest("sequence_data", "is required")
    raw_scenes = data["sequence_data"]
    if not isinstance(raw_scenes, list):
        raise InvalidRequest("sequence_data", "must be a list of scenes",
                             type(raw_scenes).__name__)
    scenes = []
    for index, raw in enumerate(raw_scenes):
        where = f"sequence_data[{index}]"
        if isinstance(raw, Mapping) and "scene_number" not in raw:
            raise InvalidRequest(f"{where}.scene_number", "is required")
        if isinstance(raw, Mapping) and "duration" not in raw:
            raise InvalidRequest(f"{where}.duration", "is required")
        scenes.append(_structure(Scene, raw, where))
    raw_params = data.get("generation_params", {})
    if raw_params is None:
        raw_params = {}
    params = _structure(GenerationParams, raw_params, "generation_params")
    try:
        sequence = Sequence(tuple(scenes), params)
    except InvalidRequest:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, "sequence_data") from None
    _check_lengths(sequence)
    return sequence


def _check_lengths(sequence: Sequence) -> None:
    """Durations that make no video: a scene shorter than one frame, a transition
    longer than :data:`MAX_TRANSITION_DURATION` or than a fade through black can
    take from the scenes either side of it (half of it on each)."""
    fps = sequence.params.fps
    for index, scene in enumerate(sequence.scenes):
        if scene.duration * fps < 1:
            raise InvalidRequest(f"sequence_data[{index}].duration",
                                 f"must be at least one frame (1/{fps} s)", scene.duration)
    length = sequence.params.transition_duration
    if length is None:
        return
    field = "generation_params.transition_duration"
    if length > MAX_TRANSITION_DURATION:
        raise InvalidRequest(field, f"must be at most {MAX_TRANSITION_DURATION:g} seconds",
                             length)
    scenes = sequence.scenes
    if sequence.params.transition_type == "fade" and len(scenes) > 1:
        for index, scene in enumerate(scenes):
            neighbours = (index > 0) + (index < len(scenes) - 1)
            if neighbours * length / 2 >= scene.duration:
                raise InvalidRequest(
                    field, f"a fade of {length:g} s does not fit scene {scene.scene_number} "
                           f"(sequence_data[{index}], {scene.duration:g} s)", length)


def sequence_to_request(sequence: Sequence) -> dict[str, Any]:
    """The request body of a Sequence (inverse of :func:`structure_request`);
    optional parameters left at None (and a default ``focus``/``renderer``) are omitted."""
    params = {k: v for k, v in _CONVERTER.unstructure(sequence.params).items()
              if v is not None or k in {"transition_type", "seed", "fps"}}
    return {
        "sequence_data": [_scene_body(s) for s in sequence.scenes],
        "generation_params": params,
    }


def _scene_body(scene: Scene) -> dict[str, Any]:
    """A scene's JSON; ``focus`` only when it is not the default (the seed's shape)."""
    body: dict[str, Any] = _CONVERTER.unstructure(scene)
    if scene.focus == "auto":
        del body["focus"]
    else:
        body["focus"] = list(scene.focus) if isinstance(scene.focus, tuple) else scene.focus
    if scene.renderer == "auto":
        del body["renderer"]
    return body


def result_to_response(result: VideoResult) -> dict[str, Any]:
    """The seed's response body ``{"success", "video_url", "metadata": {"duration",
    "scenes", "timestamp", ...}}`` with our extras inside ``metadata``."""
    return {
        "success": True,
        "video_url": result.video_url,
        "metadata": {
            "duration": result.duration,
            "scenes": result.scenes,
            "timestamp": result.timestamp,
            "warnings": list(result.warnings),
            "subtitles": dict(result.subtitles),
            "size_bytes": result.size_bytes,
            "loudness_lufs": result.loudness_lufs,
            "scene_details": [_CONVERTER.unstructure(r) for r in result.scene_reports],
            "poster_url": result.poster_url,
            "render_mode": result.render_mode,
        },
    }
