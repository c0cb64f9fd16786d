"""What an outside probe broke at the HTTP edge (issue 12), each pinned by a test.

Deep JSON, HTML redirects and OPTIONS answers, bodies read before the token
and size checks, forged Host headers in URLs, server paths and 10 KB echoes
in error bodies, folder ids naming the service's own files, unbounded
transitions.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.http.conftest import SEED_BODY, png_bytes, wait_for

from videogen_adapters.jobs import SqliteJobStore
from videogen_core import InvalidRequest, JobRecord, StorageFailed
from videogen_http.errors import ECHO_LIMIT, scrub
from videogen_http.openapi import openapi_document
from videogen_http.validation import (
    MAX_JSON_DEPTH,
    check_id,
    check_media_key,
    json_depth_exceeds,
)

# ------------------------------------------------------------------ 12.1 deep JSON


def _post_raw(client: Any, body: str | bytes, path: str = "/generateVideos/trip") -> Any:
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("body", [
    "[" * 10_000 + "]" * 10_000,                                        # the whole body
    '{"sequence_data": ' + "[" * 400 + "]" * 400 + "}",                 # inside a field
    '{"sequence_data": [{"scene_number": 1, "duration": 2, "narration": '
    + "{" + '"a":' * 0 + "[" * 2000 + "]" * 2000 + "}]}",             # deep in a scene
])
def test_deep_json_is_a_400_naming_the_limit(client: Any, body: str) -> None:
    r = _post_raw(client, body)
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["max_depth"] == MAX_JSON_DEPTH
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["message"]


def test_json_at_the_depth_limit_still_parses(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH - 3):  # body {} → sequence_data [] → scene {} → narration
        nested = [nested]
    body["sequence_data"][0]["narration"] = nested
    r = _post_raw(client, json.dumps(body))
    assert r.status_code == 400  # parsed, then refused for its type — not for its depth
    assert r.get_json()["error"]["details"]["field"] == "sequence_data[0].narration"


def test_depth_scan_ignores_brackets_inside_strings() -> None:
    text = json.dumps({"narration": "[[[{{{" * 100 + '\\"[[[', "n": [[1]]}).encode()
    assert not json_depth_exceeds(text, 3)
    assert json_depth_exceeds(b'{"a": [[[[1]]]]}', 4)
    assert not json_depth_exceeds(b'{"a": [[[1]]]}', 4)
    assert json_depth_exceeds(b"[" * 10_000, 32)


# --------------------------------------------------- 12.7 / 13.8 every answer is JSON

@pytest.mark.parametrize("path", [
    "/media//etc/passwd", "/jobs/%2f/events", "/jobs//events", "/jobs/abc/",
    "/healthz/", "/folders//images", "//healthz", "/folders/trip//images",
])
def test_slash_variants_are_json_not_redirects(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404)
    assert r.mimetype == "application/json"
    assert "Location" not in r.headers
    assert r.get_json()["success"] is False


@pytest.mark.parametrize("path", ["/healthz", "/generateVideos/trip", "/jobs/abc",
                                  "/nothing/here"])
def test_options_is_a_json_answer(client: Any, path: str) -> None:
    r = client.options(path)
    assert r.mimetype == "application/json"
    assert r.status_code in (404, 405)
    assert r.get_json()["success"] is False
    if r.status_code == 405:
        assert "OPTIONS" not in r.headers["Allow"]


# ------------------------------------------- 12.10 headers are checked before the body

class _Untouchable(io.RawIOBase):
    """A request body that fails the test when anything reads it."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # werkzeug's test client measures the stream
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        raise AssertionError("the body was read")


def _big_post(client: Any, stream: _Untouchable, path: str, length: int,
              headers: dict[str, str] | None = None) -> Any:
    return client.post(path, headers=headers or {}, content_type="application/json",
                       input_stream=stream,
                       environ_overrides={"CONTENT_LENGTH": str(length)})


def test_unauthenticated_body_is_refused_unread(make_env: Any) -> None:
    env = make_env(api_token="t0ken")
    client = env.app().test_client()
    stream = _Untouchable()
    r = _big_post(client, stream, "/generateVideos/trip", 300 * 1024 * 1024)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert stream.reads == 0


def test_oversized_body_is_refused_unread(client: Any) -> None:
    for path in ("/generateVideos/trip", "/folders/trip/images", "/jobs/abc"):
        stream = _Untouchable()
        r = _big_post(client, stream, path, 300 * 1024 * 1024)
        assert r.status_code == 413, path
        assert r.get_json()["error"]["details"]["limit_bytes"] > 0
        assert stream.reads == 0


# ------------------------------------------------------------- 12.11 forged Host

def test_a_forged_host_never_reaches_urls(client: Any) -> None:
    forged = {"Host": "evil.example"}
    r = client.post("/generateVideos/trip?async=true", json=SEED_BODY, headers=forged)
    assert r.status_code == 202
    job_id = r.get_json()["job_id"]
    for url in (r.headers["Location"], r.get_json()["status_url"]):
        assert url == f"http://127.0.0.1:8000/jobs/{job_id}"
    job = client.get(f"/jobs/{job_id}", headers=forged).get_json()
    assert "evil" not in job["status_url"] + job["events_url"]
    assert job["events_url"] == f"http://127.0.0.1:8000/jobs/{job_id}/events"
    done = wait_for(client, job_id, headers=forged)
    assert "evil" not in json.dumps(done)


def test_urls_use_the_public_base_url(make_env: Any) -> None:
    env = make_env(public_base_url="https://videos.example/api")
    env.add_images()
    client = env.app().test_client()
    r = client.post("/generateVideos/trip?async=1", json=SEED_BODY,
                    headers={"Host": "evil.example"})
    assert r.headers["Location"].startswith("https://videos.example/api/jobs/")


# ---------------------------------------------- 12.6 server paths never in a body

def test_scrub_hides_absolute_paths_but_keeps_urls_and_keys() -> None:
    message, details = scrub("could not write /srv/videogen/data/jobs.sqlite3/x.png",
                             {"path": "/tmp/abc/data/x", "url": "http://h/a/b",
                              "key": "trip/scene_1.png", "route": "/jobs/abc/events",
                              "nested": [{"file": "/home/u/secret.txt"}]})
    assert "/srv" not in message and message.endswith("…/x.png")
    assert details == {"path": "…/x", "url": "http://h/a/b", "key": "trip/scene_1.png",
                       "route": "/jobs/abc/events", "nested": [{"file": "…/secret.txt"}]}


def test_a_storage_error_with_a_path_shows_no_path(env: Any, tmp_path: Path) -> None:
    where = str(tmp_path / "data" / "trip")

    class Failing:
        def list_images(self, folder_id: str) -> list[str]:
            raise StorageFailed("local", "list", f"Permission denied: '{where}'", path=where)

    container = env.container()
    container.storage.override(providers.Object(Failing()))
    r = env.app(container).test_client().get("/folders/trip/images")
    assert r.status_code == 502
    text = r.get_data(as_text=True)
    assert str(tmp_path) not in text
    assert r.get_json()["error"]["details"]["path"] == "…/trip"


def test_a_failed_job_shows_no_path(env: Any, tmp_path: Path) -> None:
    where = str(tmp_path / "work" / "clip_0001.mp4")

    class Broken:
        name = "broken"

        def render(self, *args: Any, **kwargs: Any) -> Any:
            raise StorageFailed("local", "put", f"disk full writing {where}", path=where)

    container = env.container()
    env.pipeline.renderer = Broken()
    client = env.app(container).test_client()
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 502
    assert str(tmp_path) not in r.get_data(as_text=True)
    job = client.get(f"/jobs/{r.headers['X-Videogen-Job-Id']}")
    assert job.get_json()["status"] == "failed"
    assert str(tmp_path) not in job.get_data(as_text=True)
    assert job.get_json()["error"]["details"]["path"] == "…/clip_0001.mp4"


# --------------------------------------- 12.6 folder ids vs the service's own files

@pytest.mark.parametrize("folder", ["jobs.sqlite3", "server.lock", "jobs.sqlite3-wal"])
def test_folder_ids_cannot_collide_with_service_files(env: Any, client: Any,
                                                      folder: str) -> None:
    client.post("/generateVideos/trip?async=1", json=SEED_BODY)  # the job store exists
    r = client.post(f"/folders/{folder}/images",
                    data={"images": (io.BytesIO(png_bytes()), "scene_1.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert (env.settings.data_dir / folder / "scene_1.png").is_file()
    assert (env.settings.data_dir / ".videogen" / "jobs.sqlite3").is_file()
    assert client.get(f"/folders/{folder}/images").get_json()["count"] == 1


@pytest.mark.parametrize("folder", [".videogen", ".cache", ".x"])
def test_dot_folder_ids_are_refused(client: Any, folder: str) -> None:
    r = client.post(f"/folders/{folder}/images",
                    data={"images": (io.BytesIO(png_bytes()), "scene_1.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "folder_id"


def test_an_old_job_database_is_moved_into_the_state_dir(make_env: Any) -> None:
    env = make_env()
    old = env.settings.data_dir / "jobs.sqlite3"
    old.parent.mkdir(parents=True)
    store = SqliteJobStore(old)
    store.create(JobRecord(id="oldjob", folder_id="trip", status="succeeded",
                           request={}, created_at=1.0, updated_at=2.0))
    store.close()
    client = env.app().test_client()
    r = client.get("/jobs/oldjob")
    assert r.status_code == 200 and r.get_json()["status"] == "succeeded"
    assert not old.exists()
    assert (env.settings.data_dir / ".videogen" / "jobs.sqlite3").is_file()


# ----------------------------------------------------------- 12.14 minor ones

def test_long_ids_are_not_echoed_whole(client: Any) -> None:
    for path in ("/jobs/" + "a" * 5000, "/folders/" + "b" * 4999 + "!/images"):
        r = client.get(path)
        assert r.status_code == 400
        assert len(r.get_data()) < 4 * ECHO_LIMIT + 600
        assert "(5000 characters)" in r.get_json()["error"]["message"]


def _body(**params: Any) -> dict[str, Any]:
    body = copy.deepcopy(SEED_BODY)
    body["generation_params"].update(params)
    return body


@pytest.mark.parametrize(("params", "durations"), [
    ({"transition_type": "fade", "transition_duration": 1e300}, None),
    ({"transition_type": "fade", "transition_duration": 10.5}, None),
    ({"transition_type": "crossfade", "transition_duration": 11}, None),
    ({"transition_type": "fade", "transition_duration": 7}, (3, 4)),   # 3.5 s from scene 1
])
def test_transition_duration_is_bounded(client: Any, params: dict[str, Any],
                                        durations: tuple[float, float] | None) -> None:
    body = _body(**params)
    if durations:
        for scene, d in zip(body["sequence_data"], durations, strict=True):
            scene["duration"] = d
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "generation_params.transition_duration"


def test_a_fade_that_fits_is_accepted(client: Any) -> None:
    r = client.post("/generateVideos/trip?async=1",
                    json=_body(transition_type="fade", transition_duration=5.9))
    assert r.status_code == 202


@pytest.mark.parametrize("transition", ["none", "fade", "crossfade"])
def test_a_sub_frame_duration_names_the_scene(client: Any, transition: str) -> None:
    body = _body(transition_type=transition)
    body["sequence_data"][0]["duration"] = 5e-324
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "sequence_data[0].duration"


# ------------------------------------ 12.8 the document's patterns are the server's

_ALPHABET = st.sampled_from("aZ09_-./%!é \x00")


def _accepts(check: Any, value: str) -> bool:
    try:
        check(value)
    except InvalidRequest:
        return False
    return True


def _pattern(schema: dict[str, Any]) -> re.Pattern[str]:
    return re.compile(schema["pattern"])


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=140) | st.from_regex(r"[a.]{1,3}", fullmatch=True))
def test_the_id_pattern_is_what_check_id_takes(value: str) -> None:
    schema = openapi_document()["paths"]["/jobs/{job_id}"]["get"]["parameters"][0]["schema"]
    documented = _pattern(schema).fullmatch(value) is not None
    assert documented == _accepts(lambda v: check_id(v, "job_id"), value)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(_ALPHABET, max_size=6), min_size=1, max_size=18).map("/".join))
def test_the_media_key_pattern_is_what_media_takes(value: str) -> None:
    schema = openapi_document()["paths"]["/media/{key}"]["get"]["parameters"][0]["schema"]
    documented = _pattern(schema).fullmatch(value) is not None
    assert documented == _accepts(check_media_key, value)
