"""One chunked job on two real ``videogen worker`` processes (Celery, prefork) over a
real valkey-server: the job's owner asks the other worker for help, both encode
chunks (the chunk records on the board name both), and one of them is SIGKILLed
in the middle of a chunk:

1. the helper: the owner encodes that chunk once its claim lapses;
2. the owner: the lease keepers queue the job again, the surviving worker runs
   it and takes the finished chunks from the cache.

Either way the video has every frame and no chunk was encoded to the end twice.

Small settings (320x180, silent narrator); the preset is slower than the other
scale-out tests' so a chunk takes long enough to be killed in the middle of.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.contract.test_celery_scaleout import (
    Cluster,
    Worker,
    add_images,
    ended,
    poll,
    videos,
)
from tests.servers import RunningServer, valkey_server

from videogen_adapters.chunkboard import ChunkRecord, encode_counts
from videogen_adapters.chunkboard.redis import RedisChunkBoard
from videogen_jobs.lease import REQUEUED_NOTE

pytestmark = [pytest.mark.server, pytest.mark.slow]

FOLDER = "fanout"
SCENES = 12
SECONDS = 3.0


def body() -> dict[str, Any]:
    return {
        "sequence_data": [
            {"scene_number": n, "narration": f"Scene {n}.", "duration": SECONDS,
             "clip_action": "slow zoom in" if n % 2 else "pan right", "music_mood": "calm"}
            for n in range(1, SCENES + 1)
        ],
        "generation_params": {"transition_type": "none", "seed": 11, "fps": 24},
    }


@pytest.fixture(scope="module")
def valkey() -> Iterator[RunningServer]:
    with valkey_server() as server:
        yield server


def frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


class Spread:
    """A cluster of two workers with a chunked job spread over both."""

    def __init__(self, valkey: RunningServer, root: Path, db: int) -> None:
        self.cluster = Cluster(valkey, root, db=db)
        self.cluster.env.update({
            "VIDEOGEN_RENDER_MODE": "chunked", "VIDEOGEN_WORKERS": "1",  # one encode at once
            "VIDEOGEN_CHUNK_LEASE": "3", "VIDEOGEN_PRESET": "slow", "VIDEOGEN_CRF": "18",
        })
        self.board = RedisChunkBoard.from_url(self.cluster.broker_url)
        add_images(self.cluster.data_dir, FOLDER, SCENES)
        self.workers = [self.cluster.worker(), self.cluster.worker()]
        self.client = self.cluster.app().test_client()
        response = self.client.post(f"/generateVideos/{FOLDER}", json=body(),
                                    headers={"Prefer": "respond-async"})
        assert response.status_code == 202, response.get_json()
        self.job_id: str = response.get_json()["job_id"]

    def logs(self) -> str:
        return "\n".join(w.log()[-3000:] for w in self.workers)

    def wait_until_mid_chunk(self, busy: str) -> tuple[Worker, Worker, ChunkRecord]:
        """Until each worker finished a chunk and ``busy`` (``owner`` or ``helper``) is in
        the middle of another; ``(owner, helper, the record of that chunk)``."""
        deadline = time.monotonic() + 90
        while True:
            records = self.board.records(self.job_id)
            owner = next((w for w in self.workers
                          if f"job {self.job_id} running" in w.log()), None)
            if owner is not None:
                helper = next(w for w in self.workers if w is not owner)
                mine = {w.nodename: [r for r in records if r.worker == w.nodename]
                        for w in self.workers}
                watched = owner if busy == "owner" else helper
                if (all(any(r.finished for r in rs) for rs in mine.values())
                        and mine[watched.nodename][-1].finished is None):
                    return owner, helper, mine[watched.nodename][-1]
            assert time.monotonic() < deadline, f"{records}\n{self.logs()}"
            job = self.client.get(f"/jobs/{self.job_id}").get_json()
            assert not ended(job), (records, self.logs())
            time.sleep(0.02)

    def check(self, owner: Worker, helper: Worker, killed: ChunkRecord) -> dict[str, Any]:
        """The job succeeded with every frame; every chunk encoded to the end once; the
        one encode left unfinished is ``killed``'s. The job as the API shows it."""
        job = poll(self.client, self.job_id, until=ended, timeout=120, log=self.logs)
        assert job["status"] == "succeeded", job
        records = self.board.records(self.job_id)
        counts = encode_counts(records)
        # every chunk encoded to the end exactly once (a fresh cache: all of them)
        assert len(counts) == SCENES and set(counts.values()) == {1}, records
        finished_by = {r.worker for r in records if r.finished is not None}
        assert finished_by == {owner.nodename, helper.nodename}, records
        assert [r for r in records if r.finished is None] == [killed]
        assert killed.key in counts  # ... and that chunk was finished by the survivor
        [video] = videos(self.cluster.data_dir, FOLDER)
        frames = frame_count(video)
        assert frames == round(SCENES * SECONDS * 24)
        assert job["result"]["metadata"]["render_mode"] == "chunked"
        by = {w.nodename: sum(r.worker == w.nodename and r.finished is not None
                              for r in records) for w in (owner, helper)}
        print(f"chunks: {len(counts)}; finished by owner {by[owner.nodename]}, by helper "
              f"{by[helper.nodename]}; killed mid-encode: 1; encoded twice: 0; "
              f"frames {frames}")
        return job


def test_a_job_spread_over_two_workers_survives_a_killed_helper(
        valkey: RunningServer, tmp_path: Path) -> None:
    spread = Spread(valkey, tmp_path, db=5)
    try:
        owner, helper, killed = spread.wait_until_mid_chunk("helper")
        helper.kill()  # SIGKILL, the whole group: the worker, its pool child, its ffmpeg
        spread.check(owner, helper, killed)
        assert "asked 1 helper(s)" in owner.log()
        # the owner claimed the dead helper's chunk once its claim lapsed
        records = spread.board.records(spread.job_id)
        assert [r.worker for r in records if r.key == killed.key and r.finished] == [
            owner.nodename]
    finally:
        spread.cluster.close()


def test_a_job_whose_owner_is_killed_resumes_from_the_finished_chunks(
        valkey: RunningServer, tmp_path: Path) -> None:
    spread = Spread(valkey, tmp_path, db=6)
    try:
        owner, helper, killed = spread.wait_until_mid_chunk("owner")
        before = encode_counts(spread.board.records(spread.job_id))
        owner.kill()
        # the lease keepers queue the job again; the helper's worker is its next owner
        job = spread.check(owner, helper, killed)
        assert any(w.startswith(REQUEUED_NOTE) for w in job["warnings"]), job
        assert f"job {spread.job_id} running" in helper.log()
        after = encode_counts(spread.board.records(spread.job_id))
        # chunks finished before the kill were not encoded again (taken from the cache)
        assert all(after[key] == 1 for key, n in before.items() if n == 1)
        assert sum(before.values()) >= 2
    finally:
        spread.cluster.close()
