"""Event streams cannot starve a real ``videogen serve`` (issue 12.4).

waitress has ``VIDEOGEN_THREADS`` request threads and an event stream holds one
while it is open. Here: 4 threads, so 2 held slots. The job never ends (Celery
mode on a real Valkey broker with no worker: it stays ``queued``), so its
streams stay open. Two streams are served; the third is refused at once with
503 + Retry-After; ``/healthz`` and ``GET /jobs/<id>`` keep answering; when
the two clients leave, their slots come back (a new stream is served again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.servers import RunningServer, valkey_server, videogen_serve
from tests.test_http_process import photo_png

pytestmark = [pytest.mark.server, pytest.mark.slow]

BODY: dict[str, Any] = {
    "sequence_data": [{"scene_number": 1, "narration": "Hello.", "duration": 2.0,
                       "clip_action": "zoom in", "music_mood": "calm"}],
    "generation_params": {"transition_type": "none", "seed": 1, "fps": 24},
}


@pytest.fixture(scope="module")
def valkey() -> Iterator[RunningServer]:
    with valkey_server() as server:
        yield server


@pytest.fixture
def server(valkey: RunningServer, tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "data" / "one"
    folder.mkdir(parents=True)
    (folder / "scene_1.png").write_bytes(photo_png(1))
    with videogen_serve(tmp_path, {
        "VIDEOGEN_DATA_DIR": str(tmp_path / "data"), "VIDEOGEN_THREADS": "4",
        "VIDEOGEN_EXECUTOR": "celery", "VIDEOGEN_BROKER_URL": valkey.url,
        "VIDEOGEN_JOB_STORE": "sqlite", "VIDEOGEN_NARRATOR": "silent", "VIDEOGEN_MUSIC": "none",
    }) as running:
        yield running.url


class Follower:
    """A client holding an event stream open in a thread until :meth:`leave`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.status: int | None = None
        self.error: Exception | None = None
        self.first = threading.Event()
        self.stop = threading.Event()
        self.client = httpx.Client(timeout=httpx.Timeout(30, read=60))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.client.stream("GET", self.url) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    return
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.first.set()
        except Exception as exc:  # noqa: BLE001 - the connection closed by leave()
            if not self.stop.is_set():
                self.error = exc
        finally:
            self.first.set()

    def leave(self) -> None:
        """Close the connection, as a browser tab that goes away."""
        self.stop.set()
        self.client.close()
        self.thread.join(30)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def quick_get(url: str) -> httpx.Response:
    """A GET that must be answered (a starved server makes it time out)."""
    return httpx.get(url, timeout=5)


def test_streams_beyond_the_slots_are_refused_and_health_still_answers(server: str) -> None:
    accepted = httpx.post(f"{server}/generateVideos/one", json=BODY,
                          headers={"Prefer": "respond-async"}, timeout=30)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    events = f"{server}/jobs/{job_id}/events"

    followers = [Follower(events) for _ in range(2)]
    for follower in followers:
        assert follower.first.wait(20), "a stream within the slots was not served"
        assert follower.status == 200

    refused = quick_get(events)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    error = refused.json()["error"]
    assert error["code"] == "service_unavailable" and error["details"]["retry_after"] == 5
    for _ in range(5):  # the two free threads answer everything else
        assert quick_get(f"{server}/healthz").status_code == 200
        job = quick_get(f"{server}/jobs/{job_id}")
        assert job.status_code == 200 and job.json()["status"] == "queued"

    for follower in followers:
        follower.leave()
    # the clients left: their slots come back (the stream notices the closed connection)
    deadline = time.monotonic() + 20

    def stream_again() -> Follower:
        """A new follower once a freed slot serves it (each departed client's slot is
        noticed on its own, so the second may come back a moment after the first)."""
        while True:
            follower = Follower(events)
            assert follower.first.wait(20)
            if follower.status == 200:
                return follower
            assert time.monotonic() < deadline, "the slots of departed clients were not freed"
            time.sleep(0.2)

    again = stream_again()
    second = stream_again()  # both slots are back
    again.leave()
    second.leave()
