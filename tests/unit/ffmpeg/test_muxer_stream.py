"""FfmpegMuxer with frame sources: one encode of every frame, transitions, audio, failures.

Real ffmpeg, real Ken Burns frame sources, small sizes. The output checks run in
both render modes (``mode``): ``stream`` (one encoder) and ``chunked`` (chunks
encoded apart on two threads, joined by stream copy).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import av
import numpy as np
import pytest
from PIL import Image, ImageOps
from tests.unit.ffmpeg.phase import half_resolution, phase_shift, shift_jitter
from tests.wavs import write_wav

from videogen_adapters.executors.threads import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import decode_frames, probe
from videogen_adapters.ffmpeg.stream import composed_frames
from videogen_core.errors import Cancelled, InvalidImage, RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest, Cue, FrameSource, MuxPlan, NarrationPlacement
from videogen_core.progress import CancelToken
from videogen_core.timeline import Timeline

PHOTO = Path(__file__).parents[2] / "fixtures" / "ffmpeg" / "astronaut_480x270.jpg"
SMALL = VideoSettings(width=128, height=72, fps=12, crf=20, preset="ultrafast")
SMALL_LOSSLESS = VideoSettings(width=128, height=72, fps=12, crf=0, preset="ultrafast")
# crf 0 is lossless: the measurement then sees the motion itself, not x264's noise
LOSSLESS = VideoSettings(width=320, height=180, fps=24, crf=0, preset="ultrafast")
ACTIONS = ("zoom in", "pan left", "tilt up")


def sources(timeline: Timeline, settings: VideoSettings, image: Path = PHOTO,
            actions: tuple[str, ...] = ACTIONS) -> list[FrameSource]:
    """Ken Burns frame sources exactly as the pipeline asks for them."""
    counts = timeline.frame_counts(settings.fps)
    renderer = KenBurnsClipRenderer()
    return [renderer.stream(ClipRequest(image, d, actions[i % len(actions)], i,
                                        settings=settings, scene_number=i + 1,
                                        cut_frames=timeline.cut_frames(i, settings.fps),
                                        frame_count=counts[i]))
            for i, d in enumerate(timeline.durations)]


class Wrapped:
    """A frame source that can fail at a frame, and records whether it was closed."""

    def __init__(self, inner: FrameSource, fail_at: int | None = None,
                 error: BaseException | None = None) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.error = error
        self.opened = False
        self.closed = False

    @property
    def frame_count(self) -> int:
        return self.inner.frame_count

    def prepare(self) -> None:
        self.inner.prepare()

    def open(self) -> Iterator[bytes]:
        self.opened = True
        return self._frames()

    def _frames(self) -> Iterator[bytes]:
        frames = self.inner.open()
        try:
            for k, frame in enumerate(frames):
                if k == self.fail_at and self.error is not None:
                    raise self.error
                yield frame
        finally:
            self.closed = True
            close = getattr(frames, "close", None)
            if close is not None:
                close()


def write_voice(path: Path, seconds: float, rate: int = 22050) -> Path:
    """A voice-ish tone: 180 Hz with harmonics, gated into syllables."""
    t = np.arange(int(seconds * rate)) / rate
    signal = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 8))
    signal = 0.2 * signal * np.clip(np.sin(2 * np.pi * 4 * t) + 0.3, 0, 1)
    return write_wav(path, signal, rate)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_voice(tmp_path_factory.mktemp("voice") / "voice.wav", 2.0)


@pytest.fixture(scope="module")
def negative(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The photo inverted and mirrored: clearly different frames from the same camera."""
    path = tmp_path_factory.mktemp("images") / "negative.png"
    ImageOps.mirror(ImageOps.invert(Image.open(PHOTO).convert("RGB"))).save(path)
    return path


def gray(path: Path) -> list[np.ndarray]:
    return [f.astype(float) for f in decode_frames(path, pix_fmt="gray")]


def helper_threads() -> list[str]:
    """Frame-making threads still alive (the composer's and Ken Burns' prefetch pools)."""
    return [t.name for t in threading.enumerate()
            if t.name.startswith(("videogen-prepare", "videogen-frames"))]


def only(folder: Path, *names: str) -> bool:
    """``folder`` holds exactly ``names`` (no temp .part file, no .mux- work dir)."""
    return sorted(p.name for p in folder.iterdir()) == sorted(names)


class Mode:
    """A render mode and the muxer call that goes with it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.muxer = FfmpegMuxer()

    def mux(self, plan: MuxPlan, out: Path, **kwargs: object):  # type: ignore[no-untyped-def]
        plan = attrs.evolve(plan, render_mode=self.name)
        executor = ThreadPoolExecutorAdapter(2) if self.name == "chunked" else None
        return self.muxer.mux(plan, out, executor=executor, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["stream", "chunked"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return Mode(request.param)


# ----------------------------------------------------------------- the video
@pytest.mark.parametrize("kind", ["none", "fade", "crossfade"])
def test_streamed_video_matches_the_timeline(kind: str, voice: Path, tmp_path: Path,
                                             mode: Mode) -> None:
    timeline = Timeline.build([1.5, 1.25, 1.25], kind, 0.5)
    fps = SMALL.fps
    total = timeline.total_frames(fps)
    plan = MuxPlan(timeline, tuple(sources(timeline, SMALL)),
                   narrations=(NarrationPlacement(voice, 0.3, 2.0),), video=SMALL)
    out = tmp_path / "final.mp4"
    seen: list[float] = []
    result = mode.mux(plan, out, progress=seen.append)
    info = probe(out)
    assert (info.width, info.height, info.codec) == (128, 72, "h264")
    assert info.frames == total == result.frames
    assert len(gray(out)) == total
    assert abs(info.video_duration - timeline.total) <= 1 / fps
    assert abs(result.duration - timeline.total) <= 1 / fps
    assert info.has_audio and info.audio_duration >= info.video_duration - 1e-3
    assert info.subtitle_streams == 0  # no cues, no caption track
    assert result.loudness_lufs is not None and abs(result.loudness_lufs - (-14.0)) < 1.5
    assert result.true_peak_db is not None and result.true_peak_db <= -0.5
    assert result.warnings == ()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > total
    assert only(tmp_path, "final.mp4")
    assert helper_threads() == []
    chunks = len(timeline.chunk_bounds(fps)) if mode.name == "chunked" else 1
    assert mode.muxer.chunk_encodes == chunks
    expected_total = {"none": 4.0, "fade": 4.0, "crossfade": 3.0}[kind]
    assert timeline.total == pytest.approx(expected_total)


def test_fade_goes_through_black_in_the_file(tmp_path: Path, mode: Mode) -> None:
    timeline = Timeline.build([1.5, 1.0], "fade", 0.5)
    out = tmp_path / "fade.mp4"
    mode.mux(MuxPlan(timeline, tuple(sources(timeline, SMALL)), video=SMALL), out)
    means = [float(f.mean()) for f in gray(out)]
    cut = timeline.frame_counts(SMALL.fps)[0]  # first frame of scene 2
    half = timeline.fade_frames(SMALL.fps)
    assert half == 3
    assert means[cut - 1] < 20 and means[cut] < 20  # limited-range black: 16
    assert means[cut - half - 1] > 60 and means[cut + half] > 60
    assert means[cut - half - 1] > means[cut - 2] > means[cut - 1]  # fading out
    assert means[cut] < means[cut + 1] < means[cut + half]  # fading in


@pytest.mark.parametrize("kind", ["fade", "crossfade"])
def test_encoded_frames_are_exactly_the_composed_frames(tmp_path: Path, mode: Mode,
                                                        kind: str) -> None:
    """Lossless: every decoded frame (all three planes) is the composer's frame, in order,
    so nothing is dropped, duplicated or shifted by the encode."""
    timeline = Timeline.build([1.5, 1.25, 1.25], kind, 0.5)
    out = tmp_path / "lossless.mp4"
    mode.mux(MuxPlan(timeline, tuple(sources(timeline, SMALL_LOSSLESS)),
                              video=SMALL_LOSSLESS), out)
    expected = list(composed_frames(sources(timeline, SMALL_LOSSLESS), timeline,
                                    SMALL_LOSSLESS))
    decoded = [f.tobytes() for f in decode_frames(out, pix_fmt="yuv420p")]
    assert len(decoded) == len(expected) == timeline.total_frames(12)
    mismatched = [i for i, (a, b) in enumerate(zip(decoded, expected, strict=True)) if a != b]
    assert mismatched == []
    if kind == "fade":
        return
    # and the crossfade really mixes: the middle of the overlap is neither scene
    ov = timeline.overlap_frames(12)
    start = timeline.frame_counts(12)[0] - ov
    y = [np.frombuffer(f, np.uint8)[:128 * 72].astype(float) for f in expected]
    a = np.frombuffer(next(itertools.islice(sources(timeline, SMALL_LOSSLESS)[0].open(),
                                            start + ov // 2, None)), np.uint8)[:128 * 72]
    assert np.abs(y[start + ov // 2] - a).mean() > 1


def test_a_clip_file_next_to_frame_sources(negative: Path, tmp_path: Path, mode: Mode) -> None:
    timeline = Timeline.build([1.5, 1.5, 1.25], "crossfade", 0.5)
    fps = SMALL.fps
    counts = timeline.frame_counts(fps)
    clip = tmp_path / "clip_2.mp4"
    KenBurnsClipRenderer().render(
        ClipRequest(negative, 1.5, "pan right", 2, settings=SMALL, scene_number=2,
                    cut_frames=timeline.cut_frames(1, fps), frame_count=counts[1]), clip)
    streamed = sources(timeline, SMALL)
    plan = MuxPlan(timeline, (streamed[0], clip, streamed[2]), video=SMALL)
    out = tmp_path / "mixed.mp4"
    result = mode.mux(plan, out)
    assert result.frames == probe(out).frames == timeline.total_frames(fps)
    assert result.warnings == ()
    frames = gray(out)
    ov = timeline.overlap_frames(fps)
    k = counts[1] // 2  # the middle of scene 2's body
    from_file = gray(clip)[k]
    in_video = frames[counts[0] - ov + k]
    assert np.abs(in_video - from_file).mean() < 4  # the file's frame, re-encoded once
    photo_scene = frames[counts[0] - ov - 1]  # last body frame of scene 1 (the photo)
    assert np.abs(in_video - photo_scene).mean() > 30
    assert only(tmp_path, "clip_2.mp4", "mixed.mp4")


# --------------------------------------------------------------- captions
def test_soft_captions_become_a_mov_text_track(tmp_path: Path, mode: Mode) -> None:
    timeline = Timeline.build([1.0, 1.0], "none")
    cues = (Cue(0.1, 0.9, "Hello captions"), Cue(1.1, 1.9, "A second line"))
    out = tmp_path / "soft.mp4"
    mode.mux(MuxPlan(timeline, tuple(sources(timeline, SMALL)), cues=cues,
                              video=SMALL), out)
    info = probe(out)
    assert info.subtitle_streams == 1 and info.frames == 24
    with av.open(str(out)) as container:
        stream = container.streams.subtitles[0]
        assert stream.codec_context.name == "mov_text"
        texts = b"".join(bytes(p) for p in container.demux(stream))
    assert b"Hello captions" in texts and b"A second line" in texts


def test_burnt_captions_are_drawn_into_the_frames(tmp_path: Path, mode: Mode) -> None:
    settings = VideoSettings(width=320, height=180, fps=12, crf=20, preset="ultrafast")
    timeline = Timeline.build([1.0, 1.0], "none")
    # captions in the middle of each scene: a chunk that started its captions' clock
    # at its own first frame would show the first caption in the second scene
    cues = (Cue(0.0, 0.6, "Hello captions"), Cue(1.4, 2.0, "A second line"))
    plain, burnt = tmp_path / "plain.mp4", tmp_path / "burnt.mp4"
    mode.mux(MuxPlan(timeline, tuple(sources(timeline, settings)), video=settings,
                     soft_subtitles=False), plain)
    mode.mux(MuxPlan(timeline, tuple(sources(timeline, settings)), cues=cues,
                     video=settings, soft_subtitles=False, burn_subtitles=True), burnt)
    info = probe(burnt)
    assert info.subtitle_streams == 0 and info.frames == 24
    plain_frames, burnt_frames = gray(plain), gray(burnt)
    # at 0.33 s, 1.08 s, 1.67 s, 0.75 s, 1.5 s
    for k, shown in ((4, True), (13, False), (20, True), (9, False), (18, True)):
        a, b = plain_frames[k], burnt_frames[k]
        # the caption sits at the bottom; the rest is the same picture
        assert ((np.abs(a[120:] - b[120:]) > 50).mean() > 0.004) == shown, k
        assert np.abs(a[:60] - b[:60]).mean() < 2


# --------------------------------------------------------------- failures
@pytest.mark.parametrize("error", [InvalidImage("scene_2.jpg", "truncated", 2),
                                   RuntimeError("decoder died")], ids=["domain", "foreign"])
def test_a_source_failing_mid_stream_leaves_no_file(error: BaseException, voice: Path,
                                                    tmp_path: Path) -> None:
    timeline = Timeline.build([1.0, 1.5, 1.0], "crossfade", 0.5)
    streamed = [Wrapped(s) for s in sources(timeline, SMALL)]
    streamed[1] = Wrapped(streamed[1].inner, fail_at=10, error=error)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    plan = MuxPlan(timeline, tuple(streamed), narrations=(NarrationPlacement(voice, 0.2, 2.0),),
                   cues=(Cue(0.2, 1.0, "words"),), video=SMALL)
    with pytest.raises((InvalidImage, RenderFailed)) as info:
        FfmpegMuxer().mux(plan, out_dir / "final.mp4")
    if isinstance(error, InvalidImage):
        assert info.value is error  # a domain error passes through unchanged
    else:
        assert isinstance(info.value, RenderFailed)
        assert info.value.__cause__ is error and "decoder died" in str(info.value)
    assert only(out_dir)  # no final file, no .part file, no work directory
    assert streamed[0].closed and streamed[1].closed
    assert not streamed[2].opened
    assert helper_threads() == []


def test_cancel_mid_stream(voice: Path, tmp_path: Path) -> None:
    timeline = Timeline.build([1.5, 1.5], "fade", 0.5)
    streamed = [Wrapped(s) for s in sources(timeline, SMALL)]
    token = CancelToken()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.3:
            token.cancel()

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    plan = MuxPlan(timeline, tuple(streamed), narrations=(NarrationPlacement(voice, 0.2, 2.0),),
                   video=SMALL)
    with pytest.raises(Cancelled):
        FfmpegMuxer().mux(plan, out_dir / "final.mp4", progress=progress, cancel=token)
    assert only(out_dir)
    assert max(seen) < 0.97  # stopped during the encode, long before the final mux
    assert streamed[0].closed
    assert not streamed[1].opened or streamed[1].closed


class Slow(Wrapped):
    """A source that takes a while per frame and counts what it produced."""

    produced = 0

    def _frames(self) -> Iterator[bytes]:
        for frame in super()._frames():
            Slow.produced += 1
            time.sleep(0.01)
            yield frame


def test_a_failed_mix_stops_the_encode(tmp_path: Path) -> None:
    broken = tmp_path / "voice.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    timeline = Timeline.build([20.0, 20.0, 20.0], "none")  # 720 frames: over 7 s of sleeping
    Slow.produced = 0
    streamed = [Slow(s) for s in sources(timeline, SMALL)]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    plan = MuxPlan(timeline, tuple(streamed), narrations=(NarrationPlacement(broken, 0.2, 2.0),),
                   video=SMALL)
    with pytest.raises(RenderFailed) as info:
        FfmpegMuxer().mux(plan, out_dir / "final.mp4")
    assert info.value.stage == "mix"  # the mix's own error, not a bare Cancelled
    assert Slow.produced < timeline.total_frames(SMALL.fps) // 2  # the encode stopped early
    assert only(out_dir)
    # a started source is closed (the mix, decoding in process, may fail before any frame)
    assert streamed[0].closed or Slow.produced == 0


def test_the_audio_mix_runs_nicer_than_the_encode(voice: Path, tmp_path: Path) -> None:
    from videogen_adapters.ffmpeg.runner import FfmpegRunner

    seen: list[tuple[str, int]] = []

    class Recording(FfmpegRunner):
        def run(self, argv, *, stage, cancel=None, feed=None):  # type: ignore[no-untyped-def]
            seen.append((stage, self.nice))
            return super().run(argv, stage=stage, cancel=cancel, feed=feed)

    timeline = Timeline.build([1.0, 1.0], "crossfade", 0.5)
    plan = MuxPlan(timeline, tuple(sources(timeline, SMALL)),
                   narrations=(NarrationPlacement(voice, 0.2, 2.0),), video=SMALL)
    FfmpegMuxer(runner=Recording()).mux(plan, tmp_path / "final.mp4")
    assert ("encode", 0) in seen and ("mux", 0) in seen
    mixing = [nice for stage, nice in seen if stage in ("mix", "measure")]
    assert mixing and all(nice == 10 for nice in mixing)
    seen.clear()
    FfmpegMuxer(runner=Recording(), audio_nice=0).mux(plan, tmp_path / "again.mp4")
    assert {nice for _, nice in seen} == {0}


def test_frame_source_with_the_wrong_frame_count(tmp_path: Path) -> None:
    timeline = Timeline.build([1.0, 1.0], "none")
    other = Timeline.build([1.0, 1.5], "none")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RenderFailed) as info:
        FfmpegMuxer().mux(MuxPlan(timeline, tuple(sources(other, SMALL)), video=SMALL),
                          out_dir / "final.mp4")
    assert "scene 2" in str(info.value)
    assert only(out_dir)


# ----------------------------------------------------------------- motion
def test_streamed_pan_is_subpixel_smooth(tmp_path: Path) -> None:
    """A pan in the second scene of a streamed crossfade video: its body frames
    move as smoothly as a pan rendered alone (same measurement as test_kenburns)."""
    timeline = Timeline.build([1.0, 3.0], "crossfade", 0.5)
    fps = LOSSLESS.fps
    counts = timeline.frame_counts(fps)
    streamed = sources(timeline, LOSSLESS, actions=("zoom in", "pan right"))
    out = tmp_path / "pan.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, tuple(streamed), video=LOSSLESS), out)
    frames = list(decode_frames(out, pix_fmt="gray"))
    assert len(frames) == timeline.total_frames(fps)
    body = [half_resolution(f) for f in frames[counts[0]:]]  # after the overlap
    assert len(body) == counts[1] - timeline.overlap_frames(fps) == 60
    shifts = np.array([phase_shift(a, b) for a, b in itertools.pairwise(body)])
    # pan right: the picture moves left
    assert shifts[:, 0].sum() < -10
    assert np.abs(shifts[:, 1]).max() < 0.05
    jitter = np.abs(shift_jitter(shifts[:, 0])).max()
    assert jitter < 0.01, f"frame-to-frame shift deviates {jitter:.4f} px from its local mean"
