"""build_comfyui_renderer: settings → client, template, limits, optional fallback."""

from __future__ import annotations

import httpx

from videogen_adapters.comfyui.factory import build_comfyui_renderer
from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer
from videogen_adapters.config import Settings

from .conftest import FIXTURES


def _conform(*args, **kwargs):  # never called: nothing renders here
    raise AssertionError


def test_settings_choose_template_url_and_limits():
    settings = Settings(renderer="comfyui", comfyui_url="http://10.0.0.5:8188",
                        comfyui_workflow="ltxv", comfyui_concurrency=3, comfyui_timeout=90.0,
                        max_duration=4.0)
    renderer = build_comfyui_renderer(settings, conform=_conform)
    assert isinstance(renderer, ComfyUIClipRenderer) and renderer.name == "comfyui"
    assert renderer.template.name == "ltxv" and renderer.max_duration == 4.0
    assert renderer.timeout == 90.0
    assert renderer.client.base_url == "http://10.0.0.5:8188"
    assert renderer.client.ws_url.startswith("ws://10.0.0.5:8188/ws?clientId=")
    assert renderer.client.ws_connect is not None


def test_workflow_by_path_and_a_given_http_client():
    http = httpx.Client(base_url="http://comfy.internal")
    settings = Settings(comfyui_workflow=str(FIXTURES / "test_flip.json"))
    renderer = build_comfyui_renderer(settings, http=http, conform=_conform)
    assert renderer.template.name == "test_flip" and renderer.client.http is http


def test_fallback_only_when_enabled():
    class KenBurns:
        name = "kenburns"

    off = build_comfyui_renderer(Settings(), fallback=KenBurns(), conform=_conform)
    assert isinstance(off, ComfyUIClipRenderer)
    on = build_comfyui_renderer(Settings(comfyui_fallback=True), fallback=KenBurns(),
                                conform=_conform)
    assert isinstance(on, FallbackClipRenderer) and on.name == "comfyui"


def test_several_servers_from_a_comma_separated_url():
    settings = Settings(renderer="comfyui",
                        comfyui_url="http://gpu1:8188, http://gpu2:8188/ ,",
                        comfyui_concurrency=3)
    renderer = build_comfyui_renderer(settings, conform=_conform)
    assert [c.base_url for c in renderer.clients] == ["http://gpu1:8188", "http://gpu2:8188"]
    assert renderer.client is renderer.clients[0]
    assert renderer.scheduler.window == 3
    assert len({c.client_id for c in renderer.clients}) == 2
    assert Settings().comfyui_concurrency == 2  # one prompt executing + one waiting
