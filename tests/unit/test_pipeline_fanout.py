"""One chunked job, two pipelines (an owner and a helper, as two workers would run
it) sharing a cache directory and an in-memory chunk board: every chunk is encoded
once, by one of them; the helper stores nothing; the owner's video has every frame.
(``tests/contract/test_chunk_fanout.py`` does this with real Celery workers.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.unit.test_pipeline_chunks import make, stored
from tests.unit.test_pipeline_stream import FOLDER, VIDEO, sequence

from videogen_adapters.cache import DiskCache
from videogen_adapters.chunkboard import (
    HelperDone,
    InMemoryChunkBoard,
    Participation,
    encode_counts,
    participating,
)
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.storage.memory import InMemoryStorage


def test_owner_and_helper_share_a_jobs_chunks(tmp_path: Path) -> None:
    board = InMemoryChunkBoard()
    owner_muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30), board=board)
    helper_muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30), board=board)
    owner = make(tmp_path / "owner", "chunked", owner_muxer)
    helper = make(tmp_path / "helper", "chunked", helper_muxer)
    seq = sequence("crossfade")
    outcome: list[Any] = []

    def help_out() -> None:
        with participating(Participation("job-1", "helper@b", helper=True)):
            try:
                helper.run(FOLDER, seq)
            except HelperDone as done:
                outcome.append(done)
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome.append(exc)

    thread = threading.Thread(target=help_out)
    asked: list[int] = []

    def recruit(wanted: int) -> int:
        asked.append(wanted)
        thread.start()
        deadline = time.monotonic() + 30
        while not board.records("job-1") and thread.is_alive():  # the helper is encoding
            assert time.monotonic() < deadline
            time.sleep(0.005)
        return 1

    with participating(Participation("job-1", "owner@a", recruit=recruit)):
        result = owner.run(FOLDER, seq)
    thread.join(30)

    assert asked == [4]  # 5 chunks, none cached: help for 4
    [done] = outcome
    assert isinstance(done, HelperDone), done
    records = board.records("job-1")
    counts = encode_counts(records)
    assert len(counts) == 5 and set(counts.values()) == {1}  # each chunk encoded once
    assert {r.worker for r in records} == {"owner@a", "helper@b"}
    assert owner_muxer.chunk_encodes + helper_muxer.chunk_encodes == 5
    assert owner_muxer.chunk_hits == helper_muxer.chunk_encodes >= 1  # its chunks, taken
    assert helper_muxer.audio_mixes == 0  # a helper mixes nothing ...
    helper_storage = helper.storage
    assert isinstance(helper_storage, InMemoryStorage)
    assert not [k for k in helper_storage._objects if "/videos/" in k]  # ... nor stores
    info = probe(stored(owner, result, tmp_path / "video.mp4"))
    total = sum(r.duration for r in result.scene_reports) - 2 * 0.5
    assert info.frames == round(total * VIDEO.fps)


def test_a_helper_whose_muxer_cannot_share_makes_no_video(tmp_path: Path) -> None:
    muxer = FfmpegMuxer(cache=None)  # no cache: nothing can be shared
    p = make(tmp_path, "chunked", muxer)
    with participating(Participation("job-2", "helper@b", helper=True)), \
            pytest.raises(HelperDone):
        p.run(FOLDER, sequence("none"))
    assert muxer.chunk_encodes == 0 and muxer.audio_mixes == 0


def test_an_owner_does_not_recruit_helpers_for_generative_scenes(tmp_path: Path) -> None:
    """Generative clips enter the mux while rendered (PendingClip, not a path): a helper
    would render them again, so the owner encodes its chunks alone."""
    from tests.unit.test_pipeline_stream import ToneNarrator, photo_images

    from videogen_adapters.executors import ThreadPoolExecutorAdapter
    from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
    from videogen_core.pipeline import VideoPipeline

    class FileRenderer:  # no ``stream``: its clips are files, like ComfyUI's
        name = "comfyui"

        def render(self, request: Any, output_path: Path, **kwargs: Any) -> Any:
            return KenBurnsClipRenderer().render(request, output_path)

    board = InMemoryChunkBoard()
    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30), board=board)
    pool = ThreadPoolExecutorAdapter(4)
    p = VideoPipeline(storage=InMemoryStorage(photo_images()), renderer=FileRenderer(),
                      narrator=ToneNarrator(), music=None, muxer=muxer, executor=pool,
                      video=VIDEO, workdir=tmp_path / "work", render_mode="chunked")
    asked: list[int] = []
    try:
        with participating(Participation("job-3", "owner@a", recruit=asked.append)):
            result = p.run(FOLDER, sequence("none"))
    finally:
        pool.shutdown(wait=True)
    assert result.render_mode == "chunked" and muxer.chunk_encodes == 3
    assert asked == []  # nobody asked to help
    assert {r.worker for r in board.records("job-3")} <= {"owner@a"}
