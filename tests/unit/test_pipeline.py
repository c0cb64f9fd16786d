"""VideoPipeline end to end with the shipped fakes (no ffmpeg, no servers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import videogen_core.pipeline as pipeline_module
from videogen_adapters.converter import result_to_response
from videogen_adapters.executors import InlineExecutor, ThreadPoolExecutorAdapter
from videogen_adapters.fakes import (
    FakeClipRenderer,
    FakeMusicSource,
    FakeMuxer,
    FakeNarrator,
)
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import (
    STAGES,
    AnimationSettings,
    Cancelled,
    CancelToken,
    ClipRequest,
    GenerationParams,
    InvalidImage,
    InvalidRequest,
    MissingImage,
    NotFound,
    ProgressEvent,
    RenderedClip,
    RenderFailed,
    Scene,
    Sequence,
    ServiceUnavailable,
    StorageFailed,
    Timeline,
    UnknownVoice,
    VideogenError,
    movement_limit,
    parse_clip_action,
)
from videogen_core.model import derive_seed
from videogen_core.pipeline import VideoPipeline, VideoResult, music_spans

FOLDER = "f"


# ----------------------------------------------------------------- helpers
class RecordingStorage(InMemoryStorage):
    """InMemoryStorage that remembers the order of puts and can fail them on demand."""

    def __init__(self, objects: dict[str, bytes] | None = None,
                 fail_put_suffix: str | None = None,
                 fail_with: Exception | None = None) -> None:
        super().__init__(objects)
        self.puts: list[str] = []
        self.fail_put_suffix = fail_put_suffix
        self.fail_with = fail_with or StorageFailed("memory", "put", "disk full")

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        if self.fail_put_suffix is not None and key.endswith(self.fail_put_suffix):
            raise self.fail_with
        self.puts.append(key)
        return super().put(source, key, content_type)

    def video_keys(self) -> list[str]:
        return [o.key for o in self.list(f"{FOLDER}/videos")]


def images(*names: str) -> dict[str, bytes]:
    return {f"{FOLDER}/{name}": f"image {name}".encode() for name in names}


def three_scenes(**params: Any) -> Sequence:
    return Sequence(
        [
            Scene(1, "A quiet morning. The hills are still.", 5.0, "slow zoom in", "calm"),
            Scene(2, "The village wakes up.", 5.0, "pan right", "calm"),
            Scene(3, "Then the storm comes!", 5.0, "zoom out", "epic"),
        ],
        GenerationParams(**{"transition_type": "crossfade", "seed": 42, "fps": 24, **params}),
    )


class Harness:
    """A pipeline wired to fakes, with everything a test wants to look at."""

    def __init__(self, tmp_path: Path, executor: Any, *, storage: InMemoryStorage | None = None,
                 renderer: Any = None, narrator: Any = None, music: Any = "default",
                 muxer: Any = None, cache: bool = False,
                 animation: AnimationSettings | None = None) -> None:
        self.storage = storage if storage is not None else RecordingStorage(
            images("scene_1.png", "scene_2.png", "scene_3.png"))
        self.renderer = renderer or FakeClipRenderer()
        self.narrator = narrator or FakeNarrator()
        self.music = FakeMusicSource() if music == "default" else music
        self.muxer = muxer or FakeMuxer()
        self.workdir = tmp_path / "work"
        self.cache_dir = tmp_path / "cache" if cache else None
        self.pipeline = VideoPipeline(
            storage=self.storage, renderer=self.renderer, narrator=self.narrator,
            music=self.music, muxer=self.muxer, executor=executor, workdir=self.workdir,
            cache_dir=self.cache_dir, animation=animation)
        self.events: list[ProgressEvent] = []

    def run(self, sequence: Sequence, **kwargs: Any) -> VideoResult:
        kwargs.setdefault("progress", self.events.append)
        return self.pipeline.run(FOLDER, sequence, **kwargs)

    def workdir_is_clean(self) -> bool:
        return not self.workdir.exists() or list(self.workdir.iterdir()) == []

    def video(self, result: VideoResult) -> dict[str, Any]:
        assert isinstance(self.storage, InMemoryStorage)
        data: dict[str, Any] = json.loads(self.storage.read_url(result.video_url))
        return data

    def stored_nothing(self) -> bool:
        return [o.key for o in self.storage.list(f"{FOLDER}/videos")] == []


@pytest.fixture(params=["inline", "threads"])
def executor(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "inline":
        yield InlineExecutor()
        return
    pool = ThreadPoolExecutorAdapter(4)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def inline() -> InlineExecutor:
    return InlineExecutor()


# ------------------------------------------------------------------ success
def test_end_to_end_result_and_stored_video(tmp_path: Path, executor: Any) -> None:
    h = Harness(tmp_path, executor)
    result = h.run(three_scenes())
    assert result.scenes == 3
    assert result.duration == pytest.approx(15 - 2 * 0.5)
    assert result.video_key.startswith(f"{FOLDER}/videos/") and result.video_key.endswith(".mp4")
    assert result.video_url == h.storage.url(result.video_key)
    parsed = datetime.fromisoformat(result.timestamp.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None)
    assert result.warnings == ()
    assert result.size_bytes > 0
    assert [r.scene_number for r in result.scene_reports] == [1, 2, 3]
    assert [r.image for r in result.scene_reports] == [
        "f/scene_1.png", "f/scene_2.png", "f/scene_3.png"]
    video = h.video(result)
    assert video["kind"] == "video"
    assert video["scenes"] == [1, 2, 3]
    assert video["transition"] == "crossfade"
    assert video["frames"] == round(14.0 * 24)
    assert h.workdir_is_clean()
    response = result_to_response(result)
    assert response["success"] is True and response["metadata"]["scenes"] == 3
    json.dumps(response)


def test_scenes_keep_sequence_order_and_their_own_images(tmp_path: Path) -> None:
    """Scene 3 comes first, and with threads it also finishes last: the plan still
    follows the sequence, and every clip is made from its scene's image."""
    first_done = threading.Event()

    class SlowFirst(FakeClipRenderer):
        def render(self, request: ClipRequest, output_path: Path, **kwargs: Any
                   ) -> RenderedClip:
            if request.scene_number == 3:
                first_done.wait(10)
            clip = super().render(request, output_path, **kwargs)
            if request.scene_number == 2:
                first_done.set()
            return clip

    pool = ThreadPoolExecutorAdapter(4)
    try:
        h = Harness(tmp_path, pool, renderer=SlowFirst())
        seq = Sequence([Scene(3, "three", 4), Scene(1, "one", 4), Scene(2, "two", 4)],
                       GenerationParams("none", 1, 24))
        result = h.run(seq)
    finally:
        pool.shutdown()
    assert h.video(result)["scenes"] == [3, 1, 2]
    plan = h.muxer.plans[0]
    assert [p.name for p in plan.clips] == ["0000.mp4", "0001.mp4", "0002.mp4"]
    by_scene = {c.scene_number: c for c in h.renderer.calls}
    for n in (1, 2, 3):
        assert by_scene[n].image_path.name.endswith(f"scene_{n}.png")
    assert [r.image for r in result.scene_reports] == [
        "f/scene_3.png", "f/scene_1.png", "f/scene_2.png"]


def test_images_matched_by_position_when_names_have_no_numbers(tmp_path: Path,
                                                              inline: Any) -> None:
    storage = RecordingStorage(images("beach.png", "alps.jpg", "city.webp", "notes.txt"))
    h = Harness(tmp_path, inline, storage=storage)
    result = h.run(three_scenes())
    assert [r.image for r in result.scene_reports] == ["f/alps.jpg", "f/beach.png",
                                                       "f/city.webp"]


def test_clip_requests(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    h.run(three_scenes(fps=30, seed=7))
    calls = sorted(h.renderer.calls, key=lambda c: c.scene_number)
    timeline = Timeline.build([5, 5, 5], "crossfade", 0.5)
    assert [c.frames for c in calls] == list(timeline.frame_counts(30))
    assert [c.cut_frames for c in calls] == [timeline.cut_frames(i, 30) for i in range(3)]
    assert all(c.settings.fps == 30 for c in calls)
    assert all((c.settings.width, c.settings.height) == (1024, 576) for c in calls)
    assert [c.seed for c in calls] == [derive_seed(7, "scene", n) for n in (1, 2, 3)]
    assert len({c.seed for c in calls}) == 3
    assert [c.clip_action for c in calls] == ["slow zoom in", "pan right", "zoom out"]


def test_same_inputs_same_video_with_either_executor(tmp_path: Path) -> None:
    outputs = []
    for i, ex in enumerate([InlineExecutor(), ThreadPoolExecutorAdapter(3)]):
        h = Harness(tmp_path / str(i), ex)
        result = h.run(three_scenes())
        video = h.video(result)
        video.pop("narrations")  # paths inside each run's temporary directory
        outputs.append((video, result.warnings, result.scene_reports,
                        sorted((attrs.evolve(c, image_path=Path(c.image_path.name))
                                for c in h.renderer.calls), key=lambda c: c.scene_number)))
        if isinstance(ex, ThreadPoolExecutorAdapter):
            ex.shutdown()
    assert outputs[0] == outputs[1]


def test_narration_placement_cues_and_music(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    h.run(three_scenes())
    plan = h.muxer.plans[0]
    timeline = plan.timeline
    assert [n.start for n in plan.narrations] == list(timeline.narration_starts)
    assert all(n.path.name.endswith(".wav") for n in plan.narrations)
    # cues are the narrator's, shifted to where each narration starts
    first = plan.cues[0]
    assert first.start == pytest.approx(timeline.narration_starts[0])
    assert [c.text for c in plan.cues] == [
        "A quiet morning.", "The hills are still.", "The village wakes up.",
        "Then the storm comes!"]
    assert all(a.start < b.start for a, b in zip(plan.cues, plan.cues[1:], strict=False))
    # calm, calm, epic: two beds, crossfading around the boundary of scenes 2 and 3
    assert [m.mood for m in plan.music] == ["calm", "epic"]
    assert plan.music[0].start == 0.0 and plan.music[-1].end == pytest.approx(timeline.total)
    assert plan.music[0].end > plan.music[1].start
    assert [(m, round(s, 6), round(e, 6)) for m, s, e in music_spans(
        ["calm", "calm", "epic"], timeline, 2.0)] == [
        (m.mood, m.start, m.end) for m in plan.music]
    assert [c[2] for c in h.music.calls] == [derive_seed(42, "music", k) for k in (0, 1)]


def test_without_music_source(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline, music=None)
    h.run(three_scenes())
    assert h.muxer.plans[0].music == ()
    assert "music" not in {e.stage for e in h.events}
    assert h.events[-1].percent == 100.0


# ----------------------------------------------------------------- progress
def test_progress_events_every_stage(tmp_path: Path, executor: Any) -> None:
    h = Harness(tmp_path, executor)
    h.run(three_scenes())
    events = h.events
    assert [e for e in dict.fromkeys(e.stage for e in events)] == list(STAGES)
    percents = [e.percent for e in events]
    assert percents == sorted(percents)
    assert percents[0] == 0.0
    assert events[-1].stage == "store" and events[-1].percent == 100.0
    for stage in STAGES:
        mine = [e for e in events if e.stage == stage]
        assert len({e.total for e in mine}) == 1
        assert mine[0].done == 0
        assert mine[-1].done == mine[-1].total
        assert [e.done for e in mine] == sorted(e.done for e in mine)
    for stage in ("fetch", "narrate", "render"):
        mine = [e for e in events if e.stage == stage]
        assert mine[0].total == 3
        assert {e.scene_number for e in mine if e.done} == {1, 2, 3}
    music = [e for e in events if e.stage == "music"]
    assert music[0].total == 2  # two mood spans


# ----------------------------------------------------------------- warnings
def test_warning_for_dropped_movements(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    seq = Sequence([Scene(1, "", 3.0, "zoom in, pan left and tilt up"),
                    Scene(2, "", 5.0, "zoom in, pan left")], GenerationParams("none"))
    result = h.run(seq)
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.startswith("scene 1:")
    assert "pan left" in warning and "tilt up" in warning and "zoom in" not in warning
    assert "at most 1" in warning
    assert result.scene_reports[0].clip_action == "zoom in"
    assert result.scene_reports[1].clip_action == "zoom in, pan left"
    assert sorted(c.clip_action for c in h.renderer.calls) == ["zoom in", "zoom in, pan left"]


def test_narration_sped_up_to_fit(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    # window of the first scene: 4 − lead-in 0.25 − gap 0.2 = 3.55 s;
    # 60 characters at 15/s = 4 s → speed 4/3.55 ≈ 1.127 (under the 1.25 cap)
    text = "x" * 60
    seq = Sequence([Scene(1, text, 4.0), Scene(2, "", 4.0)], GenerationParams("none"))
    result = h.run(seq)
    report = result.scene_reports[0]
    assert report.narration_speed == pytest.approx(4 / 3.55, abs=1e-3)
    assert report.extended_by == 0.0 and report.duration == 4.0
    assert report.narration_duration <= 3.55 + 1e-3
    assert [w for w in result.warnings if "sped up" in w] == [
        "scene 1: narration sped up ×1.13 to fit the scene"]
    assert not [w for w in result.warnings if "extended" in w]
    assert (text, None, pytest.approx(4 / 3.55)) in h.narrator.calls
    assert result.duration == pytest.approx(8.0)


def test_scene_extended_when_speeding_up_is_not_enough(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    text = "y" * 150  # 10 s of fake speech in a 3 s scene
    seq = Sequence([Scene(1, "", 3.0), Scene(2, text, 3.0), Scene(3, "", 3.0)],
                   GenerationParams("crossfade"))
    result = h.run(seq)
    report = result.scene_reports[1]
    assert report.narration_speed == 1.25
    # the sped-up narration (8 s) plus incoming overlap, lead-in and gap
    assert report.duration == pytest.approx(8.0 + 0.5 + 0.25 + 0.2)
    assert report.extended_by == pytest.approx(report.duration - 3.0)
    assert any(w.startswith("scene 2: extended from 3 s to 8.95 s") for w in result.warnings)
    assert any(w.startswith("scene 2: narration sped up ×1.25") for w in result.warnings)
    # the real duration is reported and the timeline handed to the muxer was extended
    assert result.duration == pytest.approx(3 + 8.95 + 3 - 2 * 0.5)
    plan = h.muxer.plans[0]
    assert plan.timeline.durations[1] == pytest.approx(8.95)
    scene2 = next(c for c in h.renderer.calls if c.scene_number == 2)
    assert scene2.duration == pytest.approx(8.95)
    # the narration is never cut: it ends before the next scene's narration starts
    narration = plan.narrations[0]
    assert narration.start + narration.duration <= plan.timeline.narration_starts[2]


def test_adapter_warnings_are_collected(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    seq = Sequence([Scene(1, "", 5.0, "", "jazzy")], GenerationParams("none"))
    result = h.run(seq)
    assert result.warnings == ("music: unknown mood 'jazzy', using 'calm'",)


# ---------------------------------------------------------------- storage
def test_stored_keys_subtitles_first_video_last(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    result = h.run(three_scenes())
    stem = result.video_key.removesuffix(".mp4")
    assert h.storage.puts == [f"{stem}.srt", f"{stem}.vtt", f"{stem}.words.json",
                              f"{stem}.mp4"]
    assert h.storage.video_keys() == sorted(h.storage.puts)
    assert result.subtitles == {"srt": h.storage.url(f"{stem}.srt"),
                                "vtt": h.storage.url(f"{stem}.vtt"),
                                "words": h.storage.url(f"{stem}.words.json")}
    srt = h.storage.read_bytes(f"{stem}.srt").decode()
    vtt = h.storage.read_bytes(f"{stem}.vtt").decode()
    assert srt.startswith("1\n00:00:00,250 --> ")
    assert vtt.startswith("WEBVTT\n\n00:00:00.250 --> ")
    assert "The village wakes up." in srt
    assert "The village wakes up." in "".join(vtt.split(">")[i].split("<")[0]  # no stamps
                                              for i in range(vtt.count(">") + 1))
    assert h.storage.stat(f"{stem}.mp4").content_type == "video/mp4"
    assert h.storage.stat(f"{stem}.vtt").content_type == "text/vtt"


def test_no_subtitles_without_narration(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    seq = Sequence([Scene(1, "", 3.0), Scene(2, "  ", 3.0)], GenerationParams("fade"))
    result = h.run(seq)
    assert result.subtitles == {}
    assert h.storage.puts == [result.video_key]
    assert h.muxer.plans[0].narrations == ()


def test_different_jobs_in_the_same_second_get_different_keys(
        tmp_path: Path, inline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    monkeypatch.setattr(pipeline_module, "datetime", Frozen)
    h = Harness(tmp_path, inline)
    first = h.run(three_scenes())
    other = Sequence([attrs_evolve_narration(s, "Something else entirely.")
                      for s in three_scenes().scenes], three_scenes().params)
    second = h.run(other)
    assert first.video_key != second.video_key
    assert h.video(first) != h.video(second)  # the first URL still serves the first video
    assert first.timestamp == second.timestamp == "2026-01-02T03:04:05Z"


def attrs_evolve_narration(scene: Scene, narration: str) -> Scene:
    return attrs.evolve(scene, narration=narration)


# ---------------------------------------------------------------- failures
def test_validation_fails_before_any_work(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline, animation=AnimationSettings(max_scene_duration=10))
    seq = Sequence([Scene(1, "hi", 5.0), Scene(2, "hi", 11.0)])
    with pytest.raises(InvalidRequest) as info:
        h.run(seq)
    assert info.value.field == "sequence_data[1].duration"
    assert h.renderer.calls == [] and h.narrator.calls == []
    assert h.stored_nothing() and h.workdir_is_clean()


def test_missing_image(tmp_path: Path, inline: Any) -> None:
    storage = RecordingStorage(images("a.png", "b.png"))
    h = Harness(tmp_path, inline, storage=storage)
    with pytest.raises(MissingImage) as info:
        h.run(three_scenes())
    assert info.value.details["scene_number"] == 3
    assert info.value.details["available"] == ["a.png", "b.png"]
    assert h.renderer.calls == []
    assert h.stored_nothing() and h.workdir_is_clean()


def test_missing_folder(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline, storage=RecordingStorage({"other/x.png": b"x"}))
    with pytest.raises(NotFound):
        h.run(three_scenes())
    assert h.workdir_is_clean()


def test_unknown_voice_is_reported_at_its_field(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    with pytest.raises(UnknownVoice) as info:
        h.run(three_scenes(voice="nobody"))
    assert info.value.field == "generation_params.voice"
    assert h.stored_nothing() and h.workdir_is_clean()


@pytest.mark.parametrize(
    "error",
    [InvalidImage("scene_2.png", "corrupt", 2), RenderFailed("render", "model crashed"),
     ServiceUnavailable("comfyui", "connection refused")],
)
def test_domain_errors_pass_through_and_clean_up(tmp_path: Path, executor: Any,
                                                 error: VideogenError) -> None:
    h = Harness(tmp_path, executor, renderer=FakeClipRenderer(fail=error, fail_on_scene=2))
    with pytest.raises(type(error)) as info:
        h.run(three_scenes())
    assert info.value is error
    assert h.muxer.plans == []
    assert h.stored_nothing() and h.workdir_is_clean()


@pytest.mark.parametrize(
    ("where", "stage"),
    [("renderer", "render"), ("narrator", "narrate"), ("music", "music"), ("muxer", "mux")],
)
def test_foreign_exceptions_become_render_failed(tmp_path: Path, executor: Any, where: str,
                                                 stage: str) -> None:
    boom = ValueError("boom")
    adapters: dict[str, Any] = {
        "renderer": FakeClipRenderer(fail=boom), "narrator": FakeNarrator(fail=boom),
        "music": FakeMusicSource(fail=boom), "muxer": FakeMuxer(fail=boom)}
    h = Harness(tmp_path, executor, **{where: adapters[where]})
    with pytest.raises(RenderFailed) as info:
        h.run(three_scenes())
    err = info.value
    assert err.stage == stage
    assert "ValueError: boom" in err.message
    assert err.__cause__ is boom
    assert h.stored_nothing() and h.workdir_is_clean()


def test_muxer_failure_stores_nothing(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline, muxer=FakeMuxer(fail=RenderFailed("mux", "ffmpeg exited 1")))
    with pytest.raises(RenderFailed):
        h.run(three_scenes())
    assert h.storage.puts == []
    assert h.stored_nothing() and h.workdir_is_clean()


@pytest.mark.parametrize("error", [StorageFailed("memory", "put", "disk full"),
                                   OSError("disk full")])
def test_failed_video_put_removes_the_subtitles(tmp_path: Path, inline: Any,
                                                error: Exception) -> None:
    storage = RecordingStorage(images("scene_1.png", "scene_2.png", "scene_3.png"),
                               fail_put_suffix=".mp4", fail_with=error)
    h = Harness(tmp_path, inline, storage=storage)
    with pytest.raises(VideogenError):
        h.run(three_scenes())
    assert len(storage.puts) == 3  # the captions were stored, then removed again
    assert h.stored_nothing() and h.workdir_is_clean()


def test_failed_subtitle_put_stores_nothing(tmp_path: Path, inline: Any) -> None:
    storage = RecordingStorage(images("scene_1.png", "scene_2.png", "scene_3.png"),
                               fail_put_suffix=".vtt")
    h = Harness(tmp_path, inline, storage=storage)
    with pytest.raises(StorageFailed):
        h.run(three_scenes())
    assert h.stored_nothing() and h.workdir_is_clean()


def test_workdir_is_created_and_left_empty(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    assert not h.workdir.exists()
    h.run(three_scenes())
    assert h.workdir.is_dir() and h.workdir_is_clean()


# ------------------------------------------------------------ cancellation
@pytest.mark.parametrize("stage", list(STAGES))
def test_cancel_from_a_progress_callback(tmp_path: Path, executor: Any, stage: str) -> None:
    h = Harness(tmp_path, executor)
    token = CancelToken()

    def on_event(event: ProgressEvent) -> None:
        h.events.append(event)
        if event.stage == stage:
            token.cancel()

    with pytest.raises(Cancelled):
        h.run(three_scenes(), progress=on_event, cancel=token)
    assert h.stored_nothing() and h.workdir_is_clean()
    later = list(STAGES)[list(STAGES).index(stage) + 1:]
    # no stage after the cancelled one reports finished work
    assert not [e for e in h.events if e.stage in later and e.done]
    if stage in ("validate", "fetch"):
        assert h.narrator.calls == [] and h.renderer.calls == []
    if stage in ("validate", "fetch", "narrate", "render", "music"):
        assert h.muxer.plans == []


def test_cancel_while_rendering_on_threads(tmp_path: Path) -> None:
    token = CancelToken()

    class CancelOnScene2(FakeClipRenderer):
        def render(self, request: ClipRequest, output_path: Path, **kwargs: Any
                   ) -> RenderedClip:
            if request.scene_number == 2:
                token.cancel()  # the user cancels while scene 2 renders
            return super().render(request, output_path, **kwargs)

    pool = ThreadPoolExecutorAdapter(1)
    try:
        h = Harness(tmp_path, pool, renderer=CancelOnScene2())
        with pytest.raises(Cancelled):
            h.run(three_scenes(), cancel=token)
    finally:
        pool.shutdown()
    assert h.muxer.plans == []
    assert h.stored_nothing() and h.workdir_is_clean()


def test_cancel_before_start(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        h.run(three_scenes(), cancel=token)
    assert h.renderer.calls == [] and h.stored_nothing() and h.workdir_is_clean()


# ------------------------------------------------------------------- cache
def test_clip_cache_renders_only_what_changed(tmp_path: Path, inline: Any) -> None:
    renderer = FakeClipRenderer()
    storage = RecordingStorage(images("scene_1.png", "scene_2.png", "scene_3.png"))
    h = Harness(tmp_path, inline, renderer=renderer, storage=storage, cache=True)
    first = h.run(three_scenes())
    assert len(renderer.calls) == 3
    assert h.cache_dir is not None
    cached = sorted(p.name for p in h.cache_dir.iterdir())
    assert len(cached) == 3 and all(n.endswith(".mp4") for n in cached)

    second = h.run(three_scenes())
    assert len(renderer.calls) == 3  # nothing rendered again
    assert h.video(second) | {"narrations": None} == h.video(first) | {"narrations": None}

    changed = three_scenes()
    changed = Sequence([changed.scenes[0], attrs_evolve_action(changed.scenes[1], "tilt up"),
                        changed.scenes[2]], changed.params)
    h.run(changed)
    assert [c.scene_number for c in renderer.calls[3:]] == [2]

    storage.put_bytes(b"a new picture", f"{FOLDER}/scene_3.png")
    h.run(changed)
    assert [c.scene_number for c in renderer.calls[4:]] == [3]
    assert not [p for p in h.cache_dir.iterdir() if p.name.startswith(".")]
    assert h.workdir_is_clean()


def test_clip_cache_depends_on_the_seed(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline, cache=True)
    h.run(three_scenes(seed=1))
    h.run(three_scenes(seed=2))
    assert len(h.renderer.calls) == 6


def attrs_evolve_action(scene: Scene, action: str) -> Scene:
    return attrs.evolve(scene, clip_action=action)


# ---------------------------------------------------------------- property
_words = st.sampled_from(["Hello.", "The storm comes!", "a", "a very long sentence indeed,", ""])
_scenes = st.lists(
    st.builds(Scene, st.integers(1, 6), st.lists(_words, max_size=12).map(" ".join),
              st.floats(0.5, 12),
              st.sampled_from(["", "zoom in", "zoom in, pan left, tilt up, pan right"]),
              st.sampled_from(["", "calm", "epic"])),
    min_size=1, max_size=5, unique_by=lambda s: s.scene_number)
_params = st.builds(GenerationParams, st.sampled_from(["none", "fade", "crossfade"]),
                    st.integers(0, 2**32 - 1), st.sampled_from([24, 25, 30]))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenes=_scenes, params=_params)
def test_any_valid_sequence_makes_a_consistent_video(tmp_path: Path, scenes: list[Scene],
                                                     params: GenerationParams) -> None:
    seq = Sequence(scenes, params)
    storage = RecordingStorage(images(*(f"scene_{n}.png" for n in range(1, 7))))
    h = Harness(tmp_path, InlineExecutor(), storage=storage)
    try:
        result = h.run(seq)
    except InvalidRequest as err:  # only a crossfade longer than a scene allows
        assert "crossfade" in err.reason
        return
    plan = h.muxer.plans[-1]
    timeline = plan.timeline
    assert h.video(result)["scenes"] == [s.scene_number for s in scenes]
    assert result.duration == round(timeline.total, 3)
    fps = params.fps
    assert timeline.total_frames(fps) == round(timeline.total * fps)
    spoken = [i for i, s in enumerate(scenes) if s.narration.strip()]
    assert len(plan.narrations) == len(spoken)
    starts = timeline.narration_starts
    for i, placed in zip(spoken, plan.narrations, strict=True):
        assert placed.start == pytest.approx(starts[i])
        limit = starts[i + 1] - timeline.gap if i + 1 < len(scenes) else timeline.total
        assert placed.start + placed.duration <= limit + 2e-3  # never cut, never overlapping
    for report, scene in zip(result.scene_reports, scenes, strict=True):
        assert report.duration >= scene.duration - 1e-3
        assert len(parse_clip_action(report.clip_action).movements) <= movement_limit(
            scene.duration)
    assert h.workdir_is_clean()


# ------------------------------------------------------------- music spans
def test_music_spans_one_bed_per_run_of_a_mood() -> None:
    t = Timeline.build([4, 4, 4, 4], "none")
    # an empty mood continues the bed before it; moods compare case- and space-insensitively
    assert music_spans(["calm", "", "Calm ", "epic"], t, 2.0) == [
        ("calm", 0.0, 13.0), ("epic", 11.0, 16.0)]
    assert music_spans(["sad"] * 4, t, 2.0) == [("sad", 0.0, 16.0)]
    # leading empty moods take the first mood given: no bed of mood ""
    assert music_spans(["", "", "epic", "epic"], t, 2.0) == [("epic", 0.0, 16.0)]


def test_music_spans_crossfade_centred_on_the_transition() -> None:
    t = Timeline.build([4, 4], "crossfade", 0.5)
    (a, a_start, a_end), (b, b_start, b_end) = music_spans(["a", "b"], t, 1.0)
    assert (a, b) == ("a", "b")
    assert a_start == 0.0 and b_end == pytest.approx(t.total)
    middle = t.starts[1] + t.overlap / 2  # the middle of the picture crossfade
    assert (a_end + b_start) / 2 == pytest.approx(middle)
    assert a_end - b_start == pytest.approx(1.0)


def test_music_spans_never_leave_the_video() -> None:
    t = Timeline.build([1, 1, 1], "none")
    spans = music_spans(["a", "b", "c"], t, 5.0)
    assert all(0.0 <= s < e <= t.total for _, s, e in spans)
    assert spans[0][1] == 0.0 and spans[-1][2] == t.total


def test_scene_extended_when_the_engine_speeds_up_less_than_asked(tmp_path: Path,
                                                                  inline: Any) -> None:
    class Imprecise(FakeNarrator):
        """Real engines do not hit the asked speed exactly: this one falls 10 % short."""

        def synthesize(self, text: str, output_path: Path, *, voice: str | None = None,
                       speed: float = 1.0, **kwargs: Any) -> Any:
            effective = 1.0 + (speed - 1.0) * 0.9 if speed > 1.0 else speed
            return super().synthesize(text, output_path, voice=voice, speed=effective, **kwargs)

    h = Harness(tmp_path, inline, narrator=Imprecise())
    text = "x" * 60  # 4 s of speech, window 3.55 s: asks for ×1.127, gets ×1.114
    seq = Sequence([Scene(1, text, 4.0), Scene(2, "", 4.0)], GenerationParams("none"))
    result = h.run(seq)
    report = result.scene_reports[0]
    spoken = report.narration_duration
    assert spoken > 3.55 + 1e-3  # longer than the window the speed-up aimed for
    assert report.duration == pytest.approx(spoken + 0.45, abs=2e-3)
    assert report.extended_by > 0
    assert any(w.startswith("scene 1: extended from 4 s") for w in result.warnings)
    plan = h.muxer.plans[0]
    placed = plan.narrations[0]
    assert placed.start + placed.duration <= plan.timeline.narration_starts[1] - 0.2 + 1e-3
