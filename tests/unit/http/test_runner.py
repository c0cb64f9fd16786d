"""The job runner on its own, and the one-server-per-data-dir lock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.unit.http.conftest import SEED_BODY

from videogen_adapters.jobs import InMemoryJobStore
from videogen_core import Busy, CancelToken, JobRecord, RenderFailed, ServiceUnavailable
from videogen_jobs.runner import JobRunner


class Work:
    """Job work that waits for ``go`` and then succeeds (or raises ``fail``)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.go = threading.Event()
        self.fail = fail
        self.ran: list[str] = []

    def __call__(self, job: JobRecord, progress: Any, cancel: CancelToken
                 ) -> tuple[dict[str, Any], list[str]]:
        self.ran.append(job.id)
        self.go.wait(10)
        if self.fail is not None:
            raise self.fail
        return {"success": True}, ["note"]


def test_busy_suggests_retry_after_from_finished_jobs() -> None:
    runner = JobRunner(InMemoryJobStore(), Work(), max_jobs=2, max_queue=1, retry_after=7)
    assert runner.suggested_retry_after() == 7
    runner._record_duration(30.0)
    assert runner.suggested_retry_after() == 15  # 30 s per job over 2 slots
    runner._record_duration(10.0)
    assert runner.suggested_retry_after() == 12  # moving average 24 s over 2 slots


def test_queue_bound_and_failures_are_recorded() -> None:
    work = Work(fail=RenderFailed("mux", "ffmpeg exited 1"))
    finished: list[JobRecord] = []
    runner = JobRunner(InMemoryJobStore(), work, max_jobs=1, max_queue=1,
                       on_finish=finished.append)
    first, created = runner.create("f", {"a": 1}, scenes_total=1)
    assert created
    while not work.ran:
        runner.wait_for_change(0.05)
    second, _ = runner.create("f", {"a": 2})
    with pytest.raises(Busy) as refused:
        runner.create("f", {"a": 3})
    assert refused.value.retry_after >= 1
    work.go.set()
    done = runner.wait(first.id, timeout=10)
    assert done.status == "failed"
    assert done.error["code"] == "render_failed"
    assert runner.wait(second.id, timeout=10).status == "failed"
    assert {j.id for j in finished} == {first.id, second.id}
    runner.shutdown()


def test_a_second_server_on_the_same_data_dir_refuses_to_start(make_env: Any) -> None:
    env = make_env()
    first = env.app()
    with pytest.raises(ServiceUnavailable) as refused:
        env.app()
    assert "another videogen server" in refused.value.message
    first.extensions["videogen"].close()
    env.app()  # free again once the first one is gone


def test_a_job_running_elsewhere_cannot_be_cancelled_from_here() -> None:
    from videogen_jobs.errors import Conflict

    store = InMemoryJobStore()
    store.create(JobRecord(id="elsewhere", folder_id="f", request={}, status="running"))
    runner = JobRunner(store, Work())
    with pytest.raises(Conflict):
        runner.cancel("elsewhere")
    assert store.get("elsewhere").status == "running"


class _Dispatcher:
    """Remote mode without a broker: remembers the jobs handed over."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, job_id: str) -> None:
        self.submitted.append(job_id)

    def revoke(self, job_id: str) -> None:
        """Nothing to drop."""


def test_remote_mode_bound_is_shared_by_servers_on_one_redis_store() -> None:
    from tests.servers import valkey_server

    from videogen_adapters.jobs.redis import RedisJobStore

    with valkey_server() as server:
        stores = [RedisJobStore.from_url(server.url, prefix="bound:") for _ in range(2)]
        dispatcher = _Dispatcher()
        one, two = (JobRunner(s, Work(), max_queue=2, retry_after=3, dispatcher=dispatcher)
                    for s in stores)
        first, _ = one.create("f", {"a": 1}, idempotency_key="k")
        two.create("f", {"a": 2})
        for runner in (one, two):  # each server sees the other's waiting job
            with pytest.raises(Busy) as refused:
                runner.create("f", {"a": 3})
            assert refused.value.retry_after == 3
        assert two.create("f", {"a": 9}, idempotency_key="k") == (first, False)
        assert len(stores[0].list()) == 2 and len(dispatcher.submitted) == 2
        stores[1].update(first.id, status="running")  # a worker took it
        _, created = two.create("f", {"a": 4})
        assert created and len(dispatcher.submitted) == 3
        with pytest.raises(Busy):
            one.create("f", {"a": 5})
        for s in stores:
            s.close()


def test_remote_mode_bound_holds_when_servers_accept_at_the_same_instant() -> None:
    """The bound is checked and the job stored in one store transaction: servers
    racing for the last places never queue more than ``max_queue`` jobs."""
    import threading

    from tests.servers import valkey_server

    from videogen_adapters.jobs.redis import RedisJobStore

    with valkey_server() as server:
        stores = [RedisJobStore.from_url(server.url, prefix="race:") for _ in range(4)]
        dispatcher = _Dispatcher()
        runners = [JobRunner(s, Work(), max_queue=5, retry_after=2, dispatcher=dispatcher)
                   for s in stores]
        created: list[str] = []
        busy: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def submit(runner: JobRunner) -> None:
            start.wait()
            for n in range(4):
                try:
                    job, _ = runner.create("f", {"n": n})
                except Busy as exc:
                    with lock:
                        busy.append(exc.retry_after)
                else:
                    with lock:
                        created.append(job.id)

        threads = [threading.Thread(target=submit, args=(runners[i % 4],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(created) == 5 and len(busy) == 27 and set(busy) == {2}
        assert sorted(dispatcher.submitted) == sorted(created)
        assert stores[0].count("queued") == 5
        for s in stores:
            s.close()


def test_shutdown_for_exit_queues_running_jobs_again_but_keeps_user_cancels() -> None:
    started = threading.Event()

    def until_cancelled(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        started.set()
        while not cancel.wait(0.01):
            pass
        from videogen_core import Cancelled

        raise Cancelled()

    store = InMemoryJobStore()
    finished: list[JobRecord] = []
    runner = JobRunner(store, until_cancelled, max_jobs=2, on_finish=finished.append)
    interrupted, _ = runner.create("f", {"a": 1})
    assert started.wait(10)
    started.clear()
    cancelled, _ = runner.create("f", {"a": 2})
    assert started.wait(10)
    runner.cancel(cancelled.id)  # the user's cancel ...
    runner.wait(cancelled.id, timeout=10)
    runner.shutdown(10.0, requeue=True)  # ... then SIGTERM
    job = store.get(interrupted.id)
    assert job.status == "queued" and job.stage == "" and job.percent == 0.0
    assert job.warnings[-1] == "interrupted by a server shutdown; queued again"
    assert store.get(cancelled.id).status == "cancelled"
    assert [j.id for j in finished] == [cancelled.id]  # no callback for the re-queued job


def test_jobs_render_nicer_than_requests_are_handled(make_env: Any) -> None:
    """The job's thread, the render threads it starts and their child processes
    (ffmpeg) run JOB_NICENESS steps nicer; the request side keeps its niceness."""
    import os
    import subprocess

    from videogen_adapters.fakes import FakeClipRenderer
    from videogen_http.service import JOB_NICENESS

    seen: list[tuple[int, int]] = []

    class NicenessRenderer(FakeClipRenderer):
        def render(self, request: Any, output_path: Any, **kw: Any) -> Any:
            thread = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            child = int(subprocess.run(["nice"], capture_output=True, text=True,
                                       check=True).stdout)  # coreutils: prints its niceness
            seen.append((thread, child))
            return super().render(request, output_path, **kw)

    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    env = make_env(renderer=NicenessRenderer())
    env.add_images()
    client = env.app().test_client()
    r = client.post("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 200
    expected = min(19, here + JOB_NICENESS)
    assert JOB_NICENESS > 0 and seen and all(s == (expected, expected) for s in seen), seen
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here
