"""Which image a scene got, and which file a broken image is (issues 13.4, 13.5)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.unit.test_pipeline import Harness, three_scenes

from videogen_adapters.executors import InlineExecutor
from videogen_adapters.fakes import FakeClipRenderer
from videogen_adapters.ffmpeg.images import load_image
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import ClipRequest, InvalidImage, RenderedClip
from videogen_core.images import explain_match, match_images


def png(colour: tuple[int, int, int] = (10, 20, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 18), colour).save(out, format="PNG")
    return out.getvalue()


class DecodingRenderer:
    """Decodes the scene image like the Ken Burns renderer, then renders like the fake."""

    name = "decoding"

    def __init__(self) -> None:
        self.inner = FakeClipRenderer()

    def render(self, request: ClipRequest, output_path: Path, **kw: Any) -> RenderedClip:
        load_image(Path(request.image_path), min_size=(64, 36)).close()
        return self.inner.render(request, output_path, **kw)


def test_scenes_without_a_matching_name_say_which_image_they_got(tmp_path: Path) -> None:
    storage = InMemoryStorage({"f/scene_1.png": png(), "f/beach.png": png(),
                               "f/harbour.png": png()})
    result = Harness(tmp_path, InlineExecutor(), storage=storage).run(three_scenes())
    used = {r.scene_number: r.image for r in result.scene_reports}
    # natural order: beach, harbour, scene_1 (claimed by scene 1)
    assert used == {1: "f/scene_1.png", 2: "f/harbour.png", 3: "f/beach.png"}
    notes = [w for w in result.warnings if "no image name ends in" in w]
    assert notes == [
        "scene 2: no image name ends in 2; it uses 'f/harbour.png' "
        "(the 2nd image in natural order)",
        "scene 3: no image name ends in 3; it uses 'f/beach.png' "
        "(the first image no other scene took, 1st in natural order)"]
    assert not any("scene 1:" in w for w in notes)


def test_explain_match_words() -> None:
    names = ["f/a.png", "f/b.png", "f/c_1.png"]
    mapping = match_images([1, 2, 7], names, "f")
    notes = explain_match([1, 2, 7], names, mapping)
    assert set(notes) == {2, 7}
    assert notes[2] == "the 2nd image in natural order"
    assert "first image no other scene took" in notes[7]


@pytest.mark.parametrize("content", [b"\xff\xd8\xff\xe0 not really a jpeg",
                                     b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b""])
def test_a_broken_image_is_named_as_the_user_knows_it(tmp_path: Path, content: bytes) -> None:
    storage = InMemoryStorage({"f/scene_1.png": png(), "f/scene_2.jpg": content,
                               "f/scene_3.png": png()})
    h = Harness(tmp_path, InlineExecutor(), storage=storage, renderer=DecodingRenderer())
    with pytest.raises(InvalidImage) as info:
        h.run(three_scenes())
    error = info.value
    assert error.details["file"] == "f/scene_2.jpg"
    assert error.details["scene_number"] == 2
    text = f"{error.message} {error.details}"
    assert "0001_" not in text and str(tmp_path) not in text and "/tmp" not in text
    assert "videogen-" not in text
