"""``sequence_data[i].renderer`` over HTTP: a bad value or a renderer the server has
not configured is a 400 naming the field; the response says the render mode and
each scene's renderer."""

from __future__ import annotations

import copy
from typing import Any

from tests.unit.http.conftest import SEED_BODY


def test_unknown_renderer_is_400_naming_the_field(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"][1]["renderer"] = "sora"
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "sequence_data[1].renderer"


def test_an_unconfigured_comfyui_scene_is_400(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"][0]["renderer"] = "comfyui"  # this server has the fake renderer
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["details"]["field"] == "sequence_data[0].renderer"
    assert "comfyui" in err["message"]


def test_the_response_says_mode_and_renderers(client: Any) -> None:
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 200
    meta = r.get_json()["metadata"]
    assert meta["render_mode"] == "stream"
    assert [(d["requested_renderer"], d["renderer"]) for d in meta["scene_details"]] == [
        ("auto", "fake"), ("auto", "fake")]
