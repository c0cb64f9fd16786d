"""Chunked muxing with a cache: unchanged re-runs encode nothing, an edit re-encodes
only the chunks it touches, an interrupted run resumes from the chunks made.

Real ffmpeg and Ken Burns frame sources at a tiny size; lossless so that frames
can be compared exactly.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from tests.unit.ffmpeg.test_muxer_stream import PHOTO

from videogen_adapters.cache import DiskCache
from videogen_adapters.executors.threads import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer, chunk_key
from videogen_adapters.ffmpeg.probe import decode_frames, probe
from videogen_core.errors import Cancelled
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest, Cue, MuxPlan
from videogen_core.progress import CancelToken
from videogen_core.timeline import Timeline

TINY = VideoSettings(width=64, height=36, fps=12, crf=0, preset="ultrafast")
ACTIONS = ["zoom in", "pan left", "tilt up", "zoom out"]


def plan(timeline: Timeline, actions: list[str], **kwargs: object) -> MuxPlan:
    counts = timeline.frame_counts(TINY.fps)
    renderer = KenBurnsClipRenderer()
    sources = tuple(renderer.stream(ClipRequest(PHOTO, d, actions[i], i, settings=TINY,
                                                scene_number=i + 1, frame_count=counts[i]))
                    for i, d in enumerate(timeline.durations))
    # scene keys as the pipeline makes them: anything deciding the frames changes them
    keys = tuple(f"{a}-{i}-{counts[i]}" for i, a in enumerate(actions))
    return MuxPlan(timeline, sources, video=TINY, render_mode="chunked", scene_keys=keys,
                   **kwargs)  # type: ignore[arg-type]


def frames(path: Path) -> list[bytes]:
    return [f.tobytes() for f in decode_frames(path, pix_fmt="yuv420p")]


@pytest.mark.parametrize("kind, touched", [("none", 1), ("fade", 1), ("crossfade", 3)])
def test_rerun_encodes_nothing_and_an_edit_only_its_chunks(kind: str, touched: int,
                                                           tmp_path: Path) -> None:
    timeline = Timeline.build([1.0, 1.5, 1.25, 1.25], kind, 0.5)
    chunks = len(timeline.chunk_bounds(TINY.fps))
    cache = DiskCache(tmp_path / "cache", 1 << 30)
    muxer = FfmpegMuxer(cache=cache)
    pool = ThreadPoolExecutorAdapter(2)
    first = muxer.mux(plan(timeline, ACTIONS), tmp_path / "a.mp4", executor=pool)
    assert (muxer.chunk_encodes, muxer.chunk_hits) == (chunks, 0)
    assert first.frames == probe(tmp_path / "a.mp4").frames == timeline.total_frames(12)

    again = muxer.mux(plan(timeline, ACTIONS), tmp_path / "b.mp4", executor=pool)
    assert (muxer.chunk_encodes, muxer.chunk_hits) == (chunks, chunks)  # nothing encoded
    assert again.frames == first.frames
    assert frames(tmp_path / "a.mp4") == frames(tmp_path / "b.mp4")

    edited = [*ACTIONS]
    edited[2] = "pan right"
    muxer.mux(plan(timeline, edited), tmp_path / "c.mp4", executor=pool)
    assert muxer.chunk_encodes == chunks + touched  # only the edited scene's chunk(s)
    a, c = frames(tmp_path / "a.mp4"), frames(tmp_path / "c.mp4")
    assert len(a) == len(c)
    starts = timeline.scene_starts_frames(12)
    counts = timeline.frame_counts(12)
    changed = [k for k in range(len(a)) if a[k] != c[k]]
    # exactly the third scene's frames changed (where the static first frame... of a
    # pan differs): never outside the scene
    assert changed and starts[2] <= min(changed) and max(changed) < starts[2] + counts[2]


def test_an_interrupted_run_resumes_from_the_chunks_made(tmp_path: Path) -> None:
    timeline = Timeline.build([1.0, 1.0, 1.0, 1.0], "none")
    cache = DiskCache(tmp_path / "cache", 1 << 30)
    muxer = FfmpegMuxer(cache=cache)
    token = CancelToken()

    def progress(fraction: float) -> None:
        if muxer.chunk_encodes >= 2:  # two of four chunks made (one at a time: inline)
            token.cancel()

    with pytest.raises(Cancelled):
        muxer.mux(plan(timeline, ACTIONS), tmp_path / "a.mp4", progress=progress,
                  cancel=token)
    made = muxer.chunk_encodes
    assert made == 2
    assert not (tmp_path / "a.mp4").exists()
    muxer.mux(plan(timeline, ACTIONS), tmp_path / "a.mp4")
    assert muxer.chunk_hits == made and muxer.chunk_encodes == 4  # the rest only


def test_chunk_keys_follow_what_decides_the_frames() -> None:
    timeline = Timeline.build([1.0, 1.5, 1.0], "crossfade", 0.4)
    base = plan(timeline, ACTIONS[:3])
    bounds = timeline.chunk_bounds(12)
    keys = [chunk_key(base, a, b, False) for a, b in bounds]
    assert len(set(keys)) == len(keys)
    import attrs

    other_crf = attrs.evolve(base, video=attrs.evolve(TINY, crf=1))
    assert all(chunk_key(other_crf, a, b, False) != k for (a, b), k in zip(bounds, keys,
                                                                            strict=True))
    # burnt captions: only chunks whose time shows a caption change
    cued = attrs.evolve(base, cues=(Cue(0.1, 0.4, "hi"),))
    burnt = [chunk_key(cued, a, b, True) for a, b in bounds]
    plain = [chunk_key(attrs.evolve(base, cues=()), a, b, True) for a, b in bounds]
    assert burnt[0] != plain[0] and burnt[-1] == plain[-1]


def test_a_scene_without_a_key_keeps_its_chunks_out_of_the_cache(tmp_path: Path) -> None:
    """A scene whose frames are not what its key says (a fallback renderer's clip) has
    an empty key: the chunks touching it are encoded and not cached, the others are."""
    timeline = Timeline.build([1.0, 1.5, 1.0], "crossfade", 0.4)
    base = plan(timeline, ACTIONS[:3])
    unkeyed = attrs.evolve(base, scene_keys=(base.scene_keys[0], "", base.scene_keys[2]))
    bounds = timeline.chunk_bounds(12)
    keys = [chunk_key(unkeyed, a, b, False) for a, b in bounds]
    assert keys[0] and keys[-1] and keys[1:-1] == ["", "", ""]  # scene 2, its overlaps
    cache = DiskCache(tmp_path / "cache", 1 << 30)
    muxer = FfmpegMuxer(cache=cache)
    for name in ("a.mp4", "b.mp4"):
        muxer.mux(unkeyed, tmp_path / name)
    assert (muxer.chunk_encodes, muxer.chunk_hits) == (5 + 3, 2)


def test_an_unchanged_soundtrack_is_not_mixed_again(tmp_path: Path) -> None:
    from tests.unit.ffmpeg.test_muxer_stream import write_voice

    from videogen_core.ports import NarrationPlacement

    voice = write_voice(tmp_path / "voice.wav", 1.5)
    timeline = Timeline.build([1.0, 1.5], "none")
    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    narrated = (NarrationPlacement(voice, 0.3, 1.5),)
    first = muxer.mux(plan(timeline, ACTIONS[:2], narrations=narrated), tmp_path / "a.mp4")
    again = muxer.mux(plan(timeline, ACTIONS[:2], narrations=narrated), tmp_path / "b.mp4")
    assert muxer.audio_mixes == 1
    assert probe(tmp_path / "b.mp4").has_audio
    assert again.loudness_lufs == first.loudness_lufs
    later = (NarrationPlacement(voice, 0.5, 1.5),)  # moved: another mix
    muxer.mux(plan(timeline, ACTIONS[:2], narrations=later), tmp_path / "c.mp4")
    assert muxer.audio_mixes == 2


def test_the_longest_chunks_are_encoded_first(tmp_path: Path) -> None:
    """Chunks go to the executor longest first (the short overlaps fill the end, no
    core waits through a long last chunk); the video keeps its order."""
    submitted: list[tuple[int, int]] = []
    pool = ThreadPoolExecutorAdapter(2)

    class Recording:
        workers = 2

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(args[2])  # (self._encode_chunk, plan, sources, bound, ...)
            return pool.submit(fn, *args, **kwargs)

    timeline = Timeline.build([1.0, 2.0, 1.5], "crossfade", 0.5)
    bounds = timeline.chunk_bounds(TINY.fps)
    muxer = FfmpegMuxer()
    result = muxer.mux(plan(timeline, ACTIONS[:3]), tmp_path / "a.mp4", executor=Recording())
    lengths = [b - a for a, b in submitted]
    assert sorted(submitted) == list(bounds) and lengths == sorted(lengths, reverse=True)
    assert lengths[0] > lengths[-1]
    streamed = muxer.mux(attrs.evolve(plan(timeline, ACTIONS[:3]), render_mode="stream"),
                         tmp_path / "b.mp4")
    assert result.frames == streamed.frames == timeline.total_frames(TINY.fps)
    assert frames(tmp_path / "a.mp4") == frames(tmp_path / "b.mp4")  # lossless: the same


def test_side_by_side_chunk_encoders_share_the_cores(tmp_path: Path) -> None:
    import os

    from videogen_adapters.ffmpeg.runner import FfmpegRunner

    threads: list[str] = []

    class Recording(FfmpegRunner):
        def run(self, argv, *, stage, cancel=None, feed=None):  # type: ignore[no-untyped-def]
            if stage == "encode":
                threads.append(argv[argv.index("-threads") + 1])
            return super().run(argv, stage=stage, cancel=cancel, feed=feed)

    timeline = Timeline.build([1.0, 1.0, 1.0], "none")
    FfmpegMuxer(runner=Recording()).mux(plan(timeline, ACTIONS[:3]), tmp_path / "a.mp4",
                                        executor=ThreadPoolExecutorAdapter(2))
    cores = os.cpu_count() or 1
    assert threads == [str(max(1, -(-cores // 2)))] * 3
    threads.clear()
    FfmpegMuxer(runner=Recording()).mux(plan(timeline, ACTIONS[:3]), tmp_path / "b.mp4")
    assert len(threads) == 3 and all(int(t) >= cores for t in threads)  # one at a time


def test_a_failing_chunk_stops_the_others_and_leaves_no_file(tmp_path: Path) -> None:
    from tests.unit.ffmpeg.test_muxer_stream import Slow, Wrapped, helper_threads

    from videogen_core.errors import InvalidImage

    timeline = Timeline.build([20.0, 1.0, 1.0], "none")  # the first chunk is long and slow
    base = plan(timeline, ACTIONS[:3])
    error = InvalidImage("scene_3.jpg", "truncated", 3)
    Slow.produced = 0
    streamed: list[Wrapped] = [Slow(base.clips[0]), Wrapped(base.clips[1]),  # type: ignore
                               Wrapped(base.clips[2], fail_at=3, error=error)]  # type: ignore
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    with pytest.raises(InvalidImage) as info:
        muxer.mux(attrs.evolve(base, clips=tuple(streamed)), out_dir / "final.mp4",
                  executor=ThreadPoolExecutorAdapter(2))
    assert info.value is error  # the failure itself, not a sibling's Cancelled
    assert list(out_dir.iterdir()) == []
    assert Slow.produced < timeline.frame_counts(12)[0] // 2  # the long chunk stopped early
    assert helper_threads() == []  # every chunk's composer closed its sources
