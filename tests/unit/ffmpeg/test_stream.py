"""composed_frames: the whole video as raw frames — transitions blended in YUV, checks, cleanup.

Pure Python: in-test frame sources yield constant-valued yuv420p frames, so
every output frame can be predicted from an independent model of the timeline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from videogen_adapters.ffmpeg.stream import black_frame, blend, composed_frames, frame_size
from videogen_core.errors import Cancelled, InvalidImage, RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import FrameSource
from videogen_core.progress import CancelToken
from videogen_core.timeline import Timeline

FPS = 10
SETTINGS = VideoSettings(width=16, height=16, fps=FPS)  # 256 luma + 2·64 chroma bytes
LUMA = 256
SIZE = 384


class Source:
    """A scene whose frame k has luma ``base + step·k`` and chroma ``chroma``.

    Records prepare/open/close into ``log`` (shared between the sources of a test).
    """

    def __init__(self, name: str, frames: int, base: int, *, step: int = 0, chroma: int = 128,
                 log: list[str] | None = None, count: int | None = None,
                 fail_at: int | None = None, error: BaseException | None = None,
                 prepare_error: BaseException | None = None, size: int = SIZE,
                 wait_for: threading.Event | None = None) -> None:
        self.name = name
        self.frames = frames
        self._count = frames if count is None else count
        self.base, self.step, self.chroma = base, step, chroma
        self.log = log if log is not None else []
        self.fail_at = fail_at
        self.error = error or RuntimeError(f"{name} broke")
        self.prepare_error = prepare_error
        self.size = size
        self.prepared = threading.Event()
        self.prepare_threads: list[str] = []
        self.wait_for = wait_for
        self.saw_next_prepared: bool | None = None
        self.closed = False

    @property
    def frame_count(self) -> int:
        return self._count

    def prepare(self) -> None:
        self.log.append(f"prepare {self.name}")
        self.prepare_threads.append(threading.current_thread().name)
        if self.prepare_error is not None:
            raise self.prepare_error
        self.prepared.set()

    def frame(self, k: int) -> bytes:
        luma = self.base + self.step * k
        return bytes([luma]) * LUMA + bytes([self.chroma]) * (self.size - LUMA)

    def open(self) -> Iterator[bytes]:
        self.log.append(f"open {self.name}")
        return self._frames()

    def _frames(self) -> Iterator[bytes]:
        try:
            for k in range(self.frames):
                if k == self.fail_at:
                    raise self.error
                if k == self.frames - 1 and self.wait_for is not None:
                    # the next scene must already be prepared while this one streams
                    self.saw_next_prepared = self.wait_for.wait(10)
                yield self.frame(k)
        finally:
            self.closed = True
            self.log.append(f"close {self.name}")


def lumas(frames: list[bytes]) -> list[int]:
    """Luma of constant frames (asserting they are constant)."""
    out = []
    for f in frames:
        y = np.frombuffer(f[:LUMA], np.uint8)
        assert (y == y[0]).all()
        out.append(int(y[0]))
    return out


def model(sources: list[Source], timeline: Timeline) -> list[tuple[float, float]]:
    """Independent float model: (luma, chroma) of every output frame, placing each
    scene at its start frame on the timeline."""
    counts = timeline.frame_counts(FPS)
    ov = timeline.overlap_frames(FPS)
    fade = timeline.fade_frames(FPS)
    starts = [sum(counts[:i]) - i * ov for i in range(len(counts))]
    out = []
    for t in range(timeline.total_frames(FPS)):
        covering = [i for i, s in enumerate(starts) if s <= t < s + counts[i]]
        values = []
        for i in covering:
            k = t - starts[i]
            y, c = float(sources[i].base + sources[i].step * k), float(sources[i].chroma)
            if fade and i < len(counts) - 1 and k >= counts[i] - fade:
                w = (counts[i] - 1 - k) / fade
                y, c = 16 + (y - 16) * w, 128 + (c - 128) * w
            if fade and i > 0 and k < fade:
                w = k / fade
                y, c = 16 + (y - 16) * w, 128 + (c - 128) * w
            values.append((y, c))
        if len(values) == 1:
            out.append(values[0])
        else:
            (ya, ca), (yb, cb) = values
            j = t - starts[covering[1]]
            w = (j + 1) / (ov + 1)
            out.append((ya * (1 - w) + yb * w, ca * (1 - w) + cb * w))
    return out


def assert_matches_model(frames: list[bytes], expected: list[tuple[float, float]]) -> None:
    assert len(frames) == len(expected)
    for t, (frame, (y, c)) in enumerate(zip(frames, expected, strict=True)):
        assert len(frame) == SIZE
        got = np.frombuffer(frame, np.uint8).astype(float)
        assert np.abs(got[:LUMA] - y).max() <= 1.0, f"frame {t}: luma {got[0]} != {y:.2f}"
        assert np.abs(got[LUMA:] - c).max() <= 1.0, f"frame {t}: chroma {got[LUMA]} != {c:.2f}"


# ------------------------------------------------------------------- helpers
def test_frame_size_and_black_frame() -> None:
    assert frame_size(SETTINGS) == SIZE
    other = VideoSettings(width=18, height=20, fps=FPS)
    assert frame_size(other) == 18 * 20 + 2 * 9 * 10  # two quarter-size chroma planes
    black = black_frame(other)
    assert black == bytes([16]) * (18 * 20) + bytes([128]) * 180


def test_blend_weights_and_rounding() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, 4096, dtype=np.uint8)
    b = rng.integers(0, 256, 4096, dtype=np.uint8)
    for weight in (0.1, 0.25, 0.5, 0.75, 0.9):
        got = np.frombuffer(blend(a.tobytes(), b.tobytes(), weight), np.uint8).astype(float)
        exact = a.astype(float) * (1 - weight) + b.astype(float) * weight
        assert np.abs(got - exact).max() <= 1.0
        assert np.abs(got - exact).mean() < 0.5  # rounded, not truncated
    assert blend(bytes([0]), bytes([200]), 0.5) == bytes([100])
    assert blend(bytes([255]), bytes([255]), 0.3) == bytes([255])  # no overflow
    assert blend(bytes([10, 20]), bytes([30, 40]), 0.0) == bytes([10, 20])
    assert blend(bytes([10, 20]), bytes([30, 40]), 1.0) == bytes([30, 40])
    assert blend(bytes([10]), bytes([30]), -0.5) == bytes([10])  # clamped
    assert blend(bytes([10]), bytes([30]), 1.5) == bytes([30])


# --------------------------------------------------------------- transitions
def test_none_concatenates_the_scenes_untouched() -> None:
    timeline = Timeline.build([1.0, 0.5, 1.2], "none")
    counts = timeline.frame_counts(FPS)
    assert counts == (10, 5, 12)
    sources = [Source("a", 10, 0, step=1, chroma=90), Source("b", 5, 100, step=2),
               Source("c", 12, 200, step=1, chroma=30)]
    frames = list(composed_frames(sources, timeline, SETTINGS))
    expected = ([s.frame(k) for k in range(s.frames)] for s in sources)
    assert frames == [f for scene in expected for f in scene]


def test_crossfade_blends_the_overlap_with_rising_weights() -> None:
    timeline = Timeline.build([1.0, 1.0, 1.0], "crossfade", 0.3)
    assert timeline.frame_counts(FPS) == (10, 10, 10)
    assert timeline.overlap_frames(FPS) == 3
    assert timeline.total_frames(FPS) == 24
    sources = [Source("a", 10, 20, chroma=60), Source("b", 10, 120, chroma=200),
               Source("c", 10, 220, chroma=100)]
    frames = list(composed_frames(sources, timeline, SETTINGS))
    assert_matches_model(frames, model(sources, timeline))
    y = lumas(frames)
    assert y[:7] == [20] * 7 and y[10:14] == [120] * 4 and y[17:] == [220] * 7
    # weights (j+1)/(N+1): neither end of the overlap is a pure copy...
    assert 20 < y[7] < y[8] < y[9] < 120
    # ...and the middle of the overlap is the exact half-way mix, chroma too
    assert y[8] == 70
    assert frames[8][LUMA:] == bytes([130]) * (SIZE - LUMA)


def test_crossfade_consumes_each_scene_in_order() -> None:
    """Scene frames that vary per index: the overlap mixes the outgoing scene's LAST
    frames with the incoming scene's FIRST frames, and the body continues after them."""
    timeline = Timeline.build([1.0, 1.2], "crossfade", 0.4)
    counts = timeline.frame_counts(FPS)
    ov = timeline.overlap_frames(FPS)
    assert (counts, ov) == ((10, 12), 4)
    sources = [Source("a", 10, 10, step=3), Source("b", 12, 150, step=5, chroma=40)]
    frames = list(composed_frames(sources, timeline, SETTINGS))
    assert_matches_model(frames, model(sources, timeline))
    y = lumas(frames)
    assert y[6 + ov] == 150 + 5 * ov  # first body frame of scene 2 is its frame N


def test_fade_goes_through_black_at_the_cut() -> None:
    timeline = Timeline.build([1.0, 1.0], "fade", 0.6)
    fade = timeline.fade_frames(FPS)
    assert (timeline.frame_counts(FPS), fade, timeline.total_frames(FPS)) == ((10, 10), 3, 20)
    sources = [Source("a", 10, 200, chroma=60), Source("b", 10, 100, chroma=240)]
    frames = list(composed_frames(sources, timeline, SETTINGS))
    assert_matches_model(frames, model(sources, timeline))
    black = black_frame(SETTINGS)
    # last frame of scene 1 and first frame of scene 2 are limited-range black
    assert frames[9] == black and frames[10] == black
    y = lumas(frames)
    assert y[:7] == [200] * 7 and y[13:] == [100] * 7
    assert y[6] > y[7] > y[8] > y[9] == 16  # fading out: (N-1-k)/N
    assert 16 == y[10] < y[11] < y[12] < y[13]  # fading in: k/N
    assert y[11] == round(16 + (100 - 16) / 3)


def test_a_single_scene_ignores_the_transition() -> None:
    timeline = Timeline.build([1.5], "crossfade", 0.5)
    source = Source("a", 15, 0, step=7)
    frames = list(composed_frames([source], timeline, SETTINGS))
    assert frames == [source.frame(k) for k in range(15)]


def test_progress_reaches_one_once_per_frame() -> None:
    timeline = Timeline.build([1.0, 1.0], "crossfade", 0.3)
    seen: list[float] = []
    frames = list(composed_frames([Source("a", 10, 1), Source("b", 10, 2)], timeline, SETTINGS,
                                  progress=seen.append))
    assert len(seen) == len(frames) == 17
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] == pytest.approx(1 / 17)


# --------------------------------------------------------------------- errors
def test_too_few_frames_names_the_scene() -> None:
    timeline = Timeline.build([1.0, 1.0], "none")
    log: list[str] = []
    short = Source("b", 7, 100, count=10, log=log)  # promises 10, yields 7
    with pytest.raises(RenderFailed) as info:
        list(composed_frames([Source("a", 10, 0, log=log), short], timeline, SETTINGS))
    assert "scene 2" in str(info.value) and "7 of 10" in str(info.value)
    assert short.closed


def test_wrong_frame_size_names_the_scene() -> None:
    timeline = Timeline.build([1.0, 1.0], "crossfade", 0.3)
    wrong = Source("b", 10, 100, size=SIZE + 2)
    first = Source("a", 10, 0)
    with pytest.raises(RenderFailed) as info:
        list(composed_frames([first, wrong], timeline, SETTINGS))
    assert "scene 2" in str(info.value) and f"{SIZE + 2} bytes" in str(info.value)
    assert first.closed and wrong.closed


def test_frame_count_that_does_not_match_the_timeline() -> None:
    timeline = Timeline.build([1.0, 1.0], "none")
    sources = [Source("a", 10, 0), Source("b", 11, 0)]
    with pytest.raises(RenderFailed) as info:
        list(composed_frames(sources, timeline, SETTINGS))
    assert "scene 2" in str(info.value) and "11" in str(info.value)
    assert sources[0].log == []  # checked before anything is prepared or opened


def test_wrong_number_of_sources() -> None:
    timeline = Timeline.build([1.0, 1.0], "none")
    with pytest.raises(RenderFailed):
        list(composed_frames([Source("a", 10, 0)], timeline, SETTINGS))


def test_invalid_image_from_prepare_propagates_unchanged() -> None:
    timeline = Timeline.build([1.0, 1.0, 1.0], "crossfade", 0.3)
    error = InvalidImage("scene_2.jpg", "truncated", 2)
    log: list[str] = []
    sources = [Source("a", 10, 0, log=log), Source("b", 10, 0, log=log, prepare_error=error),
               Source("c", 10, 0, log=log)]
    got: list[bytes] = []
    with pytest.raises(InvalidImage) as info:
        for frame in composed_frames(sources, timeline, SETTINGS):
            got.append(frame)
    assert info.value is error
    assert info.value.details["scene_number"] == 2
    assert len(got) == 7  # scene 1's body streamed; the overlap needed scene 2
    assert sources[0].closed
    assert "open b" not in log and "open c" not in log


def test_the_next_scene_is_prepared_ahead_on_a_helper_thread() -> None:
    timeline = Timeline.build([1.0, 1.0, 1.0], "fade", 0.4)
    log: list[str] = []
    c = Source("c", 10, 30, log=log)
    b = Source("b", 10, 20, log=log, wait_for=c.prepared)
    a = Source("a", 10, 10, log=log, wait_for=b.prepared)
    frames = list(composed_frames([a, b, c], timeline, SETTINGS))
    assert len(frames) == 30
    # prepared while the previous scene was still streaming, not when it was needed
    assert a.saw_next_prepared is True and b.saw_next_prepared is True
    for name in "abc":
        assert log.count(f"prepare {name}") == 1
        assert log.index(f"prepare {name}") < log.index(f"open {name}")
    assert log.index("prepare b") < log.index("close a")
    main = threading.current_thread().name
    assert all(t != main for s in (a, b, c) for t in s.prepare_threads)
    assert not [t for t in threading.enumerate() if t.name.startswith("videogen-prepare")]


def test_sources_are_closed_when_one_fails_mid_overlap() -> None:
    timeline = Timeline.build([1.0, 1.0, 1.0], "crossfade", 0.3)
    boom = RuntimeError("decoder died")
    sources = [Source("a", 10, 0), Source("b", 10, 50, fail_at=1, error=boom), Source("c", 10, 90)]
    with pytest.raises(RuntimeError) as info:
        list(composed_frames(sources, timeline, SETTINGS))
    assert info.value is boom
    # scene 1 was suspended in the middle of its tail when scene 2 failed
    assert sources[0].closed and sources[1].closed
    assert not [t for t in threading.enumerate() if t.name.startswith("videogen-prepare")]


def test_sources_are_closed_when_the_consumer_stops_early() -> None:
    timeline = Timeline.build([1.0, 1.0], "crossfade", 0.3)
    sources = [Source("a", 10, 0), Source("b", 10, 50)]
    stream = composed_frames(sources, timeline, SETTINGS)
    taken = [next(stream) for _ in range(8)]  # into the overlap: both scenes open
    assert len(taken) == 8 and not sources[0].closed and not sources[1].closed
    stream.close()
    assert sources[0].closed and sources[1].closed
    assert not [t for t in threading.enumerate() if t.name.startswith("videogen-prepare")]


def test_cancel_stops_the_stream() -> None:
    timeline = Timeline.build([1.0, 1.0], "fade", 0.4)
    token = CancelToken()
    sources = [Source("a", 10, 0), Source("b", 10, 50)]

    def progress(fraction: float) -> None:
        if fraction >= 5 / 20:
            token.cancel()

    got: list[bytes] = []
    with pytest.raises(Cancelled):
        for frame in composed_frames(sources, timeline, SETTINGS, cancel=token,
                                     progress=progress):
            got.append(frame)
    assert len(got) == 5  # the frame after the cancel is never produced
    assert sources[0].closed


def test_cancelled_before_the_first_frame() -> None:
    token = CancelToken()
    token.cancel()
    source = Source("a", 10, 0)
    with pytest.raises(Cancelled):
        next(composed_frames([source], Timeline.build([1.0]), SETTINGS, cancel=token))
    assert source.closed or "open a" not in source.log


def test_in_test_sources_fit_the_port() -> None:
    assert isinstance(Source("a", 1, 0), FrameSource)


# -------------------------------------------------------------------- chunks
class SeekableSource(Source):
    """A Source that can start at any frame (as Ken Burns can), recording where."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.opened_at: list[int] = []

    def open_at(self, offset: int) -> Iterator[bytes]:
        self.opened_at.append(offset)
        self.log.append(f"open {self.name}")
        return iter([self.frame(k) for k in range(offset, self.frames)])


@pytest.mark.parametrize("kind", ["none", "fade", "crossfade"])
@pytest.mark.parametrize("seekable", [False, True])
def test_chunks_compose_to_the_very_same_frames(kind: str, seekable: bool) -> None:
    """Every chunk of ``chunk_bounds``, composed apart, gives the frames of the whole
    stream at those positions: chunked and streamed videos hold the same frames."""
    timeline = Timeline.build([1.0, 1.3, 0.9, 1.1], kind, 0.4)
    cls = SeekableSource if seekable else Source
    counts = timeline.frame_counts(FPS)

    def sources() -> list[Source]:
        return [cls(str(i), counts[i], 20 + 50 * i, step=2, chroma=60 + 30 * i)
                for i in range(4)]

    whole = list(composed_frames(sources(), timeline, SETTINGS))
    bounds = timeline.chunk_bounds(FPS)
    assert len(bounds) == (7 if kind == "crossfade" else 4)
    pieces = []
    for a, b in bounds:
        fresh = sources()
        got = list(composed_frames(fresh, timeline, SETTINGS, start=a, stop=b))
        assert len(got) == b - a
        pieces += got
        touched = [s.name for s in fresh if f"open {s.name}" in s.log]
        starts = timeline.scene_starts_frames(FPS)
        # only the scenes the chunk covers are opened (and prepared)
        assert touched == [str(i) for i in range(4) if starts[i] < b and
                           starts[i] + counts[i] > a]
        if seekable:
            assert all(s.opened_at == [a - starts[int(s.name)]] for s in fresh
                       if s.opened_at)
    assert pieces == whole


def test_a_frame_range_outside_the_video_is_refused() -> None:
    timeline = Timeline.build([1.0])
    with pytest.raises(ValueError):
        list(composed_frames([Source("a", 10, 0)], timeline, SETTINGS, start=5, stop=11))
