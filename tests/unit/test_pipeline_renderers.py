"""One video, both renderers: ``Scene.renderer`` picks Ken Burns or ComfyUI per scene
(the test ComfyUI server), in both render modes; the result says which renderer
made each scene and any fallback; an unconfigured renderer names the field."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import attrs
import pytest
from tests.comfyui_server import FIXTURES, ComfyUITestServer
from tests.unit.test_pipeline_stream import (
    FOLDER,
    VIDEO,
    SpyKenBurns,
    ToneNarrator,
    photo_images,
    sequence,
)

from videogen_adapters.cache import DiskCache
from videogen_adapters.comfyui.client import ComfyUIClient
from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer
from videogen_adapters.comfyui.workflow import load_template
from videogen_adapters.config import Settings
from videogen_adapters.converter import result_to_response
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.orchestrator import build_scene_renderers
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import InvalidRequest, Sequence
from videogen_core.pipeline import VideoPipeline


@pytest.fixture(scope="module")
def server() -> Any:
    with ComfyUITestServer() as running:
        yield running


def comfyui(url: str) -> ComfyUIClipRenderer:
    import httpx

    client = ComfyUIClient(httpx.Client(base_url=url, timeout=5.0, trust_env=False),
                           ws_connect=None, backoff=0.01, poll_interval=0.05,
                           history_interval=0.2, retries=0)
    return ComfyUIClipRenderer(client, load_template(str(FIXTURES / "test_flip.json")))


def mixed(second: str = "comfyui") -> Sequence:
    seq = sequence("crossfade")
    scenes = list(seq.scenes)
    scenes[1] = attrs.evolve(scenes[1], renderer=second)
    scenes[2] = attrs.evolve(scenes[2], renderer="kenburns")
    return Sequence(scenes, seq.params)


def make(tmp_path: Path, mode: str, renderers: dict[str, Any]) -> VideoPipeline:
    return VideoPipeline(
        storage=InMemoryStorage(photo_images()), renderer=SpyKenBurns(),
        narrator=ToneNarrator(), music=None,
        muxer=FfmpegMuxer(cache=DiskCache(tmp_path / "cache", 1 << 30)),
        executor=ThreadPoolExecutorAdapter(2), video=VIDEO, workdir=tmp_path / "work",
        renderers=renderers, render_mode=mode)


@pytest.mark.parametrize("mode", ["stream", "chunked"])
def test_ken_burns_and_comfyui_scenes_in_one_video(mode: str, server: Any,
                                                   tmp_path: Path) -> None:
    p = make(tmp_path, mode, {"comfyui": comfyui(server.url)})
    result = p.run(FOLDER, mixed())
    reports = result_to_response(result)["metadata"]["scene_details"]
    assert [(r["requested_renderer"], r["renderer"]) for r in reports] == [
        ("auto", "kenburns"), ("comfyui", "comfyui"), ("kenburns", "kenburns")]
    assert result.render_mode == mode
    spy = p.renderer
    assert isinstance(spy, SpyKenBurns)
    # Ken Burns streamed scenes 1 (auto) and 3 (kenburns: the default is Ken Burns);
    # scene 2 went to ComfyUI
    assert sorted(r.scene_number for r in spy.streamed) == [1, 3] and spy.rendered == []
    out = tmp_path / "video.mp4"
    storage = p.storage
    assert isinstance(storage, InMemoryStorage)
    out.write_bytes(storage.read_bytes(result.video_key))
    total = sum(r.duration for r in result.scene_reports) - 2 * 0.5
    assert probe(out).frames == round(total * VIDEO.fps)
    assert not [w for w in result.warnings if "instead" in w]


def test_a_fallback_is_reported_per_scene(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    fallback = FallbackClipRenderer(comfyui(dead), KenBurnsClipRenderer())
    result = make(tmp_path, "stream", {"comfyui": fallback}).run(FOLDER, mixed())
    second = result.scene_reports[1]
    assert (second.requested_renderer, second.renderer) == ("comfyui", "kenburns")
    assert any("scene 2" in w and "instead" in w for w in result.warnings)


def test_an_unconfigured_renderer_names_the_field(tmp_path: Path) -> None:
    p = make(tmp_path, "stream", {})
    with pytest.raises(InvalidRequest) as info:
        p.run(FOLDER, mixed())
    assert info.value.field == "sequence_data[1].renderer"
    assert "comfyui" in info.value.message


def test_scene_renderers_from_settings() -> None:
    kenburns = KenBurnsClipRenderer()
    named = build_scene_renderers(Settings(), kenburns)
    assert named["kenburns"] is kenburns and named["comfyui"].name == "comfyui"
    assert "comfyui" not in build_scene_renderers(Settings(comfyui_url=""), kenburns)
    default = comfyui("http://127.0.0.1:9")
    named = build_scene_renderers(Settings(renderer="comfyui"), default)
    assert named["comfyui"] is default and isinstance(named["kenburns"], KenBurnsClipRenderer)


def test_a_lazy_renderer_is_built_once_and_shows_the_real_one() -> None:
    from videogen_adapters.orchestrator import _LazyRenderer

    built: list[int] = []

    class Real:
        name = "comfyui"
        version = 7
        cache_token = "workflow=x"

    def build() -> Any:
        built.append(1)
        return Real()

    lazy = _LazyRenderer("comfyui", build)
    assert lazy.name == "comfyui" and built == []  # not built to be named
    assert (lazy.version, lazy.cache_token) == (7, "workflow=x") and built == [1]
    assert getattr(lazy, "render_ahead", None) is None and built == [1]
