"""/healthz is served ahead of queued requests (issue 12.4: it always answers) — by
the I/O thread itself when it parses one."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from tests.servers import free_port
from tests.unit.http.conftest import SEED_BODY, GateRenderer

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


def test_a_health_check_parsed_by_the_io_thread_goes_back_to_it() -> None:
    dispatcher = HealthFirstDispatcher()
    health = channel("GET", "/healthz")
    health.receiving_in = threading.get_ident()  # the edge channel is parsing it here
    dispatcher.add_task(health)
    assert health.answer_now is True and not dispatcher.queue
    other = channel("GET", "/healthz")  # queued by a task thread (pipelined request)
    other.receiving_in = None
    dispatcher.add_task(other)
    assert not getattr(other, "answer_now", False) and list(dispatcher.queue) == [other]
    post = channel("POST", "/generateVideos/f")
    post.receiving_in = threading.get_ident()  # only health checks are answered there
    dispatcher.add_task(post)
    assert list(dispatcher.queue) == [other, post]


def test_healthz_answers_while_every_task_thread_is_busy(make_env: Any) -> None:
    """A real waitress server with one task thread, held by a synchronous job: the
    I/O thread answers /healthz itself (before, it waited for that thread)."""
    from waitress import wasyncore  # type: ignore[import-untyped]

    from videogen_http.server import make_server

    gate = GateRenderer()
    env = make_env(renderer=gate, threads=1, port=free_port())
    env.add_images()
    server = make_server(env.app(), env.settings)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    base = f"http://127.0.0.1:{env.settings.port}"
    held: list[httpx.Response] = []
    sync = threading.Thread(target=lambda: held.append(
        httpx.post(f"{base}/generateVideos/trip", json=SEED_BODY, timeout=30)))
    try:
        sync.start()
        assert gate.started.wait(10)  # the only task thread now waits for the render
        with pytest.raises(httpx.ReadTimeout):  # any other request waits for that thread
            httpx.get(f"{base}/readyz", timeout=0.5)
        with httpx.Client(timeout=5) as client:  # keep-alive: twice on one connection
            for _ in range(2):
                r = client.get(f"{base}/healthz")
                assert r.status_code == 200 and r.json() == {"status": "ok"}
                assert r.headers["Content-Type"] == "application/json"
        r = httpx.get(f"{base}/healthz", headers={"Connection": "close"}, timeout=5)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert not held  # still rendering: /healthz did not wait for it
    finally:
        gate.release.set()
        sync.join(30)
        server.close()
        wasyncore.close_all(server._map)
        loop.join(10)
    assert held and held[0].status_code == 200
