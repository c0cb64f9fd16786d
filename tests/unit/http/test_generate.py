"""POST /generateVideos/<folder_id>: the seed's shapes, sync and async, and its errors."""

from __future__ import annotations

import copy
from typing import Any

from tests.unit.http.conftest import SEED_BODY, GateRenderer, wait_for


def test_sync_returns_the_seed_response(client: Any) -> None:
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 200
    body = r.get_json()
    assert body["success"] is True
    assert body["video_url"].startswith("http://127.0.0.1:8000/media/trip/videos/")
    assert body["video_url"].endswith(".mp4")
    meta = body["metadata"]
    assert meta["scenes"] == 2
    assert abs(meta["duration"] - 6.5) < 0.05  # 3 + 4 − one 0.5 s crossfade
    assert meta["timestamp"].endswith("Z")
    assert r.headers["X-Videogen-Job-Id"]


def test_sync_result_is_also_a_job(client: Any) -> None:
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    job = client.get(f"/jobs/{r.headers['X-Videogen-Job-Id']}").get_json()
    assert job["status"] == "succeeded"
    assert job["result"] == r.get_json()
    assert job["percent"] == 100
    assert job["scenes_done"] == job["scenes_total"] == 2


def test_async_with_prefer_header(client: Any) -> None:
    r = client.post("/generateVideos/trip", json=SEED_BODY,
                    headers={"Prefer": "respond-async, wait=5"})
    assert r.status_code == 202
    body = r.get_json()
    assert set(body) == {"job_id", "status_url"}
    assert body["status_url"] == f"http://127.0.0.1:8000/jobs/{body['job_id']}"  # bind address
    assert r.headers["Location"] == body["status_url"]
    job = wait_for(client, body["job_id"])
    assert job["status"] == "succeeded"
    assert job["result"]["success"] is True
    assert job["result"]["metadata"]["scenes"] == 2


def test_async_with_query_flag(client: Any) -> None:
    r = client.post("/generateVideos/trip?async=true", json=SEED_BODY)
    assert r.status_code == 202
    assert wait_for(client, r.get_json()["job_id"])["status"] == "succeeded"


def test_validation_error_names_the_json_path(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"][1]["duration"] = "four"
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_request"
    assert err["details"]["field"] == "sequence_data[1].duration"


def test_unknown_transition_is_400(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    body["generation_params"]["transition_type"] = "wipe"
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "generation_params.transition_type"


def test_non_json_body_is_415(client: Any) -> None:
    r = client.post("/generateVideos/trip", data="scene_number=1",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert r.get_json()["error"]["code"] == "unsupported_media_type"


def test_broken_json_is_400(client: Any) -> None:
    r = client.post("/generateVideos/trip", data="{nope", content_type="application/json")
    assert r.status_code == 400
    assert "not valid JSON" in r.get_json()["error"]["message"]


def test_body_over_the_limit_is_413(make_env: Any) -> None:
    env = make_env(max_body_kb=1)
    env.add_images()
    client = env.app().test_client()
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"][0]["narration"] = "x" * 4000
    r = client.post("/generateVideos/trip", json=body)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"


def test_missing_folder_is_404(client: Any) -> None:
    r = client.post("/generateVideos/nowhere", json=SEED_BODY)
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def test_missing_scene_image_is_422(client: Any) -> None:
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"].append({"scene_number": 3, "duration": 2})
    r = client.post("/generateVideos/trip", json=body)
    # two images, three scenes: the third has no image by number nor by position
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "missing_image"
    assert err["details"]["scene_number"] == 3


def test_bad_folder_ids_are_400(client: Any) -> None:
    for folder in ("..", ".", ".cache", "a%20b", "x" * 129, "caf%C3%A9"):
        r = client.post(f"/generateVideos/{folder}", json=SEED_BODY)
        assert r.status_code == 400, folder
        assert r.get_json()["error"]["details"]["field"] == "folder_id"


def test_traversal_through_encoded_slash_never_reaches_a_folder(client: Any) -> None:
    r = client.post("/generateVideos/..%2F..%2Fetc", json=SEED_BODY)
    assert r.status_code in (400, 404)
    assert r.get_json()["success"] is False


def test_callback_url_must_be_http(client: Any) -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "http://"):
        body = copy.deepcopy(SEED_BODY)
        body["generation_params"]["callback_url"] = url
        r = client.post("/generateVideos/trip?async=1", json=body)
        assert r.status_code == 400, url
        assert r.get_json()["error"]["details"]["field"] == "generation_params.callback_url"


def test_idempotency_key_returns_the_same_job(client: Any) -> None:
    headers = {"Idempotency-Key": "order-17", "Prefer": "respond-async"}
    first = client.post("/generateVideos/trip", json=SEED_BODY, headers=headers)
    second = client.post("/generateVideos/trip", json=SEED_BODY, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["job_id"] == second.get_json()["job_id"]
    other = client.post("/generateVideos/trip", json=SEED_BODY,
                        headers={"Idempotency-Key": "order-18", "Prefer": "respond-async"})
    assert other.get_json()["job_id"] != first.get_json()["job_id"]
    # sync with the same key answers with that job's result
    wait_for(client, first.get_json()["job_id"])
    sync = client.post("/generateVideos/trip", json=SEED_BODY,
                       headers={"Idempotency-Key": "order-17"})
    assert sync.status_code == 200
    assert sync.headers["X-Videogen-Job-Id"] == first.get_json()["job_id"]


def test_idempotency_key_with_another_body_is_409(client: Any) -> None:
    headers = {"Idempotency-Key": "k1", "Prefer": "respond-async"}
    client.post("/generateVideos/trip", json=SEED_BODY, headers=headers)
    body = copy.deepcopy(SEED_BODY)
    body["generation_params"]["seed"] = 7
    r = client.post("/generateVideos/trip", json=body, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"


def test_full_queue_is_429_with_retry_after(make_env: Any) -> None:
    gate = GateRenderer()
    env = make_env(renderer=gate, max_jobs=1, max_queue=1)
    env.add_images()
    client = env.app().test_client()
    async_ = {"Prefer": "respond-async"}
    running = client.post("/generateVideos/trip", json=SEED_BODY, headers=async_)
    assert gate.started.wait(10)
    wait_for(client, running.get_json()["job_id"], ("running",))
    queued = client.post("/generateVideos/trip", json=SEED_BODY, headers=async_)
    assert queued.status_code == 202
    refused = client.post("/generateVideos/trip", json=SEED_BODY, headers=async_)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"]["code"] == "busy"
    sync_refused = client.post("/generateVideos/trip", json=SEED_BODY)
    assert sync_refused.status_code == 429
    # a known Idempotency-Key still answers with its job when the queue is full
    again = client.post("/generateVideos/trip", json=SEED_BODY,
                        headers={**async_, "Idempotency-Key": "late"})
    assert again.status_code == 429
    gate.release.set()
    for r in (running, queued):
        assert wait_for(client, r.get_json()["job_id"])["status"] == "succeeded"
    assert client.post("/generateVideos/trip", json=SEED_BODY, headers=async_
                       ).status_code == 202


def test_full_queue_refuses_before_the_body_is_read_or_the_folder_listed(
        make_env: Any) -> None:
    """Under a burst the refused submissions must cost next to nothing: with the
    queue full, the 429 comes before the body is parsed, validated or the folder
    listed — so even an invalid body or a missing folder gets the 429 (with room
    they get their 400/404). A known Idempotency-Key still answers with its job."""
    gate = GateRenderer()
    env = make_env(renderer=gate, max_jobs=1, max_queue=1)
    env.add_images()
    listed: list[str] = []
    real_list = env.storage.list_images
    env.storage.list_images = (  # type: ignore[method-assign]
        lambda folder: listed.append(folder) or real_list(folder))
    client = env.app().test_client()
    async_ = {"Prefer": "respond-async"}
    running = client.post("/generateVideos/trip", json=SEED_BODY, headers=async_)
    assert gate.started.wait(10)
    wait_for(client, running.get_json()["job_id"], ("running",))
    queued = client.post("/generateVideos/trip", json=SEED_BODY,
                         headers={**async_, "Idempotency-Key": "queued-one"})
    assert queued.status_code == 202
    listings = len(listed)  # the submissions' own, and the running job's
    invalid = {"sequence_data": "not a list"}
    for path, body in [("/generateVideos/trip", invalid), ("/generateVideos/nowhere", SEED_BODY),
                       ("/generateVideos/trip", SEED_BODY)]:
        refused = client.post(path, json=body, headers=async_)
        assert refused.status_code == 429, refused.get_json()
        assert refused.get_json()["error"]["code"] == "busy"
        assert int(refused.headers["Retry-After"]) >= 1
    not_json = client.post("/generateVideos/trip", data=b"{oops", headers=async_,
                           content_type="application/json")
    assert not_json.status_code == 429
    assert len(listed) == listings  # no refused request listed the folder
    # a known key is looked up, not refused: the job it names
    again = client.post("/generateVideos/trip", json=SEED_BODY,
                        headers={**async_, "Idempotency-Key": "queued-one"})
    assert again.status_code == 202
    assert again.get_json()["job_id"] == queued.get_json()["job_id"]
    # a bad folder id is still a 400 (checked from the path, before the queue)
    assert client.post("/generateVideos/a%20b", json=SEED_BODY, headers=async_
                       ).status_code == 400
    gate.release.set()
    for r in (running, queued):
        assert wait_for(client, r.get_json()["job_id"])["status"] == "succeeded"
    # with room again: the invalid body and the missing folder get their own answers
    r = client.post("/generateVideos/trip", json=invalid, headers=async_)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "sequence_data"
    assert client.post("/generateVideos/nowhere", json=SEED_BODY, headers=async_
                       ).status_code == 404


def test_pipeline_failure_in_sync_mode_maps_to_its_status(make_env: Any) -> None:
    from videogen_core import ServiceUnavailable

    env = make_env()
    env.add_images()
    env.pipeline.narrator.fail = ServiceUnavailable("tts", "connection refused")
    client = env.app().test_client()
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 503
    assert r.get_json()["error"]["details"]["service"] == "tts"
    job = client.get(f"/jobs/{r.headers['X-Videogen-Job-Id']}").get_json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "service_unavailable"


def test_unexpected_pipeline_exception_is_a_json_500(make_env: Any) -> None:
    env = make_env()
    env.add_images()

    class Broken:
        def run(self, *a: Any, **k: Any) -> None:
            raise RuntimeError("secret internals")

    container = env.container()
    from dependency_injector import providers

    container.pipeline.override(providers.Object(Broken()))
    client = env.app(container).test_client()
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in r.get_data(as_text=True)


def test_synchronous_requests_leave_threads_for_status_calls(make_env: Any) -> None:
    import threading

    gate = GateRenderer()
    env = make_env(renderer=gate, threads=3)  # one sync slot, two threads kept free
    env.add_images()
    client = env.app().test_client()
    results: list[Any] = []
    waiting = threading.Thread(target=lambda: results.append(
        client.post("/generateVideos/trip", json=SEED_BODY)))
    waiting.start()
    assert gate.started.wait(10)
    refused = client.post("/generateVideos/trip", json=SEED_BODY)
    assert refused.status_code == 429
    assert "respond-async" in refused.get_json()["error"]["message"]
    accepted = client.post("/generateVideos/trip", json=SEED_BODY, headers={
        "Prefer": "respond-async"})
    assert accepted.status_code == 202
    gate.release.set()
    waiting.join(20)
    assert results[0].status_code == 200
    assert client.post("/generateVideos/trip", json=SEED_BODY).status_code == 200


def test_logs_one_line_per_request_and_per_job_state(client: Any, caplog: Any) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="videogen")
    r = client.post("/generateVideos/trip?async=1", json=SEED_BODY)
    job_id = r.get_json()["job_id"]
    wait_for(client, job_id)
    lines = [rec.getMessage() for rec in caplog.records]
    assert any(line.startswith("POST /generateVideos/trip?async=1 202 ") for line in lines)
    mine = [line for line in lines if line.startswith(f"job {job_id} ")]
    assert mine[:3] == [f"job {job_id} queued: folder trip, 2 scenes", f"job {job_id} running",
                        f"job {job_id} succeeded"]


def test_configured_limits_are_checked_before_queueing(make_env: Any) -> None:
    env = make_env(max_scene_duration=5.0)
    env.add_images()
    client = env.app().test_client()
    body = copy.deepcopy(SEED_BODY)
    body["sequence_data"][1]["duration"] = 9
    r = client.post("/generateVideos/trip?async=true", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "sequence_data[1].duration"
    assert env.apps[0].extensions["videogen"].runner.store.list() == []
