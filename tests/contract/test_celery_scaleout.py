"""Scale-out with real parts: valkey-server, real ``videogen worker`` processes
(Celery, prefork) and the Flask app configured with ``VIDEOGEN_EXECUTOR=celery``.

1. A job posted in async mode is rendered by a worker; the video plays (PyAV),
   the result is the seed's shape, a second API instance answers for the job,
   and a redelivered message does not render it again.
2. ``DELETE /jobs/<id>`` stops a job running in a worker: ``cancelled``, no video.
3. A worker SIGKILLed mid-job, with the broker's default visibility timeout
   (1 h): the job shows ``stale`` once its lease expires, a lease keeper
   re-queues it and the idle second worker renders it — and, sent SIGTERM
   meanwhile, finishes it before it exits cleanly.
4. SIGTERM to a worker's whole process group mid-job: the worker exits 0, the
   interrupted run removes its work dir, the job is queued again and another
   worker renders it at once (no lease to wait out).

Everything listens on or connects to 127.0.0.1 only; every process is stopped
afterwards, also on failure. Small settings (320x180, ultrafast, silent narrator).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from PIL import Image
from tests.servers import RunningServer, valkey_server

from videogen_adapters.config import Settings
from videogen_adapters.executors.celery import CeleryJobDispatcher, make_celery_app
from videogen_http import create_app
from videogen_jobs.lease import REQUEUED_NOTE

pytestmark = [pytest.mark.server, pytest.mark.slow]

FOLDER = "harbour"


def body(scenes: int, duration: float, seed: int = 3) -> dict[str, Any]:
    """The seed's request body: ``scenes`` scenes of ``duration`` seconds."""
    return {
        "sequence_data": [
            {"scene_number": n, "narration": f"Scene {n}.", "duration": duration,
             "clip_action": "slow zoom in" if n % 2 else "pan right", "music_mood": "calm"}
            for n in range(1, scenes + 1)
        ],
        "generation_params": {"transition_type": "crossfade", "seed": seed, "fps": 24},
    }


def photo_png(seed: int, size: tuple[int, int] = (480, 270)) -> bytes:
    """A noisy two-tone picture (something for the encoder to chew on)."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y = np.linspace(0, 1, h)[:, None, None]
    img = np.concatenate([0.3 + 0.5 * y, 0.5 + 0.2 * y, 0.9 - 0.3 * y], axis=2)
    img = np.broadcast_to(img, (h, w, 3)) + rng.normal(0, 0.05, (h, w, 3))
    out = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def add_images(data_dir: Path, folder: str, count: int) -> None:
    d = data_dir / folder
    d.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        (d / f"scene_{n}.png").write_bytes(photo_png(n))


def videos(data_dir: Path, folder: str) -> list[Path]:
    return sorted((data_dir / folder / "videos").glob("*.mp4"))


# ------------------------------------------------------------------ processes
class Worker:
    """A ``videogen worker`` process in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], cwd: Path, name: str) -> None:
        self.log_path = cwd / f"{name}.log"
        self.tmp = cwd / f"{name}-tmp"  # its own TMPDIR: the pipeline's work dirs
        self.tmp.mkdir()
        env = {**env, "TMPDIR": str(self.tmp)}
        script = Path(sys.executable).with_name("videogen")
        argv = [str(script), "worker"] if script.exists() else [
            sys.executable, "-m", "videogen_cli", "worker"]
        # a node name of our choosing (%h: Celery puts the host name there)
        argv += [f"--hostname={name}-{cwd.name}@%h", "--queues=videogen"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.nodename = f"{name}-{cwd.name}@{socket.gethostname()}"
        self.killed = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, dispatcher: CeleryJobDispatcher, timeout: float = 20.0) -> None:
        """Until the worker answers a Celery ping (it consumes from then on)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log()}")
            replies = dispatcher.app.control.ping(destination=[self.nodename], timeout=0.3)
            if any(self.nodename in r for r in replies):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not answer a ping:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its pool child)."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> bool:
        """SIGTERM (warm shutdown), SIGKILL after 10 s; whether it stopped cleanly
        (exit code 0 on SIGTERM) or was killed on purpose before."""
        if self.killed:
            return True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        return self.process.returncode == 0 and "stopped" in self.log()


class Cluster:
    """Settings shared by the app and its workers, and the workers started."""

    def __init__(self, valkey: RunningServer, root: Path, db: int, broker_query: str = ""
                 ) -> None:
        base = valkey.url.rsplit("/", 1)[0]
        self.store_url = f"{base}/{db}"
        self.broker_url = self.store_url + broker_query
        self.root = root
        self.data_dir = root / "data"
        self.settings = Settings(
            data_dir=self.data_dir, executor="celery", broker_url=self.broker_url,
            job_store="redis", redis_url=self.store_url, narrator="silent", width=320,
            height=180, preset="ultrafast", crf=30, host="127.0.0.1", port=8000)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOGEN_")}
        self.env.update({
            "VIDEOGEN_EXECUTOR": "celery", "VIDEOGEN_BROKER_URL": self.broker_url,
            "VIDEOGEN_JOB_STORE": "redis", "VIDEOGEN_REDIS_URL": self.store_url,
            "VIDEOGEN_DATA_DIR": str(self.data_dir), "VIDEOGEN_NARRATOR": "silent",
            "VIDEOGEN_WIDTH": "320", "VIDEOGEN_HEIGHT": "180", "VIDEOGEN_PRESET": "ultrafast",
            "VIDEOGEN_CRF": "30", "VIDEOGEN_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1",
        })
        self.dispatcher = CeleryJobDispatcher(make_celery_app(self.settings))
        self.workers: list[Worker] = []
        self.apps: list[Flask] = []

    def worker(self) -> Worker:
        w = Worker(self.env, self.root, f"worker{len(self.workers)}")
        self.workers.append(w)
        w.wait_ready(self.dispatcher)
        return w

    def app(self) -> Flask:
        app = create_app(self.settings)
        self.apps.append(app)
        return app

    def close(self) -> None:
        for app in self.apps:
            app.extensions["videogen"].close()
        clean = [w.stop() for w in self.workers]
        self.dispatcher.app.close()
        # every worker alive until now stopped cleanly on SIGTERM (and said so)
        assert all(clean), [w.log()[-2000:] for w, ok in zip(self.workers, clean, strict=True)
                           if not ok]


@pytest.fixture(scope="module")
def valkey() -> Iterator[RunningServer]:
    with valkey_server() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(valkey: RunningServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    c = Cluster(valkey, tmp_path_factory.mktemp("scaleout"), db=0)
    try:
        c.worker()
        yield c
    finally:
        c.close()


def poll(client: Any, job_id: str, *, until: Any, timeout: float, log: Any = None
         ) -> dict[str, Any]:
    """GET /jobs/<id> until ``until(job)``; the job."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.get_json()
        job = response.get_json()
        if until(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck: {job}\n{log() if log else ''}")
        time.sleep(0.05)


def ended(job: dict[str, Any]) -> bool:
    return job["status"] in {"succeeded", "failed", "cancelled"}


def check_video(path: Path, seconds: float) -> None:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert abs(len(frames) / 24 - seconds) < 0.5, len(frames)
    assert frames[len(frames) // 2].std() > 5  # a picture, not a blank frame


# ---------------------------------------------------------------------- tests
def test_worker_renders_an_async_job_any_server_answers(cluster: Cluster) -> None:
    add_images(cluster.data_dir, FOLDER, 2)
    client = cluster.app().test_client()
    response = client.post(f"/generateVideos/{FOLDER}", json=body(2, 2.5),
                           headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]

    job = poll(client, job_id, until=ended, timeout=45, log=cluster.workers[0].log)
    assert job["status"] == "succeeded", job
    assert (job["stage"], job["percent"], job["scenes_done"]) == ("done", 100.0, 2)
    result = job["result"]
    assert result["success"] is True
    assert {"duration", "scenes", "timestamp"} <= set(result["metadata"])
    assert result["metadata"]["scenes"] == 2
    assert result["video_url"].endswith(".mp4")
    # local storage, no VIDEOGEN_PUBLIC_BASE_URL on the worker: the URL is the
    # accepting API server's (http://127.0.0.1:8000), as if it had rendered the job
    assert result["video_url"].startswith(f"http://127.0.0.1:8000/media/{FOLDER}/videos/")
    [video] = videos(cluster.data_dir, FOLDER)
    assert result["video_url"].endswith(video.name)
    check_video(video, result["metadata"]["duration"])
    assert f"job {job_id} running" in cluster.workers[0].log()

    events = client.get(f"/jobs/{job_id}/events").get_data(as_text=True)
    assert '"status": "succeeded"' in events and "event: end" in events

    # /readyz names what runs the jobs: the celery workers, not a local pool
    ready = client.get("/readyz").get_json()
    assert ready["backends"]["executor"]["adapter"] == "celery"
    assert ready["jobs"]["executor"] == "celery" and "max_jobs" not in ready["jobs"]
    assert cluster.workers[0].nodename in ready["jobs"]["worker_names"]

    # another API instance on the same store answers for the job
    other = cluster.app().test_client()
    assert other.get(f"/jobs/{job_id}").get_json()["result"] == result

    # the same message again (a redelivery): acknowledged, not rendered again
    cluster.dispatcher.submit(job_id)
    deadline = time.monotonic() + 15
    while "not rendered again" not in cluster.workers[0].log():
        assert time.monotonic() < deadline, cluster.workers[0].log()
        time.sleep(0.1)
    assert videos(cluster.data_dir, FOLDER) == [video]
    assert client.get(f"/jobs/{job_id}").get_json()["updated_at"] == job["updated_at"]


def test_delete_cancels_a_job_running_in_a_worker(cluster: Cluster) -> None:
    folder = "long"
    add_images(cluster.data_dir, folder, 12)
    client = cluster.app().test_client()
    response = client.post(f"/generateVideos/{folder}", json=body(12, 6.0),
                           headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    poll(client, job_id, until=lambda j: (j["status"] == "running" and j["stage"] == "render")
         or ended(j), timeout=30, log=cluster.workers[0].log)

    deleted = client.delete(f"/jobs/{job_id}")
    assert deleted.status_code == 202, deleted.get_json()
    assert deleted.get_json()["cancel_requested"] is True

    job = poll(client, job_id, until=ended, timeout=20, log=cluster.workers[0].log)
    assert job["status"] == "cancelled", job
    assert job["error"]["code"] == "cancelled"
    assert job["result"] is None
    assert videos(cluster.data_dir, folder) == []
    assert client.delete(f"/jobs/{job_id}").status_code == 200  # already cancelled


def rendering_job(cluster: Cluster, scene_seconds: float, seed: int) -> tuple[Worker, Any, str]:
    """One worker, and a 4-scene async job it has started rendering: ``(worker,
    client, job_id)``. Scenes must be long enough for the job to still be rendering
    when the test interrupts it (streamed jobs of 4 x 4 s take ~2 s here)."""
    add_images(cluster.data_dir, FOLDER, 4)
    worker = cluster.worker()
    client = cluster.app().test_client()
    response = client.post(f"/generateVideos/{FOLDER}", json=body(4, scene_seconds, seed=seed),
                           headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    poll(client, job_id, until=lambda j: j["stage"] in {"render", "mux"} or ended(j),
         timeout=30, log=worker.log)
    return worker, client, job_id


def test_a_killed_workers_job_is_requeued_within_the_lease_not_the_visibility_timeout(
        valkey: RunningServer, tmp_path: Path) -> None:
    # the broker's default visibility timeout (1 h): its redelivery never comes here
    cluster = Cluster(valkey, tmp_path, db=1)
    try:
        first, client, job_id = rendering_job(cluster, 30.0, seed=9)
        second = cluster.worker()  # idle (prefetch 1): the job stays with the first
        first.kill()
        killed_at = time.monotonic()
        job = client.get(f"/jobs/{job_id}").get_json()
        assert job["status"] == "running", job  # killed mid-job, nobody finished it
        work = cluster.data_dir / ".videogen" / "work"
        left = [d for d in work.iterdir() if list(d.glob("videogen-*"))]
        assert left  # SIGKILL: its job's work dir is left behind, under the work root ...
        assert not list(first.tmp.glob("videogen-*"))  # ... not in /tmp

        # no renewal: GET /jobs shows it stale, then a lease keeper (this API server's
        # or the second worker's) re-queues it and the second worker renders it
        stale = poll(client, job_id, timeout=60, log=second.log,
                     until=lambda j: j["stale"] or j["status"] != "running")
        assert stale["stale"] is True and stale["status"] == "running", stale
        job = poll(client, job_id, timeout=60, log=second.log,
                   until=lambda j: ended(j) or (j["status"] == "running" and any(
                       w.startswith(REQUEUED_NOTE) for w in j["warnings"])))
        assert job["status"] == "running" and not job["stale"], job
        requeued_after = time.monotonic() - killed_at
        assert f"job {job_id} running" in second.log()

        # SIGTERM to the worker's main process (docker stop, systemd's main PID):
        # warm shutdown — no new job is taken, the running one is finished first
        os.kill(second.process.pid, signal.SIGTERM)
        job = poll(client, job_id, until=ended, timeout=60, log=second.log)
        assert job["status"] == "succeeded", job
        assert sum(w.startswith(REQUEUED_NOTE) for w in job["warnings"]) == 1, job
        assert second.process.wait(15) == 0
        assert "Warm shutdown" in second.log()
        [video] = videos(cluster.data_dir, FOLDER)
        check_video(video, job["result"]["metadata"]["duration"])
        assert all(d.exists() for d in left)  # the second worker started before the kill
        cluster.worker()  # a (re)starting worker (or API server) sweeps the work root
        assert not any(d.exists() for d in left)
        print(f"killed worker's job re-queued and running again after {requeued_after:.1f} s")
    finally:
        cluster.close()


def test_sigterm_to_the_worker_group_requeues_the_running_job(
        valkey: RunningServer, tmp_path: Path) -> None:
    cluster = Cluster(valkey, tmp_path, db=2)
    try:
        # the longer job: a second worker starts before the signal is sent
        first, client, job_id = rendering_job(cluster, 30.0, seed=5)
        second = cluster.worker()  # idle: prefetch 1 keeps the job with the first

        # SIGTERM to the whole group (systemd's default): the pool child too
        os.killpg(first.process.pid, signal.SIGTERM)
        assert first.process.wait(20) == 0, first.log()
        assert "queued again" in first.log()

        job = poll(client, job_id, until=ended, timeout=90, log=second.log)
        assert job["status"] == "succeeded", job
        assert "interrupted by a worker shutdown; queued again" in job["warnings"]
        assert f"job {job_id} running" in second.log()
        assert "taking over" not in second.log()  # queued again: no lease to wait out
        [video] = videos(cluster.data_dir, FOLDER)
        check_video(video, job["result"]["metadata"]["duration"])
        # the interrupted run cleaned up: no job dir in the work root, nothing in /tmp
        work = cluster.data_dir / ".videogen" / "work"
        assert not list(work.glob("*/videogen-*"))
        assert not list(first.tmp.glob("videogen-*"))
    finally:
        cluster.close()
