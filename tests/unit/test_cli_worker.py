"""`videogen worker` takes Celery's --hostname and --queues (issue 13.11)."""

from __future__ import annotations

from typing import Any

import pytest

from videogen_cli.main import main


def test_worker_passes_hostname_and_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    import videogen_adapters.executors.celery as celery_module

    calls: list[dict[str, Any]] = []

    def fake_run_worker(settings: Any, concurrency: int = 1, **kw: Any) -> None:
        calls.append({"concurrency": concurrency, **kw})

    monkeypatch.setattr(celery_module, "run_worker", fake_run_worker)
    assert main(["worker", "--concurrency", "3", "--hostname", "render1@%h",
                 "--queues", "videogen,urgent"]) == 0
    assert main(["worker", "-n", "r2@h", "-Q", "videogen"]) == 0
    assert main(["worker"]) == 0
    assert calls == [
        {"concurrency": 3, "hostname": "render1@%h", "queues": "videogen,urgent"},
        {"concurrency": 1, "hostname": "r2@h", "queues": "videogen"},
        {"concurrency": 1, "hostname": None, "queues": None},
    ]


def test_worker_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    text = capsys.readouterr().out
    assert "--hostname" in text and "--queues" in text


def test_the_dispatcher_sends_the_api_servers_base_url() -> None:
    from videogen_adapters.executors.celery import TASK_NAME, CeleryJobDispatcher

    sent: list[tuple[Any, ...]] = []

    class App:
        def send_task(self, name: str, **kw: Any) -> None:
            sent.append((name, kw["args"], kw["kwargs"], kw["queue"]))

    CeleryJobDispatcher(App(), base_url="https://api.example/").submit("j1")  # type: ignore[arg-type]
    CeleryJobDispatcher(App()).submit("j2")  # type: ignore[arg-type]
    assert sent == [(TASK_NAME, ["j1"], {"base_url": "https://api.example"}, "videogen"),
                    (TASK_NAME, ["j2"], {}, "videogen")]


def test_the_worker_hands_the_base_url_to_work_and_callback() -> None:
    from videogen_adapters.executors.celery import JobTaskRunner
    from videogen_adapters.jobs import InMemoryJobStore
    from videogen_core import JobRecord

    store = InMemoryJobStore()
    store.create(JobRecord(id="j1", folder_id="f", request={}))
    seen: list[Any] = []

    def work(job: Any, progress: Any, cancel: Any, *, base_url: str | None = None) -> Any:
        seen.append(("work", base_url))
        return {"success": True, "video_url": f"{base_url}/media/x.mp4"}, []

    def on_finish(job: Any, *, base_url: str | None = None) -> None:
        seen.append(("callback", base_url))

    runner = JobTaskRunner(store, work, on_finish=on_finish)
    assert runner.run("j1", base_url="http://api:8000") == "succeeded"
    assert seen == [("work", "http://api:8000"), ("callback", "http://api:8000")]
    assert store.get("j1").result == {"success": True,
                                      "video_url": "http://api:8000/media/x.mp4"}


def test_a_republished_job_keeps_the_accepting_servers_base_url() -> None:
    from videogen_adapters.executors.celery import JobTaskRunner
    from videogen_adapters.jobs import InMemoryJobStore
    from videogen_core import JobRecord

    store = InMemoryJobStore()
    store.create(JobRecord(id="j1", folder_id="f", request={}, base_url="http://first:8000"))
    seen: list[Any] = []

    def work(job: Any, progress: Any, cancel: Any, *, base_url: str | None = None) -> Any:
        seen.append(base_url)
        return {"success": True}, []

    # a lease keeper on another API server published it again, with its own base URL
    assert JobTaskRunner(store, work).run("j1", base_url="http://second:8000") == "succeeded"
    assert seen == ["http://first:8000"]
