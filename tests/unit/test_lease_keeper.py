"""Leases are enforced (issue 12.15): a running job nobody renews is re-queued and
published again, failed after repeated losses, or cancelled when asked — once,
by whoever sees it first; ``GET /jobs/<id>`` shows it stale meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.http.conftest import SEED_BODY, Env

from videogen_adapters.jobs import InMemoryJobStore, SqliteJobStore
from videogen_core import JobRecord
from videogen_jobs.lease import (
    LEASE_SECONDS,
    MAX_REQUEUES,
    REQUEUE_AFTER_SECONDS,
    REQUEUED_NOTE,
    LeaseKeeper,
    is_stale,
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def running_job(store: Any, job_id: str = "j1", **fields: Any) -> JobRecord:
    store.create(JobRecord(id=job_id, folder_id="f", request={}, scenes_total=2))
    return store.update(job_id, status="running", stage="render", percent=40.0,
                        scenes_done=1, **fields)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return InMemoryJobStore() if request.param == "memory" else SqliteJobStore(
        tmp_path / "jobs.sqlite3")


def test_a_job_without_lease_renewal_is_requeued_and_published(store: Any) -> None:
    job = running_job(store)
    clock = Clock(job.updated_at + LEASE_SECONDS + 1)
    published: list[str] = []
    keeper = LeaseKeeper(store, published.append, clock=clock)
    assert is_stale(job, clock()) and keeper.check() == []  # stale, not yet taken
    clock.now = job.updated_at + REQUEUE_AFTER_SECONDS + 1
    [taken] = keeper.check()
    assert taken.status == "queued" and published == ["j1"]
    assert (taken.stage, taken.percent, taken.scenes_done) == ("", 0.0, 0)
    assert taken.warnings[-1].startswith(REQUEUED_NOTE)
    assert keeper.check() == [] and published == ["j1"]  # once


class Snapshot:
    """A store view whose ``list`` returns an earlier snapshot (a keeper that listed
    the running jobs just before something changed); writes go to the store."""

    def __init__(self, store: Any, jobs: list[JobRecord]) -> None:
        self.store = store
        self.jobs = jobs

    def list(self, statuses: Any = ()) -> list[JobRecord]:
        return self.jobs

    def update_if(self, *args: Any, **kw: Any) -> Any:
        return self.store.update_if(*args, **kw)


def test_a_worker_that_renews_in_time_keeps_its_job(store: Any) -> None:
    job = running_job(store)
    store.update("j1")  # the heartbeat, after the keeper listed the jobs
    keeper = LeaseKeeper(Snapshot(store, [job]), lambda _: pytest.fail("published"),
                         clock=Clock(job.updated_at + REQUEUE_AFTER_SECONDS + 1))
    assert keeper.check() == []  # compare-and-set on updated_at: the live worker wins
    assert store.get("j1").status == "running"


def test_two_keepers_take_a_stale_job_once(store: Any) -> None:
    job = running_job(store)
    clock = Clock(job.updated_at + REQUEUE_AFTER_SECONDS + 1)
    published: list[str] = []
    snapshot = store.list(("running",))  # both keepers listed before either claimed
    a = LeaseKeeper(Snapshot(store, snapshot), published.append, clock=clock)
    b = LeaseKeeper(Snapshot(store, snapshot), published.append, clock=clock)
    assert len(a.check()) + len(b.check()) == 1 and published == ["j1"]


def test_repeated_losses_fail_the_job_with_the_reason(store: Any) -> None:
    notes = [f"{REQUEUED_NOTE} (no sign of life for 20 s during render)"] * MAX_REQUEUES
    job = running_job(store, warnings=notes)
    ended: list[JobRecord] = []
    keeper = LeaseKeeper(store, lambda _: pytest.fail("published"), on_end=ended.append,
                         clock=Clock(job.updated_at + REQUEUE_AFTER_SECONDS + 1))
    [failed] = keeper.check()
    assert failed.status == "failed" and failed.error["code"] == "worker_lost"
    assert "stopped renewing its lease" in failed.error["message"]
    assert ended == [failed]


def test_a_cancel_requested_job_whose_worker_died_is_cancelled(store: Any) -> None:
    job = running_job(store, cancel_requested=True)
    keeper = LeaseKeeper(store, lambda _: pytest.fail("published"),
                         clock=Clock(job.updated_at + REQUEUE_AFTER_SECONDS + 1))
    [cancelled] = keeper.check()
    assert cancelled.status == "cancelled" and cancelled.error["code"] == "cancelled"


def test_get_job_shows_a_stale_job_as_stale(tmp_path: Path) -> None:
    from tests.unit.test_celery_http import RecordingDispatcher, make_client

    env = Env(tmp_path, executor="celery")
    env.add_images()
    try:
        dispatcher = RecordingDispatcher()
        app, client = make_client(env, dispatcher)
        job_id = client.post("/generateVideos/trip", json=SEED_BODY,
                             headers={"Prefer": "respond-async"}).get_json()["job_id"]
        store = app.extensions["videogen"].runner.store
        assert client.get(f"/jobs/{job_id}").get_json()["stale"] is False
        store.update(job_id, status="running", stage="render")
        assert client.get(f"/jobs/{job_id}").get_json()["stale"] is False
        # a worker's last renewal long ago (its record's stamp moved back)
        old = store.get(job_id).updated_at - LEASE_SECONDS - 1
        with store._transaction() as conn:
            conn.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (old, job_id))
        shown = client.get(f"/jobs/{job_id}").get_json()
        assert shown["stale"] is True and shown["status"] == "running"
        # the server's own keeper re-queues and publishes it once it is old enough
        keeper = app.extensions["videogen"].lease_keeper
        assert keeper is not None
        keeper.clock = lambda: old + REQUEUE_AFTER_SECONDS + 1
        [taken] = keeper.check()
        assert taken.status == "queued" and dispatcher.submitted[-1] == job_id
        assert client.get(f"/jobs/{job_id}").get_json()["stale"] is False
    finally:
        env.close()
