"""VideoPipeline render modes: stream and chunked make the same checked video;
chunked re-runs reuse the cache; ``auto`` picks the mode; the result says which."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from tests.unit.test_pipeline_stream import (
    FOLDER,
    VIDEO,
    SpyKenBurns,
    StreamingFakeRenderer,
    StreamMuxer,
    ToneNarrator,
    fake_images,
    photo_images,
    sequence,
)

from videogen_adapters.cache import DiskCache
from videogen_adapters.converter import result_to_response
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import ProgressEvent, Sequence
from videogen_core.pipeline import VideoPipeline, VideoResult


def make(tmp_path: Path, mode: str, muxer: Any, renderer: Any = None, **kwargs: Any
         ) -> VideoPipeline:
    return VideoPipeline(
        storage=InMemoryStorage(photo_images()), renderer=renderer or SpyKenBurns(),
        narrator=ToneNarrator(), music=None, muxer=muxer,
        executor=ThreadPoolExecutorAdapter(2), video=VIDEO, workdir=tmp_path / "work",
        render_mode=mode, **kwargs)


def stored(p: VideoPipeline, result: VideoResult, out: Path) -> Path:
    storage = p.storage
    assert isinstance(storage, InMemoryStorage)
    out.write_bytes(storage.read_bytes(result.video_key))
    return out


@pytest.mark.parametrize("stream_clips", [True, False], ids=["frames", "clip-files"])
@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_both_modes_pass_the_same_output_checks(mode: str, stream_clips: bool,
                                                tmp_path: Path) -> None:
    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    p = make(tmp_path, mode, muxer, stream_clips=stream_clips)
    events: list[ProgressEvent] = []
    result = p.run(FOLDER, sequence("crossfade"), progress=events.append)
    assert result.render_mode == mode
    assert result_to_response(result)["metadata"]["render_mode"] == mode
    info = probe(stored(p, result, tmp_path / "video.mp4"))
    timeline_total = sum(r.duration for r in result.scene_reports) - 2 * 0.5
    assert info.frames == round(timeline_total * VIDEO.fps)
    assert (info.width, info.height) == (64, 36)
    assert info.has_audio and info.subtitle_streams == 1
    assert abs(result.duration - timeline_total) <= 1 / VIDEO.fps
    percents = [e.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    # one way to make video: clip files are decoded into the same chunk encodes
    assert muxer.chunk_encodes == (5 if mode == "chunked" else 1)  # 3 bodies + 2 overlaps
    assert [p.name for p in (tmp_path / "work").iterdir()] == []


def test_a_chunked_rerun_encodes_nothing_and_an_edit_one_scene(tmp_path: Path) -> None:
    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    p = make(tmp_path, "chunked", muxer)
    seq = sequence("none")
    first = p.run(FOLDER, seq)
    assert muxer.chunk_encodes == 3
    again = p.run(FOLDER, seq)
    assert (muxer.chunk_encodes, muxer.chunk_hits) == (3, 3)
    assert again.duration == first.duration
    scenes = list(seq.scenes)
    scenes[1] = attrs.evolve(scenes[1], clip_action="pan left")
    p.run(FOLDER, Sequence(scenes, seq.params))
    assert muxer.chunk_encodes == 4  # only the edited scene's chunk
    images = photo_images()
    images[f"{FOLDER}/scene_3.jpg"] = (Path(__file__).parents[1] / "fixtures" / "ffmpeg" /
                                       "astronaut_480x270.jpg").read_bytes() + b"\0"
    p.storage = InMemoryStorage(images)  # other image bytes for scene 3 (same picture)
    p.run(FOLDER, Sequence(scenes, seq.params))
    assert muxer.chunk_encodes == 5
    p.renderer = KenBurnsClipRenderer(fit="contain")  # a renderer option: every frame
    p.run(FOLDER, Sequence(scenes, seq.params))
    assert muxer.chunk_encodes == 8


def test_a_fallback_clip_is_not_cached_as_the_primary_renderers_chunk(tmp_path: Path
                                                                        ) -> None:
    """A generative scene that a fallback rendered (Ken Burns standing in) must not leave
    its chunks in the cache under the generative renderer's key: the next run, with the
    server back, would take them."""

    class FellBack:  # a file renderer whose every clip came from its fallback
        name = "comfyui"

        def render(self, request, output_path, **kwargs):  # type: ignore[no-untyped-def]
            clip = KenBurnsClipRenderer().render(request, output_path)
            return attrs.evolve(clip, renderer="kenburns",
                                warnings=("comfyui unavailable; rendered with kenburns",))

    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    p = make(tmp_path, "chunked", muxer, renderer=FellBack())
    seq = sequence("none")
    first = p.run(FOLDER, seq)
    assert [r.renderer for r in first.scene_reports] == ["kenburns"] * 3
    p.run(FOLDER, seq)
    assert (muxer.chunk_encodes, muxer.chunk_hits) == (6, 0)  # nothing taken from the cache


def test_auto_mode(tmp_path: Path) -> None:
    def mode(**kwargs: Any) -> str:
        p = VideoPipeline(storage=InMemoryStorage(fake_images()),
                          renderer=StreamingFakeRenderer(), narrator=ToneNarrator(),
                          music=None, muxer=kwargs.pop("muxer", Chunky()),
                          executor=ThreadPoolExecutorAdapter(2), video=VIDEO,
                          workdir=tmp_path / "work",
                          render_mode=kwargs.pop("render_mode", "auto"), **kwargs)
        return p.run(FOLDER, sequence()).render_mode

    assert mode() == "stream"  # a 5 s job on threads
    assert mode(chunked_above=3.0) == "chunked"  # longer than the threshold
    assert mode(prefer_chunks=True) == "chunked"  # a Celery worker
    # a muxer that cannot render chunks always streams
    assert mode(chunked_above=0.0, muxer=StreamMuxer()) == "stream"
    with pytest.raises(ValueError):
        mode(render_mode="fast")


class Chunky(StreamMuxer):
    renders_chunks = True


def test_render_settings(tmp_path: Path) -> None:
    from videogen_adapters.config import Settings
    from videogen_adapters.orchestrator import build_muxer, build_pipeline
    from videogen_core import InvalidRequest

    assert Settings.from_env({}).render_mode == "auto"
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({"VIDEOGEN_RENDER_MODE": "fast"})
    assert info.value.field == "VIDEOGEN_RENDER_MODE"
    settings = Settings(data_dir=tmp_path, cache_max_gb=0.5)
    assert settings.cache_path == tmp_path / ".videogen" / "cache"
    assert Settings(cache_dir=str(tmp_path / "c")).cache_path == tmp_path / "c"
    muxer = build_muxer(settings)
    assert muxer.cache.root == settings.cache_path and muxer.cache.max_bytes == 500_000_000
    p = build_pipeline(Settings(data_dir=tmp_path, executor="celery", storage="memory",
                                narrator="silent", music="none"))
    assert p.render_mode == "auto" and p.prefer_chunks is True


def test_an_interrupted_job_resumes_from_its_chunks(tmp_path: Path) -> None:
    from videogen_core import Cancelled, CancelToken

    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    p = make(tmp_path, "chunked", muxer)
    p.executor = ThreadPoolExecutorAdapter(1)  # one chunk at a time: a clean cut
    token = CancelToken()

    def progress(_: ProgressEvent) -> None:
        if muxer.chunk_encodes >= 2:
            token.cancel()  # e.g. the worker was stopped

    seq = sequence("crossfade")
    with pytest.raises(Cancelled):
        p.run(FOLDER, seq, progress=progress, cancel=token)
    made = muxer.chunk_encodes
    assert 2 <= made < 5
    result = p.run(FOLDER, seq)
    assert muxer.chunk_hits == made and muxer.chunk_encodes == 5  # only the rest
    assert result.render_mode == "chunked"


def test_a_cached_scene_is_not_looked_at_and_a_bad_image_still_fails(tmp_path: Path) -> None:
    from videogen_core import InvalidImage

    muxer = FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30))
    p = make(tmp_path, "chunked", muxer)
    spy = p.renderer
    assert isinstance(spy, SpyKenBurns)
    seq = sequence("none")
    p.run(FOLDER, seq)
    assert len(spy.streamed) == 3
    p.run(FOLDER, seq)
    assert len(spy.streamed) == 3  # every chunk cached: no image decoded, no subject search
    p.storage = InMemoryStorage(photo_images(corrupt=2))
    with pytest.raises(InvalidImage) as info:
        p.run(FOLDER, seq)
    assert info.value.details["file"] == f"{FOLDER}/scene_2.jpg"
    assert info.value.details.get("scene_number") == 2
