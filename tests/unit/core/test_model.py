"""Models: construction rules, messages naming field and value, defaults, validate_sequence."""

from __future__ import annotations

import math

import attrs
import pytest

from videogen_core import (
    AnimationSettings,
    GenerationParams,
    InvalidRequest,
    Scene,
    Sequence,
    VideogenError,
    VideoSettings,
    transition_length,
    validate_sequence,
)
from videogen_core.model import MAX_SEED, derive_seed
from videogen_core.motion import movement_limit


def scenes(*durations: float) -> tuple[Scene, ...]:
    return tuple(Scene(i + 1, f"line {i + 1}", d) for i, d in enumerate(durations))


# ------------------------------------------------------------------ Scene
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "greater than 0"),
        (0.0, "greater than 0"),
        (-1.5, "greater than 0"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-math.inf, "finite"),
        (10**400, "finite"),  # an int too large for a float
        ("5", "number"),
        (True, "number"),
        (None, "number"),
        ([5], "number"),
    ],
)
def test_scene_duration_rejected_with_field_and_value(value: object, reason: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        Scene(1, duration=value)  # type: ignore[arg-type]
    err = info.value
    assert err.field == "duration"
    assert reason in err.reason
    assert "duration" in str(err)
    if value is not None:
        assert repr(value)[:20] in str(err)


@pytest.mark.parametrize("value", [0.001, 1, 5.0, 300.0, 1e9])
def test_scene_duration_accepts_positive_finite(value: float) -> None:
    assert Scene(1, duration=value).duration == value


@pytest.mark.parametrize("value", ["", "Hello.", "Ünïcode — ok"])
def test_narration_may_be_any_string_including_empty(value: str) -> None:
    assert Scene(1, narration=value).narration == value


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a"]])
def test_narration_must_be_a_string(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        Scene(1, narration=value)  # type: ignore[arg-type]
    assert info.value.field == "narration"
    assert "string" in info.value.reason


def test_text_fields_refuse_nul() -> None:
    for field in ("narration", "clip_action", "music_mood"):
        with pytest.raises(InvalidRequest) as info:
            Scene(1, **{field: "a\x00b"})
        assert info.value.field == field


@pytest.mark.parametrize("value", [-1, 1_000_001, 1.0, "1", True, None])
def test_scene_number_is_a_bounded_integer(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        Scene(value)  # type: ignore[arg-type]
    assert info.value.field == "scene_number"


def test_scene_defaults_and_frozen() -> None:
    scene = Scene(3)
    assert (scene.narration, scene.duration, scene.clip_action, scene.music_mood) == (
        "", 5.0, "", "")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        scene.duration = 2.0  # type: ignore[misc]
    assert attrs.evolve(scene, duration=2.0).duration == 2.0
    assert scene.duration == 5.0


def test_evolve_validates_again() -> None:
    with pytest.raises(InvalidRequest):
        attrs.evolve(Scene(1), duration=-1)


# ------------------------------------------------------- GenerationParams
def test_generation_params_defaults() -> None:
    params = GenerationParams()
    assert (params.transition_type, params.seed, params.fps) == ("crossfade", 0, 24)
    assert params.voice is None and params.transition_duration is None


@pytest.mark.parametrize("seed", [0, 1, 42, MAX_SEED])
def test_seed_in_range(seed: int) -> None:
    assert GenerationParams(seed=seed).seed == seed
    assert MAX_SEED == 2**32 - 1


@pytest.mark.parametrize(
    ("seed", "reason"),
    [(-1, "between"), (2**32, "between"), (1.5, "integer"), (1.0, "integer"),
     ("42", "integer"), (True, "integer"), (None, "integer")],
)
def test_seed_rejected(seed: object, reason: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(seed=seed)  # type: ignore[arg-type]
    assert info.value.field == "seed"
    assert reason in info.value.reason
    if seed is not None:
        assert repr(seed) in str(info.value)


@pytest.mark.parametrize("fps", [1, 24, 25, 30, 60, 120])
def test_fps_in_range(fps: int) -> None:
    assert GenerationParams(fps=fps).fps == fps


@pytest.mark.parametrize("fps", [0, -24, 121, 1000, 24.0, "24", False])
def test_fps_rejected(fps: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(fps=fps)  # type: ignore[arg-type]
    assert info.value.field == "fps"
    assert repr(fps) in str(info.value)


@pytest.mark.parametrize("transition", ["none", "fade", "crossfade"])
def test_known_transitions(transition: str) -> None:
    assert GenerationParams(transition_type=transition).transition_type == transition


@pytest.mark.parametrize("transition", ["wipe", "Crossfade", "", " fade", 3, None])
def test_unknown_transition_rejected(transition: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(transition_type=transition)  # type: ignore[arg-type]
    assert info.value.field == "transition_type"
    if isinstance(transition, str):
        assert "none, fade, crossfade" in info.value.reason
        assert repr(transition) in str(info.value)


@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf, "1"])
def test_transition_duration_rejected(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(transition_duration=value)  # type: ignore[arg-type]
    assert info.value.field == "transition_duration"


def test_optional_text_params() -> None:
    assert GenerationParams(voice="amy").voice == "amy"
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(voice=5)  # type: ignore[arg-type]
    assert info.value.field == "voice"
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(callback_url=["x"])  # type: ignore[arg-type]
    assert info.value.field == "callback_url"


# ---------------------------------------------------------------- Sequence
def test_sequence_needs_a_scene() -> None:
    with pytest.raises(InvalidRequest) as info:
        Sequence(())
    assert info.value.field == "sequence_data"
    assert "at least one scene" in info.value.reason


def test_sequence_refuses_duplicate_scene_numbers_naming_both() -> None:
    with pytest.raises(InvalidRequest) as info:
        Sequence((Scene(1), Scene(2), Scene(1)))
    err = info.value
    assert err.field == "sequence_data[2].scene_number"
    assert "sequence_data[0]" in err.reason
    assert err.value == 1


def test_sequence_converts_lists_to_tuples_and_keeps_order() -> None:
    seq = Sequence([Scene(3), Scene(1), Scene(2)])
    assert isinstance(seq.scenes, tuple)
    assert [s.scene_number for s in seq.scenes] == [3, 1, 2]
    assert seq.params == GenerationParams()
    assert seq.total_scene_time == 15.0


def test_errors_are_videogen_errors() -> None:
    with pytest.raises(VideogenError):
        Scene(1, duration=-1)


# ---------------------------------------------------------- VideoSettings
def test_video_settings_defaults() -> None:
    v = VideoSettings()
    assert (v.width, v.height, v.fps, v.codec, v.pix_fmt, v.crf) == (
        1024, 576, 24, "h264", "yuv420p", 5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"width": 1023}, "width"), ({"height": 577}, "height"), ({"width": 8}, "width"),
     ({"height": 10_000}, "height"), ({"fps": 0}, "fps"), ({"fps": 121}, "fps"),
     ({"crf": -1}, "crf"), ({"crf": 52}, "crf"), ({"width": 1024.0}, "width")],
)
def test_video_settings_rejected(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        VideoSettings(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("duration", "fps", "frames"),
    [(5.0, 24, 120), (1 / 3, 24, 8), (0.01, 24, 1), (2.5, 30, 75), (0.02, 25, 1)],
)
def test_video_settings_frames(duration: float, fps: int, frames: int) -> None:
    assert VideoSettings(fps=fps).frames(duration) == frames


# ------------------------------------------------------ AnimationSettings
def test_animation_settings_defaults() -> None:
    a = AnimationSettings()
    assert a.max_duration == 6.0
    assert a.transition_types == ("none", "fade", "crossfade")
    assert dict(a.movement_limits) == {"3": 1, "5": 2, "7": 3}


@pytest.mark.parametrize(
    ("duration", "limit"),
    [(0.1, 1), (3, 1), (3.0, 1), (3.01, 2), (5, 2), (5.0001, 3), (7, 3), (7.01, 3), (100, 3)],
)
def test_animation_movement_limit(duration: float, limit: int) -> None:
    assert AnimationSettings().movement_limit(duration) == limit


def test_animation_movement_limit_custom_and_unordered_keys() -> None:
    a = AnimationSettings(movement_limits={"10": 4, "2.5": 0})
    assert [a.movement_limit(d) for d in (1, 2.5, 2.6, 10, 11)] == [0, 0, 4, 4, 4]
    # above the largest key: that key's value, not the largest value
    b = AnimationSettings(movement_limits={"3": 2, "5": 4, "7": 1})
    assert [b.movement_limit(d) for d in (3, 4, 6, 7, 8, 100)] == [2, 4, 1, 1, 1, 1]


def test_animation_movement_limit_agrees_with_the_grammar_module() -> None:
    limits = {"3": 2, "5": 4, "7": 1, "12.5": 0}
    a = AnimationSettings(movement_limits=limits)
    for d in (0.5, 3, 3.01, 5, 6.99, 7, 12.5, 12.51, 1e6):
        assert a.movement_limit(d) == movement_limit(d, limits)


@pytest.mark.parametrize(
    ("limits", "field"),
    [({}, "movement_limits"), ({"x": 1}, "movement_limits"),
     ({"3": -1}, "movement_limits['3']"), ({"3": 1.5}, "movement_limits['3']")],
)
def test_animation_limits_rejected(limits: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        AnimationSettings(movement_limits=limits)  # type: ignore[arg-type]
    assert info.value.field == field


# ------------------------------------------------------- validate_sequence
def test_validate_sequence_duration_cap_names_scene_index() -> None:
    settings = AnimationSettings(max_scene_duration=10.0)
    ok = Sequence(scenes(10.0, 2.0))
    validate_sequence(ok, settings)
    bad = Sequence(scenes(2.0, 3.0, 10.5))
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(bad, settings)
    assert info.value.field == "sequence_data[2].duration"
    assert info.value.value == 10.5
    assert "10" in info.value.reason


def test_validate_sequence_default_cap_is_300() -> None:
    validate_sequence(Sequence(scenes(300.0)), AnimationSettings())
    with pytest.raises(InvalidRequest):
        validate_sequence(Sequence(scenes(300.5)), AnimationSettings())


def test_validate_sequence_max_scenes() -> None:
    settings = AnimationSettings(max_scenes=3)
    validate_sequence(Sequence(scenes(5, 5, 5)), settings)
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(Sequence(scenes(5, 5, 5, 5)), settings)
    assert info.value.field == "sequence_data"
    assert info.value.value == 4


def test_validate_sequence_transition_not_allowed_by_settings() -> None:
    settings = AnimationSettings(transition_types=("none",))
    seq = Sequence(scenes(5), GenerationParams(transition_type="fade"))
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(seq, settings)
    assert info.value.field == "generation_params.transition_type"
    assert info.value.value == "fade"


def test_validate_sequence_crossfade_too_short() -> None:
    settings = AnimationSettings(transition_duration=0.5)
    # middle scene has two neighbours: needs more than 2 × 0.5 s
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(Sequence(scenes(5, 1.0, 5)), settings)
    assert info.value.field == "sequence_data[1].duration"
    validate_sequence(Sequence(scenes(5, 1.01, 5)), settings)
    # an end scene has one neighbour
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(Sequence(scenes(0.5, 5)), settings)
    assert info.value.field == "sequence_data[0].duration"
    validate_sequence(Sequence(scenes(0.51, 5)), settings)
    # a single scene has no crossfade at all
    validate_sequence(Sequence(scenes(0.1)), settings)
    # the same durations are fine without crossfade
    for transition in ("none", "fade"):
        validate_sequence(Sequence(scenes(5, 0.2, 5), GenerationParams(transition)), settings)


def test_transition_length() -> None:
    settings = AnimationSettings(transition_duration=0.75)
    assert transition_length(Sequence(scenes(5), GenerationParams("none")), settings) == 0.0
    assert transition_length(Sequence(scenes(5), GenerationParams("fade")), settings) == 0.75
    assert transition_length(Sequence(scenes(5), GenerationParams("crossfade")), settings) == 0.75
    own = GenerationParams("crossfade", transition_duration=1.25)
    assert transition_length(Sequence(scenes(5), own), settings) == 1.25
    none_own = GenerationParams("none", transition_duration=1.25)
    assert transition_length(Sequence(scenes(5), none_own), settings) == 0.0


def test_derive_seed_is_deterministic_and_in_range() -> None:
    a = derive_seed(42, "scene", 1)
    assert a == derive_seed(42, "scene", 1)
    assert a != derive_seed(42, "scene", 2)
    assert a != derive_seed(43, "scene", 1)
    assert all(0 <= derive_seed(s, "x") <= MAX_SEED for s in range(50))


# ------------------------------------------------------------ formats, focus
def test_frame_size_of_every_format_is_even_with_the_short_side_named() -> None:
    from videogen_core import ASPECT_RATIOS, RESOLUTIONS, frame_size

    assert frame_size() == (1024, 576)  # the seed's size
    assert frame_size("9:16", "1080p") == (1080, 1920)
    for aspect in ASPECT_RATIOS:
        a, b = (int(x) for x in aspect.split(":"))
        for name, short in RESOLUTIONS.items():
            w, h = frame_size(aspect, name)
            assert w % 2 == 0 and h % 2 == 0 and min(w, h) == short
            assert abs(w / h - a / b) < 0.01
            VideoSettings(width=w, height=h)  # a valid encoding size


def test_generation_params_size_only_when_a_format_is_named() -> None:
    assert GenerationParams().frame_size() is None  # the configured size applies
    assert GenerationParams(aspect_ratio="1:1").frame_size() == (576, 576)
    assert GenerationParams(resolution="720p").frame_size() == (1280, 720)
    assert GenerationParams(aspect_ratio="4:5", resolution="1080p").frame_size() == (1080, 1350)


@pytest.mark.parametrize(("field", "value"), [("aspect_ratio", "3:2"), ("aspect_ratio", 16),
                                              ("resolution", "4k"), ("resolution", "")])
def test_unknown_formats_name_the_field_and_the_choices(field: str, value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        GenerationParams(**{field: value})
    assert info.value.field == field
    if isinstance(value, str):
        assert ("16:9, 9:16, 1:1, 4:5" if field == "aspect_ratio" else "576p, 720p, 1080p") \
            in str(info.value)


@pytest.mark.parametrize("focus", ["auto", "center", (0.0, 1.0), [0.25, 0.75], (1, 0)])
def test_scene_focus_accepts_words_and_points(focus: object) -> None:
    scene = Scene(1, focus=focus)  # type: ignore[arg-type]
    assert scene.focus == (tuple(focus) if isinstance(focus, list) else focus)
    hash(scene)  # frozen and hashable, a JSON list included


@pytest.mark.parametrize("focus", ["centre", "", (0.5,), (0.5, 1.5), (-0.1, 0.5),
                                   ("a", 0.5), (True, 0.5), (float("nan"), 0.5), 3])
def test_scene_focus_refuses_anything_else(focus: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        Scene(1, focus=focus)  # type: ignore[arg-type]
    assert info.value.field == "focus"
