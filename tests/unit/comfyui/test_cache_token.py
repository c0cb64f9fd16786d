"""The ComfyUI renderer's cache token: what decides its frames is in the clip and chunk
keys (the workflow template with its model names, the negative prompt, the segment
length, the conform step, the narration it puts in the prompt); where it runs is not."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from videogen_adapters.comfyui.client import ComfyUIClient
from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer
from videogen_adapters.comfyui.workflow import WorkflowTemplate, load_template
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_core import ClipRequest, VideoSettings
from videogen_core.pipeline import _clip_cache_key

SETTINGS = VideoSettings(width=160, height=90, fps=12, crf=20, preset="ultrafast")


def client(url: str) -> ComfyUIClient:
    return ComfyUIClient(httpx.Client(base_url=url, trust_env=False))


def renderer(template: WorkflowTemplate | None = None, url: str = "http://127.0.0.1:8188",
             **kwargs) -> ComfyUIClipRenderer:
    return ComfyUIClipRenderer(client(url), template or load_template("svd_xt"), **kwargs)


def edited(change) -> WorkflowTemplate:
    """The built-in svd_xt template with ``change`` applied to its JSON document."""
    from importlib import resources

    text = (resources.files("videogen_adapters.comfyui") / "workflows" / "svd_xt.json"
            ).read_text(encoding="utf-8")
    data = json.loads(text)
    change(data)
    return WorkflowTemplate.from_dict("svd_xt", data)


@pytest.fixture
def request_(tmp_path: Path) -> ClipRequest:
    image = tmp_path / "scene_1.png"
    Image.new("RGB", (64, 36), (10, 120, 30)).save(image)
    return ClipRequest(image, 2.0, "slow zoom in", 7, settings=SETTINGS, scene_number=1,
                       narration="Dawn breaks over the hills.")


def key(r, request: ClipRequest) -> str:
    return _clip_cache_key(r, request)


def test_an_unchanged_template_gives_the_same_key_on_any_server(request_) -> None:
    a = renderer(url="http://127.0.0.1:8188")
    b = renderer(url="http://gpu-7.internal:9000", concurrency=5, timeout=30.0)
    several = ComfyUIClipRenderer([client("http://a:1"), client("http://b:2")],
                                  load_template("svd_xt"))
    assert a.cache_token == b.cache_token == several.cache_token
    assert key(a, request_) == key(b, request_) == key(several, request_)
    # the same template loaded again (a new object, equal content): the same key
    assert key(renderer(edited(lambda d: None)), request_) == key(a, request_)


@pytest.mark.parametrize("change", [
    lambda d: d["workflow"]["1"]["inputs"].__setitem__("ckpt_name", "svd.safetensors"),
    lambda d: d["workflow"]["5"]["inputs"].__setitem__("steps", 25),
    lambda d: d["workflow"]["5"]["inputs"].__setitem__("sampler_name", "dpmpp_2m"),
    lambda d: d.__setitem__("max_frames", 14),
    lambda d: d.__setitem__("native_fps", 6),
    lambda d: d["motion"].__setitem__("base", 90),
], ids=["model", "steps", "sampler", "max_frames", "native_fps", "motion"])
def test_a_changed_template_changes_the_key(request_, change) -> None:
    assert key(renderer(edited(change)), request_) != key(renderer(), request_)


def test_options_that_change_the_frames_change_the_key(request_) -> None:
    base = key(renderer(), request_)
    assert key(renderer(negative_prompt="no people"), request_) != base
    assert key(renderer(max_duration=3.0), request_) != base

    def other_conform(*args, **kwargs):  # pragma: no cover - never called
        raise AssertionError

    assert key(renderer(conform=other_conform), request_) != base


def test_the_narration_is_in_the_comfyui_key_only(request_) -> None:
    import attrs

    told = attrs.evolve(request_, narration="Night falls.")
    assert key(renderer(), told) != key(renderer(), request_)  # it is in the prompt
    kenburns = KenBurnsClipRenderer()
    assert key(kenburns, told) == key(kenburns, request_)  # Ken Burns never reads it


def test_the_fallback_wrapper_keys_like_its_primary(request_) -> None:
    primary = renderer()
    wrapped = FallbackClipRenderer(primary, KenBurnsClipRenderer())
    assert key(wrapped, request_) == key(primary, request_)
    assert key(FallbackClipRenderer(renderer(edited(
        lambda d: d["workflow"]["5"]["inputs"].__setitem__("cfg", 3.0))),
        KenBurnsClipRenderer()), request_) != key(wrapped, request_)
