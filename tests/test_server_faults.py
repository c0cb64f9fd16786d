"""A real ``videogen serve`` killed and stopped mid-job (issue 12.13 and the fault tests).

1. ``kill -9`` with one job rendering and two queued: the job's work dir (with
   its partial files) is left under ``<DATA_DIR>/.videogen/work`` — not in
   ``/tmp`` — and the restarted server removes it at start and resumes all
   three jobs (each says so in its warnings).
2. SIGTERM while a job renders: the server exits 0, the job is stored
   ``queued`` again (not cancelled, not failed) and no work dir is left.
3. The next start finishes every job; once idle and stopped, the work root is
   empty.

Small settings keep it light (320x180, ultrafast, silent narrator, no music).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.servers import free_port
from tests.test_http_process import command, photo_png

pytestmark = [pytest.mark.server, pytest.mark.slow]


def scenes(count: int, seconds: float) -> dict[str, Any]:
    return {"sequence_data": [
        {"scene_number": n, "narration": f"Scene {n}.", "duration": seconds,
         "clip_action": "slow zoom in" if n % 2 else "pan left", "music_mood": "calm"}
        for n in range(1, count + 1)],
        "generation_params": {"transition_type": "crossfade", "seed": 11, "fps": 24}}


class Server:
    """``videogen serve`` on a free port, in its own process group."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOGEN_")}
        env.update({
            "VIDEOGEN_DATA_DIR": str(root / "data"), "VIDEOGEN_PORT": str(self.port),
            "VIDEOGEN_HOST": "127.0.0.1", "VIDEOGEN_NARRATOR": "silent",
            "VIDEOGEN_MUSIC": "none", "VIDEOGEN_WIDTH": "320", "VIDEOGEN_HEIGHT": "180",
            "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_CRF": "30", "VIDEOGEN_MAX_JOBS": "1",
            "VIDEOGEN_THREADS": "4", "PYTHONUNBUFFERED": "1", "TMPDIR": str(root / "tmp"),
        })
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command(), env=env, cwd=root, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)

    def log(self) -> str:
        """The server's log, whitespace collapsed (rich wraps long lines)."""
        return " ".join(self.log_path.read_text(errors="replace").split())

    def job(self, job_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/jobs/{job_id}", timeout=10)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait(self, job_id: str, until: Callable[[dict[str, Any]], bool],
             timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if until(job):
                return job
            assert time.monotonic() < deadline, (job, self.log()[-3000:])
            time.sleep(0.05)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        os.killpg(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(30)


def ended(job: dict[str, Any]) -> bool:
    return job["status"] in {"succeeded", "failed", "cancelled"}


def rendering(job: dict[str, Any]) -> bool:
    return ended(job) or (job["stage"] == "render" and job["frames_done"] > 0)


def test_kill_and_sigterm_mid_job_resume_every_job_and_leave_no_files(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    folder = tmp_path / "data" / "coast"
    folder.mkdir(parents=True)
    for n in range(1, 5):
        (folder / f"scene_{n}.png").write_bytes(photo_png(n))
    work = tmp_path / "data" / ".videogen" / "work"
    async_ = {"Prefer": "respond-async"}

    first = Server(tmp_path, "first")
    try:
        ids = []
        for body in (scenes(4, 12.0), scenes(2, 2.0), scenes(2, 2.5)):
            response = httpx.post(f"{first.url}/generateVideos/coast", json=body,
                                  headers=async_, timeout=30)
            assert response.status_code == 202, response.text
            ids.append(response.json()["job_id"])
        long_id = ids[0]
        job = first.wait(long_id, rendering)
        assert job["status"] == "running", job  # still rendering when killed
        assert [first.job(i)["status"] for i in ids[1:]] == ["queued", "queued"]
    finally:
        first.kill()
    # kill -9: the job's work dir and its partial files stay behind — in the work root
    left = [d for d in work.iterdir() if list(d.glob("videogen-*/*"))]
    assert left, sorted(work.rglob("*"))
    assert not list((tmp_path / "tmp").iterdir())

    second = Server(tmp_path, "second")
    try:
        assert not any(d.exists() for d in left)  # swept at start
        job = second.wait(long_id, rendering)
        assert any("resumed after a server restart (it was running (render))" in w
                   for w in job["warnings"]), job
        # SIGTERM mid-render: a clean exit, the job waits for the next start
        assert second.terminate() == 0, second.log()[-3000:]
    finally:
        if second.proc.poll() is None:
            second.kill()
    assert not list(work.glob("*/videogen-*")), sorted(work.rglob("*"))
    assert not list(work.iterdir()), sorted(work.iterdir())  # its process dir went too
    assert "interrupted by the shutdown; queued again" in second.log()

    third = Server(tmp_path, "third")
    try:
        finals = [third.wait(i, ended, timeout=180) for i in ids]
        assert [j["status"] for j in finals] == ["succeeded"] * 3, finals
        for job in finals:  # every job says what happened to it
            assert any("resumed after a server restart" in w for w in job["warnings"]), job
            assert job["scenes_done"] == job["scenes_total"]
        assert "interrupted by a server shutdown; queued again" in finals[0]["warnings"]
        videos = sorted((tmp_path / "data" / "coast" / "videos").glob("*.mp4"))
        assert len(videos) == 3  # each job stored its video once
        assert not list(work.glob("*/videogen-*"))  # idle: no job dir
        assert third.terminate() == 0
    finally:
        if third.proc.poll() is None:
            third.kill()
    assert not list(work.iterdir())
    assert not list((tmp_path / "tmp").iterdir())  # nothing ever went to /tmp
