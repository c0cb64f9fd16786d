"""Fault: ComfyUI goes down in the middle of a job (the recorded-protocol test server).

Scene 1 is rendered by ComfyUI, then the server stops. With the configured
fallback (``VIDEOGEN_COMFYUI_FALLBACK``) the other scenes are rendered by Ken
Burns and the job's warnings say so, per scene; without it the job fails with a
service error naming ComfyUI, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.comfyui_server import ComfyUITestServer
from tests.contract.renderer_contract import textured_image
from tests.contract.test_renderer_comfyui import SMALL, make_client, make_renderer

from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.storage import LocalDiskStorage
from videogen_adapters.tts import SilentNarrator
from videogen_core import (
    ClipRequest,
    GenerationParams,
    RenderedClip,
    Scene,
    Sequence,
    ServiceUnavailable,
)
from videogen_core.pipeline import VideoPipeline, VideoResult

pytestmark = [pytest.mark.slow, pytest.mark.server]

SEQUENCE = Sequence([Scene(n, "", 1.0, "slow zoom in") for n in (1, 2, 3)],
                    GenerationParams("none", seed=4, fps=12))


class StopsAfterFirst:
    """The ComfyUI renderer; the server stops once it has rendered one clip."""

    def __init__(self, inner: Any, server: ComfyUITestServer) -> None:
        self.inner, self.server, self.name = inner, server, inner.name

    def render(self, request: ClipRequest, output_path: Path, **kw: Any) -> RenderedClip:
        clip = self.inner.render(request, output_path, **kw)
        self.server.stop()
        return clip

    def __getattr__(self, name: str) -> Any:
        if name == "render_ahead":  # one clip at a time, so "after the first" is well defined
            raise AttributeError(name)
        return getattr(self.inner, name)


def run_job(tmp_path: Path, fallback: bool) -> tuple[VideoResult | Exception, list[Path]]:
    data = tmp_path / "data"
    (data / "f").mkdir(parents=True)
    for n in (1, 2, 3):
        textured_image(data / "f" / f"scene_{n}.png", seed=900 + n + (10 if fallback else 0))
    server = ComfyUITestServer().start()
    try:
        primary = StopsAfterFirst(make_renderer(server, client=make_client(server.url,
                                                                           retries=1)), server)
        renderer: Any = FallbackClipRenderer(primary, KenBurnsClipRenderer()) if fallback \
            else primary
        pool = ThreadPoolExecutorAdapter(1)  # scenes in order
        pipeline = VideoPipeline(storage=LocalDiskStorage(data), renderer=renderer,
                                 narrator=SilentNarrator(), music=None, muxer=FfmpegMuxer(),
                                 executor=pool, video=SMALL, workdir=tmp_path / "work")
        try:
            outcome: VideoResult | Exception = pipeline.run("f", SEQUENCE)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome = exc
        finally:
            pool.shutdown()
    finally:
        server.stop()
    return outcome, sorted((data / "f").glob("videos/*"))


def test_comfyui_down_mid_job_falls_back_to_ken_burns_and_says_so(tmp_path: Path) -> None:
    result, stored = run_job(tmp_path, fallback=True)
    assert isinstance(result, VideoResult), result
    fallbacks = [w for w in result.warnings if "comfyui unavailable" in w]
    assert {w.split(":")[0] for w in fallbacks} == {"scene 2", "scene 3"}, result.warnings
    assert all("kenburns" in w.lower() for w in fallbacks)
    assert [p.suffix for p in stored if p.suffix in (".mp4", ".jpg")] == [".jpg", ".mp4"]


def test_comfyui_down_mid_job_without_fallback_fails_clearly(tmp_path: Path) -> None:
    error, stored = run_job(tmp_path, fallback=False)
    assert isinstance(error, ServiceUnavailable), error
    assert error.to_dict()["code"] == "service_unavailable"
    assert "comfyui" in error.message.lower() or error.details.get("service") == "comfyui"
    assert stored == []
    assert not any((tmp_path / "work").iterdir())
