"""/healthz is served ahead of queued requests (issue 12.4: it always answers)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from videogen_http.dispatch import HealthFirstDispatcher


def channel(command: str, path: str) -> Any:
    return SimpleNamespace(requests=[SimpleNamespace(command=command, path=path)])


def test_a_health_check_jumps_the_queue_everything_else_waits_in_order() -> None:
    dispatcher = HealthFirstDispatcher()  # no threads: tasks stay queued
    posts = [channel("POST", "/generateVideos/f") for _ in range(3)]
    for task in posts:
        dispatcher.add_task(task)
    health = channel("GET", "/healthz")
    dispatcher.add_task(health)
    odd = SimpleNamespace()  # not a waitress channel as expected: queued as usual
    dispatcher.add_task(odd)
    dispatcher.add_task(channel("POST", "/healthz"))
    assert list(dispatcher.queue)[:4] == [health, *posts]
    assert list(dispatcher.queue)[4] is odd and len(dispatcher.queue) == 6
