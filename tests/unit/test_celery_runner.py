"""The worker side of the Celery executor without a broker: :class:`JobTaskRunner`
driven directly over an in-memory job store, with fake work and a fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from videogen_adapters.executors.celery import JobTaskRunner
from videogen_adapters.jobs import InMemoryJobStore, SqliteJobStore
from videogen_core import (
    Cancelled,
    CancelToken,
    JobRecord,
    MissingImage,
    ProgressEvent,
    ServiceUnavailable,
)

Work = Callable[[JobRecord, Callable[[ProgressEvent], None], CancelToken],
                tuple[Mapping[str, Any], list[str]]]


class CountingWork:
    """Reports two progress events and returns a seed-shaped body; counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, job: JobRecord, progress: Callable[[ProgressEvent], None],
                 cancel: CancelToken) -> tuple[Mapping[str, Any], list[str]]:
        self.runs += 1
        progress(ProgressEvent("render", 1, 2, percent=40.0, eta_seconds=3.0))
        progress(ProgressEvent("mux", 0, 1, percent=70.0, eta_seconds=1.0))
        return {"success": True, "video_url": "u", "metadata": {"scenes": 2}}, ["w1"]


def new_job(store: InMemoryJobStore, **fields: Any) -> JobRecord:
    return store.create(JobRecord(id="j1", folder_id="trip", request={"x": 1},
                                  scenes_total=2, **fields))


def test_a_queued_job_is_run_and_its_result_stored() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    new_job(store)
    seen: list[tuple[str, float]] = []
    original = store.update

    def spy(job_id: str, **changes: Any) -> JobRecord:
        job = original(job_id, **changes)
        seen.append((job.stage, job.percent))
        return job

    store.update = spy  # type: ignore[method-assign]
    assert JobTaskRunner(store, work).run("j1") == "succeeded"
    job = store.get("j1")
    assert (job.status, job.stage, job.percent, job.scenes_done) == ("succeeded", "done",
                                                                     100.0, 2)
    assert job.result == {"success": True, "video_url": "u", "metadata": {"scenes": 2}}
    assert job.warnings == ("w1",)
    assert ("render", 40.0) in seen and ("mux", 70.0) in seen  # progress reached the store


def test_a_finished_job_is_not_rendered_again() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    new_job(store)
    runner = JobTaskRunner(store, work)
    runner.run("j1")
    before = store.get("j1")
    assert runner.run("j1") == "succeeded"  # the redelivered message
    assert work.runs == 1
    assert store.get("j1") == before


def test_unknown_job_is_dropped() -> None:
    assert JobTaskRunner(InMemoryJobStore(), CountingWork()).run("nope") == "missing"


def test_domain_and_unexpected_errors_are_stored() -> None:
    store = InMemoryJobStore()
    new_job(store)

    def missing(*_: Any) -> Any:
        raise MissingImage(2, "trip", ["scene_1.png"])

    assert JobTaskRunner(store, missing).run("j1") == "failed"
    assert store.get("j1").error["code"] == "missing_image"  # type: ignore[index]

    store2 = InMemoryJobStore()
    new_job(store2)

    def broken(*_: Any) -> Any:
        raise KeyError("oops")

    assert JobTaskRunner(store2, broken).run("j1") == "failed"
    error = store2.get("j1").error
    assert error is not None and error["code"] == "internal_error"
    assert error["details"] == {"type": "KeyError"}


def test_cancel_requested_before_start_renders_nothing() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    new_job(store, cancel_requested=True)
    assert JobTaskRunner(store, work).run("j1") == "cancelled"
    assert work.runs == 0
    assert store.get("j1").error["code"] == "cancelled"  # type: ignore[index]


def test_cancel_flag_set_by_another_process_stops_the_running_job() -> None:
    store = InMemoryJobStore()
    new_job(store)
    started = threading.Event()

    def slow(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        started.set()
        for _ in range(500):  # the pipeline checks its token between steps
            if cancel.wait(0.01):
                raise Cancelled()
        raise AssertionError("never cancelled")

    runner = JobTaskRunner(store, slow, poll=0.02)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(runner.run("j1")))
    thread.start()
    assert started.wait(5)
    assert store.get("j1").status == "running"
    store.update("j1", cancel_requested=True)  # what DELETE /jobs/<id> does
    thread.join(5)
    assert outcome == ["cancelled"]
    job = store.get("j1")
    assert (job.status, job.result) == ("cancelled", None)


def test_progress_write_reading_the_flag_fires_the_token() -> None:
    store = InMemoryJobStore()
    new_job(store)

    def work(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        store.update(job.id, cancel_requested=True)
        progress(ProgressEvent("render", 1, 2, percent=40.0))
        cancel.raise_if_cancelled()
        raise AssertionError("the token did not fire")

    # a watcher that never polls in time: the progress write alone must see the flag
    assert JobTaskRunner(store, work, poll=60).run("j1") == "cancelled"


def test_watcher_keeps_the_lease_fresh() -> None:
    store = InMemoryJobStore()
    new_job(store)
    stamps: list[float] = []

    def quiet(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        for _ in range(4):
            time.sleep(0.1)
            stamps.append(store.get(job.id).updated_at)
        return {"success": True}, []

    JobTaskRunner(store, quiet, heartbeat=0.05, poll=0.02).run("j1")
    assert len(set(stamps)) >= 3  # touched although the work reported no progress


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_duplicate_message_for_a_job_with_a_fresh_lease_is_dropped() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    job = new_job(store)
    running = store.update("j1", status="running")
    clock = FakeClock(running.updated_at + 1.0)
    runner = JobTaskRunner(store, work, lease=10.0, clock=clock.time, sleep=clock.sleep)
    assert runner.run(job.id) == "running"  # acknowledged: the live worker keeps it
    assert work.runs == 0 and store.get("j1") == running


def test_a_running_job_with_an_expired_lease_is_taken_over_at_once() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    new_job(store)
    store.update("j1", status="running", stage="render", percent=30.0)
    clock = FakeClock(store.get("j1").updated_at + 11.0)
    runner = JobTaskRunner(store, work, lease=10.0, poll=0.5, clock=clock.time,
                           sleep=clock.sleep)
    assert runner.run("j1") == "succeeded"
    assert work.runs == 1 and clock.slept == []
    assert any("restarted on another worker" in w for w in store.get("j1").warnings)


def test_two_messages_for_one_queued_job_render_it_once() -> None:
    store = InMemoryJobStore()
    new_job(store)
    started = threading.Event()
    release = threading.Event()
    runs: list[str] = []

    def slow(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        runs.append(job.id)
        started.set()
        release.wait(10)
        return {"success": True}, []

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(JobTaskRunner(store, slow).run("j1")))
    first.start()
    assert started.wait(10)
    # the second message (a re-queue racing the redelivered original) finds it running
    assert JobTaskRunner(store, slow).run("j1") == "running"
    release.set()
    first.join(10)
    assert results == ["succeeded"] and runs == ["j1"]


class FlakyStore(InMemoryJobStore):
    def get(self, job_id: str) -> JobRecord:
        raise ServiceUnavailable("job store", "connection refused")


def test_store_down_is_a_service_unavailable_for_the_task_to_retry() -> None:
    with pytest.raises(ServiceUnavailable):
        JobTaskRunner(FlakyStore(), CountingWork()).run("j1")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stores_keep_the_cancel_flag(kind: str, tmp_path: Path) -> None:
    store: Any = InMemoryJobStore() if kind == "memory" else SqliteJobStore(
        tmp_path / "jobs.sqlite3")
    new_job(store)
    assert store.get("j1").cancel_requested is False
    store.update("j1", cancel_requested=True)
    assert store.get("j1").cancel_requested is True
    assert [j.id for j in store.list(("queued",))] == ["j1"]


def test_sqlite_adds_the_cancel_column_to_an_older_database(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("""CREATE TABLE jobs (id TEXT PRIMARY KEY, folder_id TEXT NOT NULL,
        request TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '',
        percent REAL NOT NULL DEFAULT 0, scenes_done INTEGER NOT NULL DEFAULT 0,
        scenes_total INTEGER NOT NULL DEFAULT 0, eta_seconds REAL,
        warnings TEXT NOT NULL DEFAULT '[]', result TEXT, error TEXT,
        idempotency_key TEXT UNIQUE, created_at REAL NOT NULL, updated_at REAL NOT NULL)""")
    conn.execute("INSERT INTO jobs (id, folder_id, request, status, created_at, updated_at) "
                 "VALUES ('old', 'f', '{}', 'succeeded', 1, 1)")
    conn.commit()
    conn.close()
    store = SqliteJobStore(path)
    assert store.get("old").cancel_requested is False
    assert store.update("old", cancel_requested=True).cancel_requested is True
    store.close()


def test_finish_hook_runs_once_per_ended_job_not_on_redelivery() -> None:
    store, work = InMemoryJobStore(), CountingWork()
    new_job(store)
    ended: list[JobRecord] = []
    runner = JobTaskRunner(store, work, on_finish=ended.append)
    runner.run("j1")
    runner.run("j1")  # redelivered: nothing ended here
    assert [(j.id, j.status) for j in ended] == [("j1", "succeeded")]

    store2 = InMemoryJobStore()
    new_job(store2, cancel_requested=True)

    def broken_hook(job: JobRecord) -> None:
        raise RuntimeError("receiver down")

    assert JobTaskRunner(store2, work, on_finish=broken_hook).run("j1") == "cancelled"


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def submit(self, url: str, payload: dict[str, Any]) -> None:
        self.sent.append((url, payload))


def test_completion_callbacks_post_the_job_as_the_api_shows_it() -> None:
    from videogen_adapters.config import Settings
    from videogen_adapters.executors.celery import completion_callbacks

    sender = RecordingSender()
    hook = completion_callbacks(Settings(public_base_url="https://api.example"), sender)
    store = InMemoryJobStore()
    plain = new_job(store)
    hook(plain)
    assert sender.sent == []  # no callback_url: nothing sent
    with_url = store.create(JobRecord(
        id="j2", folder_id="trip", status="succeeded", result={"success": True},
        request={"generation_params": {"callback_url": "https://hooks.example/done"}}))
    hook(with_url)
    [(url, payload)] = sender.sent
    assert url == "https://hooks.example/done"
    assert (payload["job_id"], payload["status"]) == ("j2", "succeeded")
    assert payload["status_url"] == "https://api.example/jobs/j2"


def test_a_workers_callback_hides_server_paths_as_the_api_does() -> None:
    # the worker's callback body is the API's job JSON: its error scrubbed the same way
    from videogen_adapters.config import Settings
    from videogen_adapters.executors.celery import completion_callbacks

    sender = RecordingSender()
    store = InMemoryJobStore()
    where = "/srv/videogen/.videogen/work/w1/j3/clip_003.mp4"
    failed = store.create(JobRecord(
        id="j3", folder_id="trip", status="failed",
        error={"code": "render_failed", "message": f"ffmpeg could not write {where}",
               "details": {"path": where, "scene": 3}},
        request={"generation_params": {"callback_url": "https://hooks.example/done"}}))
    completion_callbacks(Settings(), sender)(failed)
    [(_, payload)] = sender.sent
    assert payload["error"] == {"code": "render_failed",
                                "message": "ffmpeg could not write …/clip_003.mp4",
                                "details": {"path": "…/clip_003.mp4", "scene": 3}}
    assert "/srv/" not in str(payload)


def test_a_process_exiting_mid_job_queues_it_again() -> None:
    store = InMemoryJobStore()
    new_job(store)

    def exiting(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        progress(ProgressEvent("render", 1, 2, percent=40.0))
        raise SystemExit(1)  # what billiard's SIGTERM handler raises in a pool child

    ended: list[JobRecord] = []
    with pytest.raises(SystemExit):
        JobTaskRunner(store, exiting, on_finish=ended.append).run("j1")
    job = store.get("j1")
    assert (job.status, job.stage, job.percent, job.error) == ("queued", "", 0.0, None)
    assert "interrupted by a worker shutdown; queued again" in job.warnings
    assert ended == []  # not finished: no callback

    # the redelivered message renders it at once (no lease to wait out)
    work = CountingWork()
    assert JobTaskRunner(store, work, sleep=lambda s: pytest.fail("waited")).run("j1") == (
        "succeeded")
    assert work.runs == 1
