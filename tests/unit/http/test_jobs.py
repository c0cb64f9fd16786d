"""/jobs/<job_id>: status, SSE, cancel; jobs survive a restart (SQLite)."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.http.conftest import SEED_BODY, GateRenderer, wait_for

from videogen_adapters.jobs import SqliteJobStore
from videogen_core import JobRecord

ASYNC = {"Prefer": "respond-async"}


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """``[(event name, data)]`` of an event stream (comments skipped)."""
    events = []
    for block in text.strip().split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def test_unknown_job_is_404_and_bad_id_400(client: Any) -> None:
    r = client.get("/jobs/0123456789abcdef")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"
    assert client.get("/jobs/..").status_code == 400
    assert client.get("/jobs/a%20b/events").status_code == 400
    assert client.delete("/jobs/nope").status_code == 404


def test_sse_streams_progress_until_the_end(client: Any) -> None:
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    r = client.get(f"/jobs/{job_id}/events")
    assert r.status_code == 200
    assert r.mimetype == "text/event-stream"
    assert r.headers["Cache-Control"] == "no-cache"
    events = parse_sse(r.get_data(as_text=True))
    assert events[-1] == ("end", {"status": "succeeded"})
    snapshots = [data for name, data in events if name == "message"]
    assert snapshots[-1]["status"] == "succeeded"
    assert snapshots[-1]["result"]["success"] is True
    percents = [s["percent"] for s in snapshots]
    assert percents == sorted(percents)
    assert all(s["job_id"] == job_id for s in snapshots)


def test_sse_shows_a_running_job_then_its_end(make_env: Any) -> None:
    gate = GateRenderer()
    env = make_env(renderer=gate)
    env.add_images()
    client = env.app().test_client()
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    assert gate.started.wait(10)
    wait_for(client, job_id, ("running",), stage="render")
    r = client.get(f"/jobs/{job_id}/events", buffered=False)
    chunks = iter(r.response)
    first = parse_sse(_text(next(chunks)))
    assert first[0][1]["status"] == "running"
    assert first[0][1]["stage"] == "render"
    gate.release.set()
    rest = parse_sse("".join(_text(c) for c in chunks))
    assert rest[-1] == ("end", {"status": "succeeded"})


def _text(chunk: Any) -> str:
    return chunk.decode() if isinstance(chunk, bytes) else chunk


def test_cancel_a_running_job_stops_rendering_and_removes_temp_files(make_env: Any) -> None:
    gate = GateRenderer()
    env = make_env(renderer=gate)
    env.add_images()
    client = env.app().test_client()
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    assert gate.started.wait(10)
    assert any(env.workdir.iterdir())  # the pipeline's temp dir exists while rendering
    r = client.delete(f"/jobs/{job_id}")
    assert r.status_code in (200, 202)
    assert r.get_json()["cancel_requested"] is True
    job = wait_for(client, job_id)
    assert job["status"] == "cancelled"
    assert job["error"]["code"] == "cancelled"
    assert gate.cancelled.is_set()
    assert list(env.workdir.iterdir()) == []
    assert not (env.settings.data_dir / "trip" / "videos").exists()
    # cancelling again is harmless; a finished job cannot be cancelled
    assert client.delete(f"/jobs/{job_id}").status_code == 200


def test_cancel_a_queued_job(make_env: Any) -> None:
    gate = GateRenderer()
    env = make_env(renderer=gate, max_jobs=1)
    env.add_images()
    client = env.app().test_client()
    first = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC).get_json()
    assert gate.started.wait(10)
    second = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC).get_json()
    r = client.delete(f"/jobs/{second['job_id']}")
    assert r.status_code == 200
    assert r.get_json()["status"] == "cancelled"
    gate.release.set()
    assert wait_for(client, first["job_id"])["status"] == "succeeded"
    assert client.get(f"/jobs/{second['job_id']}").get_json()["status"] == "cancelled"
    assert len(gate.inner.calls) == 2  # two scenes of the first job only


def test_cancel_a_finished_job_is_409(client: Any) -> None:
    job_id = client.post("/generateVideos/trip", json=SEED_BODY).headers["X-Videogen-Job-Id"]
    r = client.delete(f"/jobs/{job_id}")
    assert r.status_code == 409
    assert r.get_json()["error"]["details"]["status"] == "succeeded"


def test_a_new_app_on_the_same_data_dir_knows_every_job(make_env: Any) -> None:
    env = make_env()
    env.add_images()
    first = env.app().test_client()
    done = first.post("/generateVideos/trip", json=SEED_BODY)
    job_id = done.headers["X-Videogen-Job-Id"]
    env.apps[0].extensions["videogen"].close()
    second = env.app().test_client()
    job = second.get(f"/jobs/{job_id}").get_json()
    assert job["status"] == "succeeded"
    assert job["result"] == done.get_json()
    again = second.post("/generateVideos/trip", json=SEED_BODY,
                        headers={"Idempotency-Key": "x", **ASYNC})
    assert again.status_code == 202


def _left_behind(env: Any) -> SqliteJobStore:
    """Jobs a crashed process left in the SQLite store: one running, one queued."""
    store = SqliteJobStore(env.settings.data_dir / "jobs.sqlite3")
    store.create(JobRecord(id="crashedrunning", folder_id="trip", request=SEED_BODY,
                           status="running", stage="render", percent=40.0, scenes_total=2,
                           created_at=1000.0))
    store.create(JobRecord(id="crashedqueued", folder_id="trip", request=SEED_BODY,
                           scenes_total=2, created_at=1001.0))
    store.close()
    return store


def test_restart_resumes_queued_and_running_jobs(make_env: Any) -> None:
    env = make_env()
    env.add_images()
    _left_behind(env)
    client = env.app().test_client()
    for job_id, was in (("crashedrunning", "running (render)"), ("crashedqueued", "queued")):
        job = wait_for(client, job_id)
        assert job["status"] == "succeeded"
        assert job["warnings"][0] == f"resumed after a server restart (it was {was})"


def test_restart_can_fail_unfinished_jobs_with_a_reason(make_env: Any) -> None:
    env = make_env()
    env.add_images()
    _left_behind(env)
    client = env.app(recovery="fail").test_client()
    job = client.get("/jobs/crashedrunning").get_json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "interrupted"
    assert "restarted" in job["error"]["message"]
    assert client.get("/jobs/crashedqueued").get_json()["status"] == "failed"


def test_job_progress_fields(make_env: Any) -> None:
    gate = GateRenderer()
    env = make_env(renderer=gate)
    env.add_images()
    client = env.app().test_client()
    job_id = client.post("/generateVideos/trip", json=SEED_BODY, headers=ASYNC
                         ).get_json()["job_id"]
    assert gate.started.wait(10)
    job = wait_for(client, job_id, ("running",))
    assert job["stage"] in {"validate", "fetch", "narrate", "render"}
    assert job["scenes_total"] == 2 and job["scenes_done"] == 0
    assert 0 <= job["percent"] < 100
    gate.release.set()
    job = wait_for(client, job_id)
    assert job["percent"] == 100 and job["scenes_done"] == 2
    assert job["eta_seconds"] == 0


def test_restart_resumes_more_jobs_than_the_queue_bound(make_env: Any) -> None:
    env = make_env(max_jobs=1, max_queue=1)
    env.add_images()
    store = SqliteJobStore(env.settings.data_dir / "jobs.sqlite3")
    for i in range(4):
        store.create(JobRecord(id=f"left{i}", folder_id="trip", request=SEED_BODY,
                               created_at=1000.0 + i))
    store.close()
    client = env.app().test_client()
    assert [wait_for(client, f"left{i}")["status"] for i in range(4)] == ["succeeded"] * 4
