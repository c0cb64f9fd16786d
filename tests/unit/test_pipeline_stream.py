"""VideoPipeline with a streaming renderer: frame sources to the muxer, no clip files."""

from __future__ import annotations

import json
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from videogen_adapters.config import Settings
from videogen_adapters.executors import InlineExecutor, ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer, FakeNarrator
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.ffmpeg.stream import composed_frames, frame_size
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import (
    STAGES,
    CancelToken,
    ClipRequest,
    GenerationParams,
    InvalidImage,
    MuxPlan,
    MuxResult,
    Narration,
    ProgressEvent,
    RenderedClip,
    Scene,
    Sequence,
    spread_cues,
)
from videogen_core.model import VideoSettings
from videogen_core.pipeline import VideoPipeline
from videogen_core.ports import STREAM_ENCODE_SHARE, FrameSource, StreamingClipRenderer

FOLDER = "f"
PHOTO = Path(__file__).parents[1] / "fixtures" / "ffmpeg" / "astronaut_480x270.jpg"
VIDEO = VideoSettings(width=64, height=36, fps=12, crf=20, preset="ultrafast")


# ---------------------------------------------------------------- test doubles
class ConstSource:
    """Frames of one grey level per scene; records prepare/open."""

    def __init__(self, request: ClipRequest) -> None:
        self.request = request
        self.prepared = 0
        self.opened = 0

    @property
    def frame_count(self) -> int:
        return self.request.frames

    def prepare(self) -> None:
        self.prepared += 1

    def open(self) -> Iterator[bytes]:
        self.opened += 1
        frame = bytes([20 * self.request.scene_number]) * frame_size(self.request.settings)
        return iter([frame] * self.request.frames)


class StreamingFakeRenderer(FakeClipRenderer):
    """The shipped fake renderer plus ``stream``: a corrupt image fails there, early."""

    def __init__(self) -> None:
        super().__init__()
        self.streamed: list[ClipRequest] = []
        self.sources: list[ConstSource] = []
        self._stream_lock = threading.Lock()

    def stream(self, request: ClipRequest) -> ConstSource:
        with self._stream_lock:
            self.streamed.append(request)
        if Path(request.image_path).read_bytes().startswith(b"corrupt"):
            raise InvalidImage(Path(request.image_path).name, "corrupt", request.scene_number)
        source = ConstSource(request)
        with self._stream_lock:
            self.sources.append(source)
        return source


class StreamMuxer:
    """Takes frame sources like FfmpegMuxer, but only composes them (no ffmpeg):
    reports the encode as 97 % of its progress, then the final mux."""

    accepts_frame_sources = True

    def __init__(self) -> None:
        self.plans: list[MuxPlan] = []
        self.frames = 0
        self.luma: list[int] = []

    def mux(self, plan: MuxPlan, output_path: Path, *, executor: Any = None,
            progress: Any = None, cancel: CancelToken | None = None) -> MuxResult:
        self.plans.append(plan)
        fps = plan.video.fps
        if all(isinstance(c, FrameSource) for c in plan.clips):
            def encoded(fraction: float) -> None:
                if progress is not None:
                    progress(STREAM_ENCODE_SHARE * fraction)

            for frame in composed_frames(plan.clips, plan.timeline, plan.video, cancel=cancel,
                                         progress=encoded):
                self.frames += 1
                self.luma.append(frame[0])
        output_path.write_text(json.dumps({"kind": "video"}), encoding="utf-8")
        if progress is not None:
            progress(1.0)
        return MuxResult(output_path, plan.timeline.total, plan.timeline.total_frames(fps))


class SpyKenBurns(KenBurnsClipRenderer):
    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[ClipRequest] = []
        self.streamed: list[ClipRequest] = []

    def render(self, request: ClipRequest, output_path: Path, **kwargs: Any) -> RenderedClip:
        self.rendered.append(request)
        return super().render(request, output_path, **kwargs)

    def stream(self, request: ClipRequest) -> Any:
        self.streamed.append(request)
        return super().stream(request)


class SpyMuxer(FfmpegMuxer):
    def __init__(self) -> None:
        super().__init__()
        self.plans: list[MuxPlan] = []

    def mux(self, plan: MuxPlan, output_path: Path, **kwargs: Any) -> MuxResult:
        self.plans.append(plan)
        return super().mux(plan, output_path, **kwargs)


class ToneNarrator:
    """Real WAV narration (a gated tone), ``len(text)/15`` seconds long."""

    name = "tone"

    def voices(self) -> list[str]:
        return ["tone"]

    def synthesize(self, text: str, output_path: Path, *, voice: str | None = None,
                   speed: float = 1.0, **_: Any) -> Narration:
        spoken = " ".join(text.split())
        if not spoken:
            return Narration(None, 0.0, provider=self.name)
        seconds = round(len(spoken) / 15 / speed, 3)
        rate = 22050
        t = np.arange(int(seconds * rate)) / rate
        signal = 0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 4 * t) > -0.3)
        with wave.open(str(output_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes((signal * 32767).astype(np.int16).tobytes())
        return Narration(output_path, seconds, rate, spread_cues(spoken, seconds), "tone",
                         self.name)


def sequence(transition: str = "crossfade") -> Sequence:
    return Sequence(
        [Scene(1, "A quiet morning.", 2.0, "slow zoom in", "calm"),
         Scene(2, "The village wakes.", 2.0, "pan right", "calm"),
         Scene(3, "The storm comes!", 2.0, "zoom out", "epic")],
        GenerationParams(transition_type=transition, seed=42, fps=12))


def fake_images(corrupt: int | None = None) -> dict[str, bytes]:
    return {f"{FOLDER}/scene_{n}.png": b"corrupt" if n == corrupt else f"image {n}".encode()
            for n in (1, 2, 3)}


def photo_images(corrupt: int | None = None) -> dict[str, bytes]:
    photo = PHOTO.read_bytes()
    return {f"{FOLDER}/scene_{n}.jpg": photo[:200] if n == corrupt else photo
            for n in (1, 2, 3)}


def pipeline(tmp_path: Path, renderer: Any, muxer: Any, *, images: dict[str, bytes],
             executor: Any = None, narrator: Any = None, music: Any = None,
             stream_clips: bool = True, cache: bool = True) -> VideoPipeline:
    return VideoPipeline(
        storage=InMemoryStorage(images), renderer=renderer,
        narrator=narrator or FakeNarrator(), music=music, muxer=muxer,
        executor=executor or InlineExecutor(), video=VIDEO, workdir=tmp_path / "work",
        cache_dir=tmp_path / "cache" if cache else None, stream_clips=stream_clips)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture(params=["inline", "threads"])
def executor(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "inline":
        yield InlineExecutor()
        return
    pool = ThreadPoolExecutorAdapter(3)
    yield pool
    pool.shutdown(wait=True)


# ----------------------------------------------------------------------- tests
def test_streaming_hands_frame_sources_to_the_muxer(tmp_path: Path, executor: Any) -> None:
    renderer, muxer = StreamingFakeRenderer(), StreamMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=fake_images(), executor=executor,
                 music=FakeMusicSource())
    assert isinstance(renderer, StreamingClipRenderer) and p.streaming
    result = p.run(FOLDER, sequence())
    assert renderer.calls == []  # render() never called
    assert sorted(r.scene_number for r in renderer.streamed) == [1, 2, 3]
    (plan,) = muxer.plans
    assert all(isinstance(c, FrameSource) for c in plan.clips)
    assert [c.request.scene_number for c in plan.clips] == [1, 2, 3]
    counts = plan.timeline.frame_counts(VIDEO.fps)
    for i, clip in enumerate(plan.clips):
        assert clip.frame_count == counts[i]
        assert clip.request.cut_frames == plan.timeline.cut_frames(i, VIDEO.fps)
        assert clip.prepared >= 1 and clip.opened == 1
    assert muxer.frames == plan.timeline.total_frames(VIDEO.fps)
    # the scenes in order, the crossfades between them
    assert muxer.luma[0] == 20 and muxer.luma[-1] == 60
    assert muxer.luma == sorted(muxer.luma)
    assert result.scenes == 3
    assert files_under(tmp_path / "cache") == []  # no clip files, no clip cache
    assert files_under(tmp_path / "work") == []


def test_stream_clips_false_renders_clip_files(tmp_path: Path) -> None:
    renderer, muxer = StreamingFakeRenderer(), FakeMuxer()
    muxer.accepts_frame_sources = True  # type: ignore[attr-defined]
    p = pipeline(tmp_path, renderer, muxer, images=fake_images(), stream_clips=False)
    assert not p.streaming
    p.run(FOLDER, sequence())
    assert renderer.streamed == []
    assert sorted(r.scene_number for r in renderer.calls) == [1, 2, 3]
    (plan,) = muxer.plans
    assert all(isinstance(c, Path) for c in plan.clips)


def test_a_muxer_without_frame_source_support_gets_files(tmp_path: Path) -> None:
    renderer, muxer = StreamingFakeRenderer(), FakeMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=fake_images())
    assert not p.streaming
    p.run(FOLDER, sequence())
    assert renderer.streamed == [] and len(renderer.calls) == 3
    assert all(isinstance(c, Path) for c in muxer.plans[0].clips)


def test_a_renderer_that_cannot_stream_gets_files(tmp_path: Path) -> None:
    muxer = FakeMuxer()
    muxer.accepts_frame_sources = True  # type: ignore[attr-defined]
    p = pipeline(tmp_path, FakeClipRenderer(), muxer, images=fake_images())
    assert not p.streaming


def test_corrupt_image_fails_before_any_encoding(tmp_path: Path, executor: Any) -> None:
    renderer, muxer = SpyKenBurns(), SpyMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=photo_images(corrupt=2), executor=executor)
    assert p.streaming
    events: list[ProgressEvent] = []
    with pytest.raises(InvalidImage) as info:
        p.run(FOLDER, sequence(), progress=events.append)
    assert info.value.details["scene_number"] == 2
    assert "scene_2.jpg" in info.value.details["file"]
    assert "scene_2.jpg" in str(info.value) and "scene 2" in str(info.value)
    assert muxer.plans == []  # the muxer (the one encoder) never started
    assert renderer.rendered == []
    assert not [e for e in events if e.stage in ("render", "mux") and e.done]
    assert files_under(tmp_path / "work") == []


def test_corrupt_image_with_the_fake_streaming_renderer(tmp_path: Path) -> None:
    renderer, muxer = StreamingFakeRenderer(), StreamMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=fake_images(corrupt=3))
    with pytest.raises(InvalidImage) as info:
        p.run(FOLDER, sequence())
    assert info.value.details["scene_number"] == 3
    assert muxer.plans == [] and renderer.calls == []


def test_progress_is_monotonic_and_render_completes_before_mux(tmp_path: Path,
                                                               executor: Any) -> None:
    renderer, muxer = StreamingFakeRenderer(), StreamMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=fake_images(), executor=executor,
                 music=FakeMusicSource())
    events: list[ProgressEvent] = []
    p.run(FOLDER, sequence(), progress=events.append)
    percents = [e.percent for e in events]
    assert percents == sorted(percents)
    assert events[-1].stage == "store" and events[-1].percent == 100.0
    # every stage shows up, in the pipeline's order, and never comes back
    order = list(dict.fromkeys(e.stage for e in events))
    assert order == list(STAGES)
    stages = [e.stage for e in events]
    for stage in STAGES:
        first, last = stages.index(stage), len(stages) - 1 - stages[::-1].index(stage)
        assert all(s == stage for s in stages[first:last + 1]), f"{stage} interleaved: {stages}"
    render = [e for e in events if e.stage == "render"]
    assert render[-1].done == render[-1].total
    assert [e.done / e.total for e in render] == sorted(e.done / e.total for e in render)
    assert len(render) > 3  # the encode reports as it goes, not just start and end


def test_real_streamed_video_from_the_pipeline(tmp_path: Path) -> None:
    renderer, muxer = SpyKenBurns(), SpyMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=photo_images(), narrator=ToneNarrator())
    events: list[ProgressEvent] = []
    result = p.run(FOLDER, sequence("fade"), progress=events.append)
    assert renderer.rendered == [] and len(renderer.streamed) == 3
    (plan,) = muxer.plans
    assert all(isinstance(c, FrameSource) for c in plan.clips)
    out = tmp_path / "video.mp4"
    storage = p.storage
    assert isinstance(storage, InMemoryStorage)
    out.write_bytes(storage.read_bytes(result.video_key))
    info = probe(out)
    total = plan.timeline.total_frames(VIDEO.fps)
    assert info.frames == total and (info.width, info.height) == (64, 36)
    assert info.has_audio and info.subtitle_streams == 1
    assert abs(result.duration - plan.timeline.total) <= 1 / VIDEO.fps
    assert result.loudness_lufs is not None
    assert files_under(tmp_path / "cache") == [] and files_under(tmp_path / "work") == []
    percents = [e.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0


# ---------------------------------------------------------------------- config
def test_stream_clips_setting() -> None:
    assert Settings.from_env({}).stream_clips is True
    assert Settings.from_env({}).streams_clips is True
    off = Settings.from_env({"VIDEOGEN_STREAM_CLIPS": "false"})
    assert off.stream_clips is False and off.streams_clips is False
    on = Settings.from_env({"VIDEOGEN_STREAM_CLIPS": "true"})
    assert on.stream_clips is True and on.streams_clips is True
    comfy = Settings.from_env({"VIDEOGEN_RENDERER": "comfyui"})
    assert comfy.stream_clips is True and comfy.streams_clips is False
