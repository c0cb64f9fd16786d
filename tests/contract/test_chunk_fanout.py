"""One chunked job on two real ``videogen worker`` processes (Celery, prefork) over a
real valkey-server: the job's owner asks the other worker for help, both encode
chunks (the chunk records on the board name both), the helper is SIGKILLed in the
middle of a chunk, the owner encodes that chunk once its claim lapses, and the
video has every frame — no chunk was encoded to the end twice.

Small settings (320x180, silent narrator); the preset is slower than the other
scale-out tests' so a chunk takes long enough to be killed in the middle of.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.contract.test_celery_scaleout import Cluster, add_images, ended, poll, videos
from tests.servers import RunningServer, valkey_server

from videogen_adapters.chunkboard import ChunkRecord, encode_counts
from videogen_adapters.chunkboard.redis import RedisChunkBoard

pytestmark = [pytest.mark.server, pytest.mark.slow]

FOLDER = "fanout"
SCENES = 8
SECONDS = 4.0


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


def test_a_job_spread_over_two_workers_survives_a_killed_helper(
        valkey: RunningServer, tmp_path: Path) -> None:
    cluster = Cluster(valkey, tmp_path, db=5)
    cluster.env.update({
        "VIDEOGEN_RENDER_MODE": "chunked", "VIDEOGEN_WORKERS": "1",  # one encode at a time
        "VIDEOGEN_CHUNK_LEASE": "3", "VIDEOGEN_PRESET": "slow", "VIDEOGEN_CRF": "18",
    })
    board = RedisChunkBoard.from_url(cluster.broker_url)
    try:
        add_images(cluster.data_dir, FOLDER, SCENES)
        workers = [cluster.worker(), cluster.worker()]
        client = cluster.app().test_client()
        response = client.post(f"/generateVideos/{FOLDER}", json=body(),
                               headers={"Prefer": "respond-async"})
        assert response.status_code == 202, response.get_json()
        job_id = response.get_json()["job_id"]

        def logs() -> str:
            return "\n".join(w.log()[-3000:] for w in workers)

        # wait for the helper: a finished chunk of its own and one it is encoding now
        deadline = time.monotonic() + 90
        owner_name = None
        while True:
            records = board.records(job_id)
            owner_name = next((w.nodename for w in workers
                               if f"job {job_id} running" in w.log()), None)
            helper_records = [r for r in records if owner_name and r.worker != owner_name]
            if (any(r.finished for r in helper_records)
                    and helper_records[-1].finished is None):
                break
            assert time.monotonic() < deadline, f"{records}\n{logs()}"
            assert not ended(client.get(f"/jobs/{job_id}").get_json()), (records, logs())
            time.sleep(0.02)
        owner = next(w for w in workers if w.nodename == owner_name)
        helper = next(w for w in workers if w is not owner)
        helper.kill()  # SIGKILL, the whole group: the worker, its pool child, its ffmpeg
        killed: ChunkRecord = helper_records[-1]

        job = poll(client, job_id, until=ended, timeout=120, log=owner.log)
        assert job["status"] == "succeeded", job
        assert "asked 1 helper(s)" in owner.log()

        records = board.records(job_id)
        counts = encode_counts(records)
        # every chunk encoded to the end exactly once (a fresh cache: all of them)
        assert len(counts) == SCENES and set(counts.values()) == {1}, records
        finished_by = {r.worker for r in records if r.finished is not None}
        assert finished_by == {owner.nodename, helper.nodename}, records
        # the one encode left unfinished is the killed helper's; the owner redid it
        unfinished = [r for r in records if r.finished is None]
        assert unfinished == [killed]
        assert [r.worker for r in records if r.key == killed.key and r.finished] == [
            owner.nodename]

        [video] = videos(cluster.data_dir, FOLDER)
        assert frame_count(video) == round(SCENES * SECONDS * 24)
        assert job["result"]["metadata"]["render_mode"] == "chunked"
        by = {w.nodename: sum(r.worker == w.nodename and r.finished is not None
                              for r in records) for w in (owner, helper)}
        print(f"chunks: {len(counts)}; finished by owner {by[owner.nodename]}, by helper "
              f"{by[helper.nodename]}; killed mid-encode: 1; encoded twice: 0; "
              f"frames {frame_count(video)}")
    finally:
        cluster.close()
