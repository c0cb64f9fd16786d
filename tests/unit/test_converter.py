"""The edge converter: seed JSON ⇄ Sequence, errors at JSON paths, the response shape."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videogen_adapters.converter import (
    make_converter,
    result_to_response,
    sequence_to_request,
    structure_request,
)
from videogen_core import GenerationParams, InvalidRequest, Scene, Sequence, VideogenError
from videogen_core.model import MAX_SEED, TRANSITION_TYPES
from videogen_core.pipeline import SceneReport, VideoResult


def seed_body() -> dict[str, Any]:
    """The request body exactly as the seed project sends it."""
    return {
        "sequence_data": [
            {"scene_number": 1, "narration": "A quiet morning in the hills.", "duration": 5,
             "clip_action": "slow zoom in", "music_mood": "calm"},
            {"scene_number": 2, "narration": "The village wakes up.", "duration": 4.5,
             "clip_action": "pan right", "music_mood": "calm"},
            {"scene_number": 3, "narration": "", "duration": 6.0,
             "clip_action": "zoom out and pan left", "music_mood": "epic"},
        ],
        "generation_params": {"transition_type": "crossfade", "seed": 42, "fps": 24},
    }


def error_of(body: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        structure_request(body)
    return info.value


# ------------------------------------------------------------------- happy
def test_seed_body_becomes_a_sequence() -> None:
    seq = structure_request(seed_body())
    assert isinstance(seq, Sequence)
    assert [s.scene_number for s in seq.scenes] == [1, 2, 3]
    assert seq.scenes[0] == Scene(1, "A quiet morning in the hills.", 5.0, "slow zoom in", "calm")
    assert isinstance(seq.scenes[0].duration, float)
    assert seq.scenes[2].narration == ""
    assert seq.params == GenerationParams("crossfade", 42, 24)


def test_scene_order_is_kept_not_sorted() -> None:
    body = seed_body()
    body["sequence_data"].reverse()
    assert [s.scene_number for s in structure_request(body).scenes] == [3, 2, 1]


def test_optional_fields_default() -> None:
    seq = structure_request({"sequence_data": [{"scene_number": 7, "duration": 2}]})
    assert seq.scenes[0] == Scene(7, "", 2.0, "", "")
    assert seq.params == GenerationParams()
    assert structure_request({"sequence_data": [{"scene_number": 7, "duration": 2}],
                              "generation_params": None}).params == GenerationParams()


def test_optional_params() -> None:
    body = seed_body()
    body["generation_params"].update(voice="amy", callback_url="http://x/cb",
                                     transition_duration=1)
    params = structure_request(body).params
    assert (params.voice, params.callback_url, params.transition_duration) == (
        "amy", "http://x/cb", 1.0)
    body["generation_params"].update(voice=None, transition_duration=None)
    params = structure_request(body).params
    assert params.voice is None and params.transition_duration is None


def test_integral_float_accepted_for_integers() -> None:
    body = seed_body()
    body["generation_params"]["fps"] = 30.0
    body["sequence_data"][0]["scene_number"] = 1.0
    seq = structure_request(body)
    assert seq.params.fps == 30 and isinstance(seq.params.fps, int)
    assert seq.scenes[0].scene_number == 1


def test_body_may_be_any_mapping() -> None:
    from types import MappingProxyType

    assert structure_request(MappingProxyType(seed_body())) == structure_request(seed_body())


# ------------------------------------------------------------------ errors
def mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = seed_body()
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field", "reason"),
    [
        (("sequence_data", 2, "duration"), "5", "sequence_data[2].duration", "number"),
        (("sequence_data", 2, "duration"), True, "sequence_data[2].duration", "number"),
        (("sequence_data", 2, "duration"), None, "sequence_data[2].duration", "number"),
        (("sequence_data", 2, "duration"), -1, "sequence_data[2].duration", "greater than 0"),
        (("sequence_data", 2, "duration"), 0, "sequence_data[2].duration", "greater than 0"),
        (("sequence_data", 2, "duration"), math.nan, "sequence_data[2].duration", "finite"),
        (("sequence_data", 2, "duration"), math.inf, "sequence_data[2].duration", "finite"),
        (("sequence_data", 2, "duration"), [5], "sequence_data[2].duration", "number"),
        (("sequence_data", 1, "scene_number"), "2", "sequence_data[1].scene_number", "integer"),
        (("sequence_data", 1, "scene_number"), 2.5, "sequence_data[1].scene_number", "integer"),
        (("sequence_data", 1, "scene_number"), True, "sequence_data[1].scene_number", "integer"),
        (("sequence_data", 1, "scene_number"), -2, "sequence_data[1].scene_number", "between"),
        (("sequence_data", 1, "scene_number"), 1, "sequence_data[1].scene_number", "duplicates"),
        (("sequence_data", 0, "narration"), 3, "sequence_data[0].narration", "string"),
        (("sequence_data", 0, "narration"), None, "sequence_data[0].narration", "string"),
        (("sequence_data", 0, "narration"), ["a"], "sequence_data[0].narration", "string"),
        (("sequence_data", 0, "clip_action"), {}, "sequence_data[0].clip_action", "string"),
        (("sequence_data", 0, "music_mood"), 1, "sequence_data[0].music_mood", "string"),
        (("generation_params", "seed"), -1, "generation_params.seed", "between"),
        (("generation_params", "seed"), 2**32, "generation_params.seed", "between"),
        (("generation_params", "seed"), "42", "generation_params.seed", "integer"),
        (("generation_params", "seed"), 1.5, "generation_params.seed", "integer"),
        (("generation_params", "seed"), True, "generation_params.seed", "integer"),
        (("generation_params", "fps"), 0, "generation_params.fps", "between"),
        (("generation_params", "fps"), 500, "generation_params.fps", "between"),
        (("generation_params", "fps"), "24", "generation_params.fps", "integer"),
        (("generation_params", "transition_type"), "wipe", "generation_params.transition_type",
         "one of"),
        (("generation_params", "transition_type"), 1, "generation_params.transition_type",
         "string"),
        (("generation_params", "transition_duration"), -0.5,
         "generation_params.transition_duration", "0 or more"),
        (("generation_params", "transition_duration"), "1",
         "generation_params.transition_duration", "number"),
        (("generation_params", "voice"), 5, "generation_params.voice", "string"),
    ],
)
def test_errors_point_at_the_json_path(path: tuple[Any, ...], value: Any, field: str,
                                       reason: str) -> None:
    err = error_of(mutate(path, value))
    assert err.field == field
    assert reason in err.reason
    assert err.message.startswith(field + ":")
    if value is not None and not isinstance(value, list | dict):
        assert repr(value) in err.message or repr(float(value)) in err.message
    assert err.to_dict()["details"]["field"] == field
    json.dumps(err.to_dict())


def test_huge_int_duration_is_invalid_request() -> None:
    err = error_of(mutate(("sequence_data", 0, "duration"), 10**400))
    assert err.field == "sequence_data[0].duration"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("bogus",), "bogus"),
        (("generation_params", "speed"), "generation_params.speed"),
        (("sequence_data", 1, "camera"), "sequence_data[1].camera"),
    ],
)
def test_unknown_keys_are_refused(path: tuple[Any, ...], field: str) -> None:
    err = error_of(mutate(path, 1))
    assert err.field == field
    assert "not a known field" in err.reason
    assert err.details["unknown"] == [path[-1]]


def test_unknown_keys_all_listed() -> None:
    body = seed_body()
    body["sequence_data"][0].update(zeta=1, alpha=2)
    err = error_of(body)
    assert err.field == "sequence_data[0].alpha"
    assert err.details["unknown"] == ["alpha", "zeta"]


@pytest.mark.parametrize("missing", ["scene_number", "duration"])
def test_missing_required_scene_fields(missing: str) -> None:
    body = seed_body()
    del body["sequence_data"][2][missing]
    err = error_of(body)
    assert err.field == f"sequence_data[2].{missing}"
    assert "required" in err.reason


def test_missing_sequence_data() -> None:
    err = error_of({"generation_params": {}})
    assert err.field == "sequence_data"
    assert "required" in err.reason


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [([], "sequence_data", "at least one scene"), ({}, "sequence_data", "list"),
     ("scenes", "sequence_data", "list"), (None, "sequence_data", "list")],
)
def test_bad_sequence_data(value: Any, field: str, reason: str) -> None:
    err = error_of({"sequence_data": value})
    assert err.field == field
    assert reason in err.reason


@pytest.mark.parametrize("scene", [[1, 2], "scene", 3, None])
def test_scene_must_be_an_object(scene: Any) -> None:
    body = seed_body()
    body["sequence_data"][1] = scene
    err = error_of(body)
    assert err.field == "sequence_data[1]"
    assert "object" in err.reason


@pytest.mark.parametrize("params", [[], "x", 5, True])
def test_generation_params_must_be_an_object(params: Any) -> None:
    body = seed_body()
    body["generation_params"] = params
    assert error_of(body).field == "generation_params"


@pytest.mark.parametrize("body", [[], "text", None, 5, 1.5, True, [seed_body()]])
def test_non_object_body(body: Any) -> None:
    err = error_of(body)
    assert err.field == ""
    assert "JSON object" in err.reason


def test_the_first_bad_scene_is_reported() -> None:
    body = seed_body()
    body["sequence_data"][1]["duration"] = -1
    body["sequence_data"][2]["duration"] = "x"
    assert error_of(body).field == "sequence_data[1].duration"


def test_structure_does_not_mutate_the_body() -> None:
    body = seed_body()
    before = copy.deepcopy(body)
    structure_request(body)
    assert body == before


# -------------------------------------------------------------- round trip
def test_sequence_to_request_round_trip_of_seed_body() -> None:
    seq = structure_request(seed_body())
    body = sequence_to_request(seq)
    assert set(body) == {"sequence_data", "generation_params"}
    assert body["generation_params"] == {"transition_type": "crossfade", "seed": 42, "fps": 24}
    assert body["sequence_data"][1] == {
        "scene_number": 2, "narration": "The village wakes up.", "duration": 4.5,
        "clip_action": "pan right", "music_mood": "calm"}
    assert structure_request(json.loads(json.dumps(body))) == seq


def test_sequence_to_request_keeps_set_optionals() -> None:
    seq = Sequence([Scene(1)], GenerationParams("fade", 7, 30, voice="amy",
                                                transition_duration=0.0))
    body = sequence_to_request(seq)
    assert body["generation_params"] == {"transition_type": "fade", "seed": 7, "fps": 30,
                                         "voice": "amy", "transition_duration": 0.0}
    assert structure_request(body) == seq


def test_make_converter_is_strict() -> None:
    conv = make_converter()
    assert conv.structure({"scene_number": 1, "duration": 2}, Scene) == Scene(1, duration=2.0)
    with pytest.raises(Exception):  # noqa: B017 - cattrs groups the strict-type failure
        conv.structure({"scene_number": "1", "duration": 2}, Scene)


# ----------------------------------------------------------------- response
def test_result_to_response_shape() -> None:
    report = SceneReport(1, "f/scene_1.png", 5.2, 5.0, "zoom in", 4.9, 1.1, 0.2)
    result = VideoResult(
        video_url="memory://store1/f/videos/x.mp4", video_key="f/videos/x.mp4", duration=14.0,
        scenes=3, timestamp="2026-11-25T09:00:00Z", warnings=("scene 1: dropped",),
        subtitles={"srt": "u.srt", "vtt": "u.vtt"}, scene_reports=(report,), size_bytes=123,
        loudness_lufs=-14.0)
    response = result_to_response(result)
    assert response["success"] is True
    assert response["video_url"] == "memory://store1/f/videos/x.mp4"
    meta = response["metadata"]
    assert (meta["duration"], meta["scenes"], meta["timestamp"]) == (
        14.0, 3, "2026-11-25T09:00:00Z")
    assert meta["warnings"] == ["scene 1: dropped"]
    assert meta["subtitles"] == {"srt": "u.srt", "vtt": "u.vtt"}
    assert meta["size_bytes"] == 123 and meta["loudness_lufs"] == -14.0
    assert meta["scene_details"] == [{
        "scene_number": 1, "image": "f/scene_1.png", "duration": 5.2,
        "requested_duration": 5.0, "clip_action": "zoom in", "narration_duration": 4.9,
        "narration_speed": 1.1, "extended_by": 0.2, "requested_renderer": "auto",
        "renderer": ""}]
    assert meta["render_mode"] == "stream"
    assert json.loads(json.dumps(response)) == response
    assert set(response) == {"success", "video_url", "metadata"}


# --------------------------------------------------------------- properties
# valid request text: no NUL, no lone surrogates (both 400s)
texts = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40)
scene_lists = st.lists(
    st.builds(
        Scene,
        scene_number=st.integers(0, 1_000_000),
        narration=texts,
        # above 10 s: at least one frame at any fps, and any fade (≤ 10 s) fits
        duration=st.floats(min_value=10, max_value=1e6, exclude_min=True,
                           allow_nan=False, allow_infinity=False),
        clip_action=texts,
        music_mood=texts,
    ),
    min_size=1, max_size=8, unique_by=lambda s: s.scene_number,
)
params = st.builds(
    GenerationParams,
    transition_type=st.sampled_from(TRANSITION_TYPES),
    seed=st.integers(0, MAX_SEED),
    fps=st.integers(1, 120),
    voice=st.none() | texts,
    callback_url=st.none() | texts,
    transition_duration=st.none() | st.floats(min_value=0, max_value=10, allow_nan=False),
)
sequences = st.builds(Sequence, scene_lists, params)


@settings(max_examples=100, deadline=None)
@given(sequences)
def test_round_trip_any_valid_sequence(seq: Sequence) -> None:
    body = sequence_to_request(seq)
    assert structure_request(body) == seq
    assert structure_request(json.loads(json.dumps(body))) == seq


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def assert_only_invalid_request(body: Any) -> None:
    try:
        result = structure_request(body)
    except InvalidRequest as err:
        assert isinstance(err, VideogenError)
        json.dumps(err.to_dict())
    else:
        assert isinstance(result, Sequence)


@settings(max_examples=120, deadline=None)
@given(json_values)
def test_arbitrary_json_body_never_raises_anything_but_invalid_request(body: Any) -> None:
    assert_only_invalid_request(body)


SCENE_KEYS = ("scene_number", "narration", "duration", "clip_action", "music_mood", "other")
PARAM_KEYS = ("transition_type", "seed", "fps", "voice", "callback_url",
              "transition_duration", "other")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.dictionaries(st.sampled_from(SCENE_KEYS), json_values, max_size=6)
             | json_values, max_size=3),
    st.dictionaries(st.sampled_from(PARAM_KEYS), json_values, max_size=7) | json_values,
)
def test_near_valid_bodies_never_raise_anything_but_invalid_request(
        scenes: list[Any], generation_params: Any) -> None:
    assert_only_invalid_request({"sequence_data": scenes, "generation_params": generation_params})


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_one_bad_value_in_a_valid_body_is_reported_at_its_path(data: st.DataObject) -> None:
    body = seed_body()
    where = data.draw(st.sampled_from(
        [("sequence_data", i, k) for i in range(3) for k in SCENE_KEYS[:5]]
        + [("generation_params", k) for k in PARAM_KEYS[:6]]))
    value = data.draw(json_values)
    target: Any = body
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    try:
        structure_request(body)
    except InvalidRequest as err:
        expected = (f"sequence_data[{where[1]}].{where[2]}" if where[0] == "sequence_data"
                    else f"generation_params.{where[1]}")
        if where[-1] == "scene_number" and err.field.endswith("scene_number"):
            # a duplicate number is reported at the later of the two scenes
            assert err.field.startswith("sequence_data[")
        else:
            assert err.field == expected


# ------------------------------------------------------------ formats, focus
def test_formats_and_focus_structure_and_round_trip() -> None:
    body = seed_body()
    body["generation_params"].update(aspect_ratio="9:16", resolution="1080p")
    body["sequence_data"][0]["focus"] = [0.3, 0.2]
    body["sequence_data"][1]["focus"] = "center"
    seq = structure_request(body)
    assert seq.params.frame_size() == (1080, 1920)
    assert [s.focus for s in seq.scenes] == [(0.3, 0.2), "center", "auto"]
    again = sequence_to_request(seq)
    assert again["generation_params"]["aspect_ratio"] == "9:16"
    assert again["sequence_data"][0]["focus"] == [0.3, 0.2]
    assert "focus" not in again["sequence_data"][2]  # the default stays out
    assert structure_request(json.loads(json.dumps(again))) == seq


@pytest.mark.parametrize(("where", "value", "field"), [
    ("params", {"aspect_ratio": "21:9"}, "generation_params.aspect_ratio"),
    ("params", {"resolution": "1440p"}, "generation_params.resolution"),
    ("params", {"resolution": 1080}, "generation_params.resolution"),
    ("scene", {"focus": [0.5, 2]}, "sequence_data[1].focus"),
    ("scene", {"focus": [0.5]}, "sequence_data[1].focus"),
    ("scene", {"focus": ["x", 0.5]}, "sequence_data[1].focus"),
    ("scene", {"focus": "middle"}, "sequence_data[1].focus"),
    ("scene", {"focus": {"x": 0.5}}, "sequence_data[1].focus"),
])
def test_bad_formats_and_focus_name_their_json_path(where: str, value: dict[str, Any],
                                                     field: str) -> None:
    body = seed_body()
    target = body["generation_params"] if where == "params" else body["sequence_data"][1]
    target.update(value)
    assert error_of(body).field == field
