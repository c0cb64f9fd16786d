"""Fault: ffmpeg is killed (SIGKILL) while it encodes a job (real Ken Burns + muxer).

The job ends ``failed`` with a render error naming ffmpeg in its record, no
video (or caption) is stored, and the job's work directory is removed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.unit.http.conftest import Env, wait_for

from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.tts import SilentNarrator
from videogen_core.pipeline import VideoPipeline

pytestmark = pytest.mark.slow


def ffmpeg_children() -> list[int]:
    """Pids of ffmpeg processes whose parent is this process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == os.getpid() and "ffmpeg" in comm:
            found.append(int(entry))
    return found


def test_ffmpeg_killed_mid_render_fails_the_job_cleanly(tmp_path: Path) -> None:
    env = Env(tmp_path, width=320, height=180, preset="veryslow", crf=5)
    env.add_images(count=2)
    env.pipeline = VideoPipeline(
        storage=env.storage, renderer=KenBurnsClipRenderer(), narrator=SilentNarrator(),
        music=None, muxer=FfmpegMuxer(), executor=env.executor,
        video=env.settings.video(), animation=env.settings.animation(),
        audio=env.settings.audio(), workdir=env.workdir)
    client = env.app().test_client()
    body = {"sequence_data": [
        {"scene_number": n, "narration": "Words.", "duration": 20, "clip_action": "zoom in",
         "music_mood": ""} for n in (1, 2)],
        "generation_params": {"transition_type": "crossfade", "seed": 1, "fps": 24}}
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in ffmpeg_children():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        response = client.post("/generateVideos/trip?async=true", json=body)
        assert response.status_code == 202, response.get_json()
        job = wait_for(client, response.get_json()["job_id"], timeout=120)
        thread.join()
    finally:
        env.close()
    assert killed, "no ffmpeg process was seen"
    assert job["status"] == "failed"
    error: dict[str, Any] = job["error"]
    assert error["code"] == "render_failed"
    assert "ffmpeg was killed by signal SIGKILL" in error["message"]
    assert "Traceback" not in str(error) and str(tmp_path) not in error["message"]
    assert list((env.settings.data_dir / "trip").glob("videos/*")) == []
    assert not env.workdir.exists() or list(env.workdir.iterdir()) == []
