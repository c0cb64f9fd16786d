"""Cancelling a job in the narrate stage stops its Piper work at once (real Piper).

Before: the narrator never saw the token, so a cancelled job's narration ran
to its end on the shared pool (the job read ``cancelled`` ~30 s later and its
Piper work went on starving other jobs). Now the pipeline hands the token to
the narrator, which checks it before every model run (one sentence or clause).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_adapters.tts import PiperNarrator
from videogen_core import Cancelled, CancelToken, GenerationParams, Scene, Sequence
from videogen_core.pipeline import VideoPipeline


class CountingPiper(PiperNarrator):
    """Real Piper that counts model runs, and those begun after ``token`` fired."""

    def __init__(self, token: CancelToken, cancel_after: int) -> None:
        super().__init__()
        self.token = token
        self.cancel_after = cancel_after
        self.lock = threading.Lock()
        self.runs = 0
        self.runs_after_cancel = 0
        self.cancelled_at: float | None = None

    def _infer(self, *args: Any) -> np.ndarray:  # type: ignore[override]
        with self.lock:
            self.runs += 1
            if self.token.cancelled:
                self.runs_after_cancel += 1
            fire = self.runs == self.cancel_after
        if fire:
            self.cancelled_at = time.monotonic()
            self.token.cancel()  # as DELETE /jobs/<id> does, from another thread
        return super()._infer(*args)  # type: ignore[arg-type]


@pytest.mark.timeout(120)
def test_cancel_in_the_narrate_stage_stops_piper_between_pieces(tmp_path: Path) -> None:
    sentences = " ".join(f"This is sentence number {i} of a long narration." for i in range(60))
    assert len(sentences) > 2500
    token = CancelToken()
    narrator = CountingPiper(token, cancel_after=4)
    pool = ThreadPoolExecutorAdapter(2)
    storage = InMemoryStorage({"f/scene_1.png": b"a", "f/scene_2.png": b"b"})
    pipeline = VideoPipeline(storage=storage, renderer=FakeClipRenderer(), narrator=narrator,
                             music=FakeMusicSource(), muxer=FakeMuxer(), executor=pool,
                             workdir=tmp_path / "work")
    sequence = Sequence([Scene(1, sentences, 5.0), Scene(2, sentences, 5.0)],
                        GenerationParams("none"))
    stages: list[str] = []
    try:
        with pytest.raises(Cancelled):
            pipeline.run("f", sequence, cancel=token, progress=lambda e: stages.append(e.stage))
        stopped = time.monotonic()
        runs_at_return = narrator.runs
        time.sleep(0.5)  # nothing of this job may still be running on the pool
        assert narrator.runs == runs_at_return
    finally:
        pool.shutdown()
    assert "narrate" in stages and "render" not in stages
    # each worker may have been between its check and its run when the token fired:
    # at most one run per worker begins after cancel; none once run() has returned
    assert narrator.runs_after_cancel <= pool.workers
    assert narrator.runs <= 4 + pool.workers  # of the ~120 runs the two scenes need
    assert narrator.cancelled_at is not None
    assert stopped - narrator.cancelled_at < 5  # liveness only (was ~30 s)
    assert list(storage.list("f/videos")) == []
    assert not any((tmp_path / "work").iterdir())


@pytest.mark.timeout(300)
def test_cancelled_jobs_free_the_server_for_the_next_one(tmp_path: Path) -> None:
    """The issue's scenario over HTTP: two jobs with long narrations are cancelled in
    the narrate stage; both read ``cancelled`` and their Piper work stops, so a
    small job submitted next finishes (it used to wait 3+ minutes)."""
    from tests.unit.http.conftest import Env, wait_for

    narrator = CountingPiper(CancelToken(), cancel_after=-1)  # counts only
    env = Env(tmp_path, max_jobs=2)
    env.add_images(count=2)
    env.pipeline = VideoPipeline(storage=env.storage, renderer=FakeClipRenderer(),
                                 narrator=narrator, music=FakeMusicSource(), muxer=FakeMuxer(),
                                 executor=env.executor, workdir=env.workdir)
    client = env.app().test_client()
    long_text = " ".join(f"Sentence number {i} of a very long narration." for i in range(80))

    def body(text: str) -> dict[str, Any]:
        return {"sequence_data": [{"scene_number": n, "narration": text, "duration": 3,
                                   "clip_action": "", "music_mood": ""} for n in (1, 2)],
                "generation_params": {"transition_type": "none", "seed": 1, "fps": 24}}

    try:
        heavy = [client.post("/generateVideos/trip?async=true", json=body(long_text))
                 .get_json()["job_id"] for _ in range(2)]
        for job_id in heavy:
            wait_for(client, job_id, ("running",), stage="narrate", timeout=60)
        for job_id in heavy:
            assert client.delete(f"/jobs/{job_id}").status_code in (200, 202)
        for job_id in heavy:
            assert wait_for(client, job_id, timeout=30)["status"] == "cancelled"
        runs_when_cancelled = narrator.runs
        small = client.post("/generateVideos/trip?async=true", json=body("Short."))
        done = wait_for(client, small.get_json()["job_id"], timeout=60)
    finally:
        env.close()
    assert done["status"] == "succeeded"
    # the small job's two one-sentence scenes are the only runs after the cancels
    assert narrator.runs == runs_when_cancelled + 2
    assert runs_when_cancelled < 4 * 80 // 2  # far from the heavy jobs' 320 runs
