"""The HTTP service with ``VIDEOGEN_EXECUTOR=celery``, a recording dispatcher in
place of the broker: jobs are queued, never run locally; cancel, sync timeout,
broker failure and start-up recovery follow the remote-mode rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from tests.unit.http.conftest import SEED_BODY, Env

from videogen_core import ServiceUnavailable

ASYNC = {"Prefer": "respond-async"}


class RecordingDispatcher:
    """Remembers what was queued and revoked; ``down`` makes submit fail like a dead broker."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.revoked: list[str] = []
        self.down = False

    def submit(self, job_id: str) -> None:
        if self.down:
            raise ServiceUnavailable("broker", "Error 111 connecting to 127.0.0.1:6379")
        self.submitted.append(job_id)

    def revoke(self, job_id: str) -> None:
        self.revoked.append(job_id)

    def check(self) -> None:
        if self.down:
            raise ServiceUnavailable("broker", "Error 111 connecting to 127.0.0.1:6379")

    name = "celery"

    def workers(self) -> list[str]:
        return [] if self.down else ["w1@a", "w2@b"]


@pytest.fixture
def env(tmp_path: Path) -> Any:
    e = Env(tmp_path, executor="celery")
    e.add_images()
    yield e
    e.close()


def make_client(env: Env, dispatcher: RecordingDispatcher, **kw: Any) -> Any:
    container = env.container()
    container.dispatcher.override(providers.Object(dispatcher))
    app = env.app(container, **kw)
    return app, app.test_client()


def test_async_job_is_dispatched_not_run_here(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    app, client = make_client(env, dispatcher)
    response = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC)
    assert response.status_code == 202
    job_id = response.get_json()["job_id"]
    assert dispatcher.submitted == [job_id]
    job = client.get(f"/jobs/{job_id}").get_json()
    assert job["status"] == "queued"  # nobody in this process runs it
    assert app.extensions["videogen"].runner.stats()["running"] == 0


def test_an_idempotent_retry_is_not_dispatched_twice(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    _, client = make_client(env, dispatcher)
    headers = {**ASYNC, "Idempotency-Key": "k-1"}
    first = client.post("/generateVideos/trip", json=SEED_BODY, headers=headers).get_json()
    again = client.post("/generateVideos/trip", json=SEED_BODY, headers=headers).get_json()
    assert first["job_id"] == again["job_id"]
    assert dispatcher.submitted == [first["job_id"]]


def test_broker_down_is_503_with_retry_after_and_stores_nothing(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    dispatcher.down = True
    app, client = make_client(env, dispatcher)
    keyed = {**ASYNC, "Idempotency-Key": "k-down"}
    for headers in (ASYNC, keyed, {}):  # async, keyed, sync
        response = client.post("/generateVideos/trip", json=SEED_BODY, headers=headers)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.get_json()["success"] is False
        error = response.get_json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["details"]["service"] == "broker"
        assert error["details"]["retry_after"] == 5
    store = app.extensions["videogen"].runner.store
    assert store.list() == []  # a refused submission leaves no job record
    # the broker back: the same Idempotency-Key makes a new job (the key was not kept)
    dispatcher.down = False
    again = client.post("/generateVideos/trip", json=SEED_BODY, headers=keyed)
    assert again.status_code == 202
    assert [j.id for j in store.list()] == [again.get_json()["job_id"]]


def test_cancel_queued_job_revokes_it(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    _, client = make_client(env, dispatcher)
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    response = client.delete(f"/jobs/{job_id}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert dispatcher.revoked == [job_id]


def test_cancel_running_job_sets_the_flag_for_its_worker(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    app, client = make_client(env, dispatcher)
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    store = app.extensions["videogen"].runner.store
    store.update(job_id, status="running", stage="render")  # what a worker does
    response = client.delete(f"/jobs/{job_id}")
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["cancel_requested"]) == ("running", True)
    assert store.get(job_id).cancel_requested is True
    assert client.get(f"/jobs/{job_id}").get_json()["cancel_requested"] is True
    assert dispatcher.revoked == []
    store.update(job_id, status="succeeded", result={"success": True})
    assert client.delete(f"/jobs/{job_id}").status_code == 409


def test_sync_request_answers_202_after_the_sync_timeout(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    app, client = make_client(env, dispatcher)
    app.extensions["videogen"].runner.sync_timeout = 0.3
    response = client.post("/generateVideos/trip", json=SEED_BODY)
    assert response.status_code == 202
    job_id = response.get_json()["job_id"]
    assert response.headers["Location"].endswith(f"/jobs/{job_id}")
    assert "Preference-Applied" not in response.headers
    assert client.get(f"/jobs/{job_id}").get_json()["status"] == "queued"


def test_sync_request_returns_the_result_a_worker_stored(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    app, client = make_client(env, dispatcher)
    runner = app.extensions["videogen"].runner
    body = {"success": True, "video_url": "http://x/v.mp4",
            "metadata": {"duration": 7.0, "scenes": 2, "timestamp": "2026-11-25T10:00:00Z"}}

    def worker_finishes(job_id: str) -> None:  # the "worker" answers at once
        dispatcher.submitted.append(job_id)
        runner.store.update(job_id, status="succeeded", result=body)

    dispatcher.submit = worker_finishes  # type: ignore[method-assign]
    response = client.post("/generateVideos/trip", json=SEED_BODY)
    assert response.status_code == 200
    assert response.get_json() == body


def test_startup_recovery_leaves_jobs_to_the_broker(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    _, client = make_client(env, dispatcher)
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    for app in env.apps:
        app.extensions["videogen"].close()
    env.apps.clear()
    app2, client2 = make_client(env, dispatcher)  # a restarted server, same store
    assert client2.get(f"/jobs/{job_id}").get_json()["status"] == "queued"
    assert dispatcher.submitted == [job_id]  # not queued a second time
    assert app2.extensions["videogen"].runner.recover("resume") == []


def test_readyz_asks_the_broker(env: Env) -> None:
    dispatcher = RecordingDispatcher()
    _, client = make_client(env, dispatcher)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["backends"]["dispatcher"]["ok"] is True
    # what runs the jobs: the workers behind the broker, not a local thread pool
    assert ready.get_json()["backends"]["executor"]["adapter"] != "ThreadPoolExecutorAdapter"
    jobs = ready.get_json()["jobs"]
    assert jobs["executor"] == dispatcher.name and "max_jobs" not in jobs
    assert jobs["workers"] == 2 and jobs["worker_names"] == ["w1@a", "w2@b"]
    assert (jobs["queued"], jobs["running"]) == (0, 0)
    client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC)
    assert client.get("/readyz").get_json()["jobs"]["queued"] == 1  # the shared store's count
    dispatcher.down = True
    response = client.get("/readyz")
    assert response.status_code == 503
    details = response.get_json()["error"]["details"]
    assert "dispatcher" in details["unavailable"]
    assert details["backends"]["dispatcher"]["error"]["details"]["service"] == "broker"


def test_the_queue_bound_counts_jobs_waiting_in_the_store(tmp_path: Path) -> None:
    env = Env(tmp_path, executor="celery", max_queue=2)
    env.add_images()
    try:
        dispatcher = RecordingDispatcher()
        app, client = make_client(env, dispatcher)
        store = app.extensions["videogen"].runner.store
        keyed = {**ASYNC, "Idempotency-Key": "k-1"}
        first = client.post("/generateVideos/trip", json=SEED_BODY, headers=keyed)
        second = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC)
        assert (first.status_code, second.status_code) == (202, 202)
        refused = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "5"  # the runner's default, no jobs timed
        error = refused.get_json()["error"]
        assert error["code"] == "busy" and "2 jobs are already waiting" in error["message"]
        assert client.post("/generateVideos/trip", json=SEED_BODY).status_code == 429  # sync
        # a replayed Idempotency-Key still answers with its job when the queue is full
        again = client.post("/generateVideos/trip", json=SEED_BODY, headers=keyed)
        assert again.status_code != 429
        assert again.get_json()["job_id"] == first.get_json()["job_id"]
        ids = [first.get_json()["job_id"], second.get_json()["job_id"]]
        assert dispatcher.submitted == ids  # refused jobs are neither queued ...
        assert sorted(j.id for j in store.list()) == sorted(ids)  # ... nor stored
        store.update(ids[0], status="running", stage="render")  # a worker takes one
        third = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC)
        assert third.status_code == 202
        assert client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                           ).status_code == 429
        store.update(ids[1], status="running")
        store.update(ids[1], status="succeeded", result={"success": True})
        assert client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                           ).status_code == 202
        assert len(dispatcher.submitted) == 4
    finally:
        env.close()


def test_event_streams_beyond_the_held_slots_get_503_and_closed_ones_free_theirs(
        tmp_path: Path) -> None:
    env = Env(tmp_path, executor="celery", threads=4)  # 2 held slots
    env.add_images()
    try:
        _, client = make_client(env, RecordingDispatcher())
        job_id = client.post("/generateVideos/trip", json=SEED_BODY,
                             headers=ASYNC).get_json()["job_id"]  # stays queued: no worker
        streams = []
        for _ in range(2):
            stream = client.get(f"/jobs/{job_id}/events", buffered=False)
            assert stream.status_code == 200
            assert b"data: " in next(iter(stream.response))
            streams.append(stream)
        refused = client.get(f"/jobs/{job_id}/events")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert refused.get_json()["error"]["details"]["retry_after"] == 5
        assert client.get(f"/jobs/{job_id}").status_code == 200  # still answered
        # a synchronous request shares the slots: refused too, not left waiting
        assert client.post("/generateVideos/trip", json=SEED_BODY).status_code == 429
        streams[0].close()  # the client left: the server closes its stream
        again = client.get(f"/jobs/{job_id}/events", buffered=False)
        assert again.status_code == 200
        again.close()
        streams[1].close()
    finally:
        env.close()
