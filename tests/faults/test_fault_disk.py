"""Fault: the disk fills up under a job (real pipeline: Ken Burns, ffmpeg, synth music).

An unprivileged stand-in for a full disk: the job runs in a child process whose
files may not grow past 256 KiB (``RLIMIT_FSIZE``, with SIGXFSZ ignored so a
write fails with EFBIG the way it fails with ENOSPC on a full disk; ffmpeg
inherits both). The job must fail with a clear error naming the problem, store
nothing, and leave no work directory behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 256 * 1024

CHILD = f"""
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
from videogen_adapters.orchestrator import generate
from videogen_core import VideogenError
try:
    result = generate("trip", json.loads(sys.argv[1]))
except VideogenError as exc:
    print(json.dumps({{"error": exc.to_dict()}}))
else:
    print(json.dumps({{"stored": result.video_key}}))
"""

BODY = {
    "sequence_data": [
        {"scene_number": n, "narration": "Words over the picture.", "duration": 4,
         "clip_action": "zoom in", "music_mood": "calm"} for n in (1, 2)],
    "generation_params": {"transition_type": "crossfade", "seed": 3, "fps": 24},
}


@pytest.mark.parametrize("music", ["synth", "none"])
def test_a_full_disk_fails_the_job_clearly_and_stores_nothing(tmp_path: Path,
                                                              music: str) -> None:
    data = tmp_path / "data"
    (data / "trip").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for n in (1, 2):
        Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(
            data / "trip" / f"scene_{n}.png")
    work = tmp_path / "work"
    env = {**os.environ, "VIDEOGEN_DATA_DIR": str(data), "VIDEOGEN_WIDTH": "320",
           "VIDEOGEN_HEIGHT": "180", "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_MUSIC": music,
           "VIDEOGEN_NARRATOR": "silent", "TMPDIR": str(work),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                          os.environ.get("PYTHONPATH", "")])}
    work.mkdir()
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(BODY)], env=env,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" in answer, answer
    error = answer["error"]
    assert error["code"] in ("render_failed", "storage_failed")
    # said plainly: EFBIG from Python's writes, SIGXFSZ for ffmpeg (subprocess restores
    # that signal's default; on a real full disk ffmpeg reports ENOSPC instead)
    message = error["message"].lower()
    assert "file too large" in message or "file size limit exceeded" in message, message
    assert not (data / "trip" / "videos").exists() or \
        list((data / "trip" / "videos").iterdir()) == []
    assert list(work.iterdir()) == []  # the job's work directory is gone
