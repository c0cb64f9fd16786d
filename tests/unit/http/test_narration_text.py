"""Narration text is checked and cleaned once, in the core, for every narrator:
a lone surrogate is a 400 naming the field (it used to reach Piper and come back
as a 500), control characters become spaces, text is NFC, and a scene's
narration has a configurable length limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit.http.conftest import SEED_BODY, Env

from videogen_adapters.config import Settings
from videogen_adapters.converter import structure_request
from videogen_core import AnimationSettings, InvalidRequest, Scene, Sequence, validate_sequence
from videogen_core.model import MAX_NARRATION_CHARS


def body_with(narration: str) -> dict[str, Any]:
    body = json.loads(json.dumps(SEED_BODY))
    body["sequence_data"][1]["narration"] = narration
    return body


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff", "ok \udbff"])
def test_a_lone_surrogate_is_an_invalid_request_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        structure_request(body_with(text))
    assert info.value.field == "sequence_data[1].narration"
    assert "surrogate" in info.value.message


@pytest.mark.parametrize("field", ["clip_action", "music_mood"])
def test_other_text_fields_refuse_lone_surrogates_too(field: str) -> None:
    body = json.loads(json.dumps(SEED_BODY))
    body["sequence_data"][0][field] = "x\ud800"
    with pytest.raises(InvalidRequest) as info:
        structure_request(body)
    assert info.value.field == f"sequence_data[0].{field}"


def test_a_pair_of_surrogates_from_json_is_one_character() -> None:
    sequence = structure_request(json.loads(json.dumps(body_with("smile \U0001F600"))))
    assert sequence.scenes[1].narration == "smile \U0001F600"


def test_narration_is_nfc_and_control_characters_become_spaces() -> None:
    scene = Scene(1, "Cafe\u0301\x07bar\x1b[0m\ttab\nline\x7f.")
    assert scene.narration == "Caf\u00e9 bar [0m\ttab\nline ."
    assert Scene(1, scene.narration) == scene  # cleaning is idempotent


def test_the_http_edge_answers_400_not_500(env: Env, client: Any) -> None:
    response = client.post("/generateVideos/trip", json=body_with("a\ud800b"))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["field"] == "sequence_data[1].narration"
    assert "/" not in error["message"]  # no server path, no trace


def test_narration_longer_than_the_limit_is_refused_naming_the_scene() -> None:
    limits = AnimationSettings(max_narration_chars=20)
    ok = Sequence([Scene(1, "x" * 20), Scene(2, "y" * 3)])
    validate_sequence(ok, limits)
    with pytest.raises(InvalidRequest) as info:
        validate_sequence(Sequence([Scene(1, "x"), Scene(2, "y" * 21)]), limits)
    assert info.value.field == "sequence_data[1].narration"
    assert "20 characters" in info.value.message


def test_the_limit_is_a_setting_with_a_default_of_a_few_thousand() -> None:
    assert 1000 <= MAX_NARRATION_CHARS <= 10_000
    assert Settings().animation().max_narration_chars == MAX_NARRATION_CHARS
    settings = Settings.from_env({"VIDEOGEN_MAX_NARRATION_CHARS": "300"}, dotenv=False)
    assert settings.animation().max_narration_chars == 300
    with pytest.raises(InvalidRequest, match="VIDEOGEN_MAX_NARRATION_CHARS"):
        Settings.from_env({"VIDEOGEN_MAX_NARRATION_CHARS": "0"}, dotenv=False)


def test_a_megabyte_narration_is_refused_at_the_http_edge(make_env: Any) -> None:
    env = make_env(max_narration_chars=1000)
    env.add_images()
    client = env.app().test_client()
    response = client.post("/generateVideos/trip?async=true",
                           json=body_with("word " * 200_000))
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "sequence_data[1].narration"
    assert list(env.settings.data_dir.glob("trip/videos/*")) == []
