"""The error tree: codes, to_dict, InvalidRequest.at."""

from __future__ import annotations

import json

import pytest

from videogen_core import (
    Busy,
    Cancelled,
    InvalidImage,
    InvalidRequest,
    MissingImage,
    NotFound,
    PathNotAllowed,
    RenderFailed,
    ServiceUnavailable,
    StorageFailed,
    UnknownVoice,
    VideogenError,
)

ERRORS = [
    (InvalidRequest("f", "bad", 1), "invalid_request"),
    (UnknownVoice("x", ["a"]), "unknown_voice"),
    (PathNotAllowed("key", "leaves the root", "../x"), "path_not_allowed"),
    (NotFound("no such folder"), "not_found"),
    (MissingImage(2, "f", ["a.png"]), "missing_image"),
    (InvalidImage("a.png", "corrupt", 2), "invalid_image"),
    (ServiceUnavailable("comfyui", "connection refused"), "service_unavailable"),
    (Busy("queue full", 7), "busy"),
    (RenderFailed("mux", "ffmpeg exited 1", stderr="tail"), "render_failed"),
    (StorageFailed("s3", "put", "AccessDenied"), "storage_failed"),
    (Cancelled(), "cancelled"),
]


@pytest.mark.parametrize(("error", "code"), ERRORS)
def test_every_error_is_a_videogen_error_with_a_jsonable_dict(
        error: VideogenError, code: str) -> None:
    assert isinstance(error, VideogenError)
    data = error.to_dict()
    assert data["code"] == code == error.code
    assert data["message"] == error.message == str(error)
    assert json.loads(json.dumps(data)) == data


def test_subclass_relations() -> None:
    assert issubclass(UnknownVoice, InvalidRequest)
    assert issubclass(PathNotAllowed, InvalidRequest)
    assert not issubclass(MissingImage, InvalidRequest)


def test_invalid_request_names_field_and_value() -> None:
    err = InvalidRequest("sequence_data[2].duration", "must be > 0", -1)
    assert err.message == "sequence_data[2].duration: must be > 0 (got -1)"
    assert err.to_dict()["details"] == {"field": "sequence_data[2].duration", "value": -1}
    assert (err.field, err.reason, err.value) == ("sequence_data[2].duration", "must be > 0", -1)


def test_invalid_request_without_field_or_value() -> None:
    err = InvalidRequest("", "the body must be JSON")
    assert err.message == "the body must be JSON"
    assert "value" not in err.details


def test_invalid_request_non_json_value_is_repr() -> None:
    err = InvalidRequest("x", "bad", {1, 2})
    assert err.details["value"] == repr({1, 2})
    json.dumps(err.to_dict())


@pytest.mark.parametrize(
    ("prefix", "field", "expected"),
    [
        ("sequence_data", "[2].duration", "sequence_data[2].duration"),
        ("sequence_data[2]", "duration", "sequence_data[2].duration"),
        ("generation_params", "seed", "generation_params.seed"),
        ("", "seed", "seed"),
        ("generation_params", "", "generation_params"),
    ],
)
def test_at_places_field_under_prefix(prefix: str, field: str, expected: str) -> None:
    err = InvalidRequest(field, "bad", 5, extra="kept").at(prefix)
    assert err.field == expected
    assert err.message == (f"{expected}: bad (got 5)" if expected else "bad (got 5)")
    assert err.details == {"field": expected, "value": 5, "extra": "kept"}
    assert err.value == 5


def test_at_keeps_the_subclass_and_its_details() -> None:
    err = UnknownVoice("zz", ["amy", "joe"]).at("generation_params")
    assert type(err) is UnknownVoice
    assert err.field == "generation_params.voice"
    assert err.details["available"] == ["amy", "joe"]
    assert err.code == "unknown_voice"


def test_detail_carrying_errors() -> None:
    assert RenderFailed("mux", "x", stderr="tail").details["stderr"] == "tail"
    assert RenderFailed("mux", "x").stage == "mux"
    assert ServiceUnavailable("tts", "down").service == "tts"
    assert Busy("full", 9).retry_after == 9
    image = InvalidImage("a.png", "corrupt", 4)
    assert "a.png" in image.message and "scene 4" in image.message
    assert StorageFailed("gcs", "put", "403").message == "gcs storage could not put: 403"
