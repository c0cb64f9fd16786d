"""FfmpegMuxer on clip files: transitions exactly on the timeline, captions, failures.

Clip files enter the one encode path as frame sources (decoded); the output
checks run in both render modes: ``stream`` (one encoder) and ``chunked`` (chunks
encoded apart, see ``Timeline.chunk_bounds``, joined by stream copy)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import decode_frames, probe
from videogen_core.errors import Cancelled, RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest, Cue, MuxPlan
from videogen_core.progress import CancelToken
from videogen_core.timeline import Timeline

PHOTO = Path(__file__).parents[1] / "fixtures" / "ffmpeg" / "astronaut_480x270.jpg"
SETTINGS = VideoSettings(width=96, height=54, fps=12, crf=20, preset="ultrafast")


def render_clips(timeline: Timeline, settings: VideoSettings, folder: Path,
                 actions: tuple[str, ...] = ("zoom in", "pan left", "tilt up")) -> tuple[Path, ...]:
    """Ken Burns clips exactly as the pipeline asks for them (frame counts, cut frames)."""
    counts = timeline.frame_counts(settings.fps)
    renderer = KenBurnsClipRenderer()
    pool = ThreadPoolExecutorAdapter(2)
    jobs = []
    for i, duration in enumerate(timeline.durations):
        request = ClipRequest(PHOTO, duration, actions[i % len(actions)], i, settings=settings,
                              cut_frames=timeline.cut_frames(i, settings.fps),
                              frame_count=counts[i])
        jobs.append(pool.submit(renderer.render, request, folder / f"clip_{i}.mp4"))
    clips = tuple(job.result().path for job in jobs)
    pool.shutdown()
    return clips


class RecordingExecutor:
    """A thread pool that counts what was submitted."""

    workers = 2

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutorAdapter(2)
        self.submitted = 0
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> dict[str, tuple[Timeline, tuple[Path, ...]]]:
    folder = tmp_path_factory.mktemp("clips")
    out = {}
    for kind in ("none", "fade", "crossfade"):
        timeline = Timeline.build([2.0, 1.5, 2.25], kind, 0.5)
        sub = folder / kind
        sub.mkdir()
        out[kind] = (timeline, render_clips(timeline, SETTINGS, sub))
    return out


@pytest.mark.parametrize("mode", ["stream", "chunked"])
@pytest.mark.parametrize("kind", ["none", "fade", "crossfade"])
def test_duration_and_frames_match_the_timeline(three, kind: str, mode: str,
                                                tmp_path: Path) -> None:
    timeline, clips = three[kind]
    executor = RecordingExecutor()
    out = tmp_path / "final.mp4"
    result = FfmpegMuxer().mux(MuxPlan(timeline, clips, video=SETTINGS, render_mode=mode), out,
                               executor=executor)
    info = probe(out)
    fps = SETTINGS.fps
    assert info.frames == timeline.total_frames(fps) == result.frames
    assert len(list(decode_frames(out, pix_fmt="gray"))) == timeline.total_frames(fps)
    assert abs(info.video_duration - timeline.total) <= 1 / fps
    assert abs(result.duration - timeline.total) <= 1 / fps
    assert info.has_audio and info.audio_duration >= info.video_duration - 1e-3
    assert result.warnings == ()
    expected_total = {"none": 5.75, "fade": 5.75, "crossfade": 4.75}[kind]
    assert timeline.total == pytest.approx(expected_total)
    # chunked: one encode per chunk, each through the executor; streamed: ONE encoder
    # on the calling thread
    assert executor.submitted == (len(timeline.chunk_bounds(fps)) if mode == "chunked"
                                  else 0)


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_fade_goes_through_black(three, mode: str, tmp_path: Path) -> None:
    timeline, clips = three["fade"]
    out = tmp_path / "fade.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, clips, video=SETTINGS, render_mode=mode), out)
    means = [float(f.mean()) for f in decode_frames(out, pix_fmt="gray")]
    cut = timeline.frame_counts(SETTINGS.fps)[0]  # first frame of scene 2
    half = timeline.fade_frames(SETTINGS.fps)
    assert half == 3
    assert means[cut] < 20  # black (limited range: 16) where scene 2 fades in
    assert means[cut - half - 1] > 60 and means[cut + half] > 60
    assert means[cut - 1] < means[cut - half]  # fading out


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_crossfade_blends_both_scenes(three, mode: str, tmp_path: Path) -> None:
    timeline, clips = three["crossfade"]
    out = tmp_path / "xfade.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, clips, video=SETTINGS, render_mode=mode), out)
    frames = [f.astype(float) for f in decode_frames(out, pix_fmt="gray")]
    ov = timeline.overlap_frames(SETTINGS.fps)
    start = timeline.frame_counts(SETTINGS.fps)[0] - ov  # overlap starts here
    tail = [f.astype(float) for f in decode_frames(clips[0], pix_fmt="gray")][-ov:]
    head = [f.astype(float) for f in decode_frames(clips[1], pix_fmt="gray")][:ov]
    middle = ov // 2
    blended = frames[start + middle]
    d_tail = np.abs(blended - tail[middle]).mean()
    d_head = np.abs(blended - head[middle]).mean()
    d_mix = np.abs(blended - (tail[middle] + head[middle]) / 2).mean()
    assert d_mix < d_tail and d_mix < d_head


def test_soft_and_burnt_subtitles(three, tmp_path: Path) -> None:
    timeline, clips = three["none"]
    cues = (Cue(0.2, 1.8, "Hello captions"), Cue(2.5, 4.0, "A second line"))
    soft = tmp_path / "soft.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, clips, cues=cues, video=SETTINGS), soft)
    assert probe(soft).subtitle_streams == 1
    import av

    with av.open(str(soft)) as container:
        assert container.streams.subtitles[0].codec_context.name == "mov_text"
    burnt = tmp_path / "burnt.mp4"
    settings = VideoSettings(width=320, height=180, fps=12, crf=20, preset="ultrafast")
    big_clips = render_clips(timeline, settings, tmp_path)
    plain = tmp_path / "plain.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, big_clips, video=settings, soft_subtitles=False), plain)
    FfmpegMuxer().mux(MuxPlan(timeline, big_clips, cues=cues, video=settings,
                              soft_subtitles=False, burn_subtitles=True), burnt)
    info = probe(burnt)
    assert info.subtitle_streams == 0 and info.frames == timeline.total_frames(12)
    a = list(decode_frames(plain, pix_fmt="gray"))[12][120:, :].astype(float)
    b = list(decode_frames(burnt, pix_fmt="gray"))[12][120:, :].astype(float)
    assert np.abs(a - b).mean() > 2  # the caption is drawn at the bottom


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_a_clip_that_does_not_fit_is_fitted_with_a_warning(three, mode: str,
                                                           tmp_path: Path) -> None:
    timeline, clips = three["crossfade"]
    fps = SETTINGS.fps
    counts = timeline.frame_counts(fps)
    # no IDR at the cuts: nothing is cut by stream copy any more, so this one fits
    no_keys = tmp_path / "no_keyframes.mp4"
    KenBurnsClipRenderer().render(ClipRequest(PHOTO, 1.5, "zoom out", 3, settings=SETTINGS,
                                              frame_count=counts[1]), no_keys)
    # twice the size and 6 frames short: decoded, scaled down, the last frame held
    big = VideoSettings(width=192, height=108, fps=fps, crf=20, preset="ultrafast")
    wrong = tmp_path / "wrong.mp4"
    KenBurnsClipRenderer().render(ClipRequest(PHOTO, 1.0, "static", 3, settings=big,
                                              frame_count=counts[2] - 6), wrong)
    result = FfmpegMuxer().mux(MuxPlan(timeline, (clips[0], no_keys, wrong), video=SETTINGS,
                                       render_mode=mode), tmp_path / "out.mp4")
    assert result.frames == probe(tmp_path / "out.mp4").frames == timeline.total_frames(fps)
    assert len(result.warnings) == 1
    assert "clip 3" in result.warnings[0] and "192x108 instead of 96x54" in result.warnings[0]
    assert f"{counts[2] - 6} frames instead of {counts[2]}" in result.warnings[0]
    out = [f.astype(float) for f in decode_frames(tmp_path / "out.mp4", pix_fmt="gray")]
    assert np.abs(out[-1] - out[-5]).mean() < 2  # the held last frame (a static clip)


def test_unreadable_clip_is_render_failed_without_partial_output(three, tmp_path: Path) -> None:
    timeline, clips = three["none"]
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    out = tmp_path / "final.mp4"
    with pytest.raises(RenderFailed):
        FfmpegMuxer().mux(MuxPlan(timeline, (clips[0], bad, clips[2]), video=SETTINGS), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_failing_ffmpeg_keeps_its_stderr_tail(three, tmp_path: Path) -> None:
    from videogen_core.ports import NarrationPlacement

    timeline, clips = three["none"]
    garbage = tmp_path / "voice.wav"
    garbage.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    out = tmp_path / "final.mp4"
    plan = MuxPlan(timeline, clips, narrations=(NarrationPlacement(garbage, 0.5, 1.0),),
                   video=SETTINGS)
    with pytest.raises(RenderFailed) as info:
        FfmpegMuxer().mux(plan, out)
    assert info.value.details["stderr_tail"]
    assert "voice.wav" in info.value.details["stderr_tail"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice.wav"]


def test_cancellation(three, tmp_path: Path) -> None:
    timeline, clips = three["crossfade"]
    token = CancelToken()
    out = tmp_path / "final.mp4"
    with pytest.raises(Cancelled):
        FfmpegMuxer().mux(MuxPlan(timeline, clips, video=SETTINGS), out,
                          progress=lambda f: token.cancel(), cancel=token)
    assert list(tmp_path.iterdir()) == []


def test_wrong_number_of_clips(three, tmp_path: Path) -> None:
    timeline, clips = three["none"]
    with pytest.raises(RenderFailed):
        FfmpegMuxer().mux(MuxPlan(timeline, clips[:2], video=SETTINGS), tmp_path / "x.mp4")


def test_single_scene_and_zero_length_fade(tmp_path: Path) -> None:
    single = Timeline.build([1.5], "crossfade", 0.5)
    clips = render_clips(single, SETTINGS, tmp_path)
    result = FfmpegMuxer().mux(MuxPlan(single, clips, video=SETTINGS), tmp_path / "one.mp4")
    assert result.frames == 18
    no_fade = Timeline.build([1.0, 1.0], "fade", 0.0)
    clips = render_clips(no_fade, SETTINGS, tmp_path / "b") if (tmp_path / "b").mkdir() is None \
        else ()
    result = FfmpegMuxer().mux(MuxPlan(no_fade, clips, video=SETTINGS), tmp_path / "two.mp4")
    assert result.frames == 24 and abs(result.duration - 2.0) <= 1 / 12
