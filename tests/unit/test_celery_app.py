"""The Celery app factory, broker URL options, the dispatcher's error translation
and lazy imports — no broker needed (a closed port stands for a broker that is down)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.servers import free_port

from videogen_adapters.config import Settings
from videogen_adapters.executors.celery import (
    QUEUE,
    TASK_NAME,
    CeleryJobDispatcher,
    make_celery_app,
    run_worker,
    split_broker_url,
)
from videogen_core import InvalidRequest, ServiceUnavailable


def test_app_settings_for_reliable_delivery() -> None:
    app = make_celery_app(Settings(broker_url="redis://127.0.0.1:6390/2"))
    conf = app.conf
    assert conf.broker_url == "redis://127.0.0.1:6390/2"
    assert (conf.task_serializer, conf.result_serializer, conf.accept_content) == (
        "json", "json", ["json"])
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_default_queue == QUEUE
    task = app.tasks[TASK_NAME]
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert conf.broker_transport_options["visibility_timeout"] == 3600.0


def test_transport_options_come_from_the_broker_url_query() -> None:
    url, options = split_broker_url(
        "redis://:secret@h:6379/0?visibility_timeout=7200&unacked_restore_interval=2"
        "&ssl_cert_reqs=required")
    assert url == "redis://:secret@h:6379/0?ssl_cert_reqs=required"  # kombu's own kept
    assert options["visibility_timeout"] == 7200.0
    assert options["unacked_restore_interval"] == 2.0
    assert options["unacked_restore_throttle"] == 1
    with pytest.raises(InvalidRequest, match="visibility_timeout"):
        split_broker_url("redis://h/0?visibility_timeout=soon")
    with pytest.raises(InvalidRequest, match="positive"):
        split_broker_url("redis://h/0?visibility_timeout=0")


def test_enqueue_with_the_broker_down_is_service_unavailable() -> None:
    app = make_celery_app(Settings(broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    dispatcher = CeleryJobDispatcher(app)
    with pytest.raises(ServiceUnavailable) as info:
        dispatcher.submit("job1")
    assert info.value.details["service"] == "broker"
    with pytest.raises(ServiceUnavailable):
        dispatcher.check()
    dispatcher.revoke("job1")  # best effort: logs, does not raise
    app.close()


def test_a_worker_refuses_a_process_local_job_store() -> None:
    with pytest.raises(InvalidRequest, match="shared job store"):
        run_worker(Settings(job_store="memory", executor="celery"))


def test_importing_builds_nothing_and_app_is_made_lazily() -> None:
    code = (
        "import sys, os\n"
        "import videogen_adapters.executors.celery as m\n"
        "assert 'celery' not in sys.modules, 'celery imported at import time'\n"
        "os.environ['VIDEOGEN_BROKER_URL'] = 'redis://127.0.0.1:6391/3'\n"
        "app = m.app\n"
        "assert m.app is app\n"
        "print(app.conf.broker_url, 'videogen.render_job' in app.tasks)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["redis://127.0.0.1:6391/3", "True"]
