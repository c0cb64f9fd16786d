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
