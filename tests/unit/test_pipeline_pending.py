"""Clip files enter the mux while they are still rendered (issue 15 follow-up): the
muxer starts at once and waits for a scene's clip only when it needs its frames, so
a generative job's encode overlaps the generation of its later clips.

Ordering, not timing: the last scene's render blocks until the muxer has encoded the
first scene's frames (stream mode) or a whole chunk (chunked mode); when the pipeline
gathered every clip before muxing, that render would wait in vain (and fail)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.unit.test_pipeline_stream import FOLDER, VIDEO, ToneNarrator, photo_images, sequence

from videogen_adapters.cache import DiskCache
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import Cancelled, RenderFailed
from videogen_core.pipeline import VideoPipeline
from videogen_core.progress import STAGES, CancelToken, ProgressEvent

WAIT = 60.0  # seconds the gated render waits before it gives up (a failure, not a timing)


class GatedRenderer:
    """A clip-file renderer (no ``stream``: its clips enter the muxer as files) whose
    last scene is rendered only once ``gate`` is set; it can also fail that scene."""

    name = "comfyui"

    def __init__(self, gate: threading.Event, log: list[str], *, fail: bool = False,
                 job: CancelToken | None = None) -> None:
        self.gate = gate
        self.log = log
        self.fail = fail
        self.job = job  # cancelled by this render once the mux runs
        self.inner = KenBurnsClipRenderer()

    def render(self, request: Any, output_path: Path, **kwargs: Any) -> Any:
        if request.scene_number == 3:
            if not self.gate.wait(WAIT):
                raise RenderFailed("render", "the mux did not start before the last clip")
            if self.job is not None:
                self.job.cancel()
                kwargs["cancel"].wait(WAIT)
                kwargs["cancel"].raise_if_cancelled()
            self.log.append("last clip rendered")
            if self.fail:
                raise RenderFailed("render", "scene 3: the server lost the prompt")
        return self.inner.render(request, output_path)


class _Spy:
    """A clip file's frame source that says when the encoder has taken all its frames."""

    def __init__(self, inner: Any, index: int, log: list[str], gate: threading.Event | None
                 ) -> None:
        self.inner, self.index, self.log, self.gate = inner, index, log, gate
        self.frame_count = inner.frame_count

    def prepare(self) -> None:
        self.inner.prepare()

    def open(self) -> Any:
        for k, frame in enumerate(self.inner.open()):
            if k + 1 == self.frame_count:
                self.log.append(f"scene {self.index + 1} frames encoded")
                if self.gate is not None and self.index == 0:
                    self.gate.set()
            yield frame


class WatchingMuxer(FfmpegMuxer):
    """Logs when a clip's frames have all gone to the encoder (and, stream mode, opens
    the gate on scene 1's)."""

    def __init__(self, log: list[str], gate: threading.Event | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log, self.gate = log, gate
        self.plans: list[Any] = []

    def mux(self, plan: Any, output_path: Path, **kwargs: Any) -> Any:
        self.plans.append(plan)
        return super().mux(plan, output_path, **kwargs)

    def file_source(self, path: Path, index: int, frame_count: int, settings: Any
                    ) -> Any:
        source, warning = FfmpegMuxer.file_source(path, index, frame_count, settings)
        return _Spy(source, index, self.log, self.gate), warning


class GatingCache(DiskCache):
    """Opens the gate when the first chunk is stored (= encoded)."""

    def __init__(self, root: Path, gate: threading.Event, log: list[str]) -> None:
        super().__init__(root, 1 << 30)
        self.gate, self.log = gate, log

    def put(self, key: str, source: Path, suffix: str = ".mp4") -> Path:
        stored = super().put(key, source, suffix)
        if suffix == ".mp4" and not self.gate.is_set():
            self.log.append("first chunk encoded")
            self.gate.set()
        return stored


def run(tmp_path: Path, mode: str, *, fail: bool = False, job: CancelToken | None = None
        ) -> tuple[Any, list[str], list[ProgressEvent], InMemoryStorage, WatchingMuxer]:
    gate = threading.Event()
    log: list[str] = []
    chunked = mode == "chunked"
    muxer = WatchingMuxer(log, None if chunked else gate,
                          cache=GatingCache(tmp_path / "cache", gate, log) if chunked else None)
    storage = InMemoryStorage(photo_images())
    # chunked: chunk tasks share the workers with the renders; 4 leave room for a chunk
    # while the gated render holds one
    pool = ThreadPoolExecutorAdapter(4 if chunked else 2)
    p = VideoPipeline(storage=storage, renderer=GatedRenderer(gate, log, fail=fail, job=job),
                      narrator=ToneNarrator(), music=None, muxer=muxer, executor=pool,
                      video=VIDEO, workdir=tmp_path / "work", render_mode=mode)
    events: list[ProgressEvent] = []
    try:
        result: Any = p.run(FOLDER, sequence("none"), progress=events.append, cancel=job)
    except (RenderFailed, Cancelled) as exc:
        result = exc
    finally:
        pool.shutdown(wait=True)
    return result, log, events, storage, muxer


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_the_mux_starts_before_the_last_clip_is_rendered(tmp_path: Path, mode: str) -> None:
    result, log, events, storage, muxer = run(tmp_path, mode)
    assert not isinstance(result, Exception), result
    first = "scene 1 frames encoded" if mode == "stream" else "first chunk encoded"
    assert log.index(first) < log.index("last clip rendered") < log.index(
        "scene 3 frames encoded")
    assert [r.renderer for r in result.scene_reports] == ["comfyui"] * 3
    # every scene entered the plan while rendered, marked as a clip file (a chunk
    # board must not recruit helpers that would render them again)
    assert [type(c).__name__ for c in muxer.plans[0].clips] == ["PendingClip"] * 3
    assert all(c.renders_file for c in muxer.plans[0].clips)
    assert result.render_mode == mode
    video = tmp_path / "video.mp4"
    video.write_bytes(storage.read_bytes(result.video_key))
    assert probe(video).frames == 3 * 2 * VIDEO.fps  # every frame of the three 2 s scenes
    # progress: the renders as they finished, then the mux; never a stage back
    stages = [e.stage for e in events if e.stage in STAGES]
    order = list(STAGES)
    assert all(order.index(a) <= order.index(b) for a, b in itertools.pairwise(stages))
    renders = [e for e in events if e.stage == "render"]
    assert renders[-1].done == 3 and renders[-1].scenes_done == 3
    assert [e.percent for e in events] == sorted(e.percent for e in events)
    assert events[-1].stage == "store" and events[-1].percent == 100.0


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_a_clip_failing_while_the_mux_runs_fails_the_job_with_its_error(
        tmp_path: Path, mode: str) -> None:
    result, log, _, storage, _ = run(tmp_path, mode, fail=True)
    assert isinstance(result, RenderFailed)
    assert "the server lost the prompt" in str(result)  # the render's error, not Cancelled
    assert "last clip rendered" in log and "scene 3 frames encoded" not in log
    assert not [k for k in storage._objects if k.endswith(".mp4")]  # nothing stored


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_a_job_cancelled_while_the_mux_waits_for_a_clip_is_cancelled(
        tmp_path: Path, mode: str) -> None:
    result, log, _, storage, _ = run(tmp_path, mode, job=CancelToken())
    assert type(result) is Cancelled
    assert "last clip rendered" not in log and "scene 3 frames encoded" not in log
    assert not [k for k in storage._objects if k.endswith(".mp4")]  # nothing stored


def test_a_clip_that_does_not_fit_is_fitted_with_the_muxers_warning(tmp_path: Path) -> None:
    """Scene 2's file is the wrong size: decoded and fitted when the encoder gets to it,
    and the job says so, as when the muxer was handed the finished file."""
    import attrs

    class WrongSize:
        name = "comfyui"

        def render(self, request: Any, output_path: Path, **kwargs: Any) -> Any:
            if request.scene_number == 2:
                request = attrs.evolve(request, settings=attrs.evolve(
                    request.settings, width=96, height=54))
            return KenBurnsClipRenderer().render(request, output_path)

    pool = ThreadPoolExecutorAdapter(2)
    storage = InMemoryStorage(photo_images())
    try:
        result = VideoPipeline(storage=storage, renderer=WrongSize(), narrator=ToneNarrator(),
                               music=None, muxer=FfmpegMuxer(), executor=pool, video=VIDEO,
                               workdir=tmp_path / "work").run(FOLDER, sequence("crossfade"))
    finally:
        pool.shutdown(wait=True)
    assert [w for w in result.warnings if "did not fit" in w] == [
        "clip 2 did not fit the timeline (96x54 instead of 64x36); its frames were fitted"]
    video = tmp_path / "video.mp4"
    video.write_bytes(storage.read_bytes(result.video_key))
    facts = probe(video)
    assert (facts.width, facts.height) == (64, 36)
