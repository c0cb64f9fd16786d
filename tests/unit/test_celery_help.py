"""Helpers of a chunked job without a broker: :meth:`JobTaskRunner.help` over an
in-memory job store with fake work, and the owner's recruiter with a fake Celery app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from videogen_adapters.chunkboard import HelperDone, current_participation
from videogen_adapters.config import Settings
from videogen_adapters.executors.celery import HELP_TASK_NAME, JobTaskRunner, _recruiter
from videogen_adapters.jobs import InMemoryJobStore
from videogen_core import CancelToken, JobRecord, ProgressEvent


class HelperWork:
    """Encodes (pretends to) as a helper: sees its participation, ends in HelperDone
    — or, as a broken pipeline would, returns a result."""

    def __init__(self, outcome: BaseException | None = None) -> None:
        self.outcome = outcome
        self.seen: list[Any] = []

    def __call__(self, job: JobRecord, progress: Callable[[ProgressEvent], None],
                 cancel: CancelToken, **extra: Any) -> tuple[Mapping[str, Any], list[str]]:
        self.seen.append((current_participation(), extra))
        progress(ProgressEvent("render", 1, 2, percent=40.0))
        if self.outcome is not None:
            raise self.outcome
        return {"success": True}, []


def running_job(store: InMemoryJobStore, status: str = "running") -> JobRecord:
    job = store.create(JobRecord(id="j1", folder_id="trip", request={"x": 1}, scenes_total=2,
                                 base_url="http://api:8000"))
    return store.update(job.id, status=status)


def test_a_helper_helps_a_running_job_and_never_writes_its_record() -> None:
    store = InMemoryJobStore()
    before = running_job(store)
    work = HelperWork(HelperDone(3))
    assert JobTaskRunner(store, work).help("j1", worker="w2@host") == "helped"
    [(part, extra)] = work.seen
    assert (part.job, part.worker, part.helper) == ("j1", "w2@host", True)
    assert extra == {"base_url": "http://api:8000"}
    assert store.get("j1") == before  # no progress, no status, no result written
    assert current_participation() is None  # not left behind on the task's thread


def test_no_help_for_a_job_that_is_not_running() -> None:
    for status in ("queued", "succeeded", "failed", "cancelled"):
        store = InMemoryJobStore()
        running_job(store, status)
        work = HelperWork(HelperDone(0))
        assert JobTaskRunner(store, work).help("j1", worker="w2") == "skipped"
        assert work.seen == []


def test_a_helper_whose_work_fails_or_returns_leaves_the_job_alone() -> None:
    for work, outcome in ((HelperWork(RuntimeError("boom")), "failed"),
                          (HelperWork(None), "failed")):
        store = InMemoryJobStore()
        before = running_job(store)
        assert JobTaskRunner(store, work).help("j1", worker="w2") == outcome
        assert store.get("j1") == before


def test_a_helper_stops_when_the_job_ends() -> None:
    store = InMemoryJobStore()
    running_job(store)
    fired: list[bool] = []

    def work(job: JobRecord, progress: Any, cancel: CancelToken, **extra: Any) -> Any:
        store.update("j1", status="succeeded")  # the owner finished meanwhile
        fired.append(cancel.wait(5.0))
        cancel.raise_if_cancelled()
        raise AssertionError("not stopped")

    assert JobTaskRunner(store, work, poll=0.05).help("j1", worker="w2") == "stopped"
    assert fired == [True]


class FakeControl:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def ping(self, timeout: float) -> list[dict[str, Any]]:
        return [{name: {"ok": "pong"}} for name in self.names]


class FakeApp:
    def __init__(self, names: list[str]) -> None:
        self.control = FakeControl(names)
        self.sent: list[tuple[str, list[Any], dict[str, Any], str]] = []

    def send_task(self, name: str, args: list[Any], kwargs: dict[str, Any], queue: str
                  ) -> None:
        self.sent.append((name, args, kwargs, queue))


def recruited(app: FakeApp, wanted: int, **settings: Any) -> list[Any]:
    recruit = _recruiter(app, Settings(**settings), "j1", "http://api", "w1@h")  # type: ignore[arg-type]
    thread = recruit(wanted)
    thread.join(5.0)  # type: ignore[attr-defined]
    return app.sent


def test_the_owner_asks_one_helper_per_other_live_worker() -> None:
    sent = recruited(FakeApp(["w1@h", "w2@h", "w3@h"]), 5)
    assert sent == [(HELP_TASK_NAME, ["j1"], {"base_url": "http://api"}, "videogen")] * 2
    assert recruited(FakeApp(["w1@h", "w2@h", "w3@h"]), 1) == [
        (HELP_TASK_NAME, ["j1"], {"base_url": "http://api"}, "videogen")]  # 2 chunks: 1
    assert recruited(FakeApp(["w1@h"]), 5) == []  # alone


def test_fanout_helpers_setting() -> None:
    assert recruited(FakeApp(["w1@h", "w2@h"]), 5, fanout_helpers=0) == []
    assert len(recruited(FakeApp([]), 5, fanout_helpers=3)) == 3  # no ping needed
    assert len(recruited(FakeApp([]), 2, fanout_helpers=3)) == 2
    read = Settings.from_env({"VIDEOGEN_FANOUT_HELPERS": "4", "VIDEOGEN_CHUNK_LEASE": "7.5"})
    assert (read.fanout_helpers, read.chunk_lease) == (4, 7.5)
    assert Settings().fanout_helpers == -1
