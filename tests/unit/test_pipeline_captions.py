"""The pipeline's captions, chapters and poster: caption_style, .words.json, inline
word timestamps, one chapter per scene, the poster stored beside the video."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image
from tests.unit.test_pipeline import FOLDER, Harness, three_scenes
from tests.unit.test_pipeline_stream import (
    VIDEO,
    SpyKenBurns,
    SpyMuxer,
    ToneNarrator,
    photo_images,
    pipeline,
)

from videogen_adapters.converter import result_to_response, structure_request
from videogen_adapters.executors import InlineExecutor
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import GenerationParams, InvalidRequest, Scene, Sequence


@pytest.fixture
def inline() -> InlineExecutor:
    return InlineExecutor()


@pytest.mark.parametrize(("style", "burn_setting", "burnt"), [
    (None, False, False), (None, True, True), ("subtitle", True, True),
    ("none", True, False), ("karaoke", False, True), ("bold", False, True)])
def test_caption_style_decides_what_is_burnt_in(style: str | None, burn_setting: bool,
                                                burnt: bool, tmp_path: Path,
                                                inline: Any) -> None:
    h = Harness(tmp_path, inline)
    h.pipeline.burn_subtitles = burn_setting
    h.run(three_scenes(caption_style=style))
    (plan,) = h.muxer.plans
    assert plan.burn_subtitles is burnt
    assert plan.caption_style == (style or "subtitle")
    assert plan.soft_subtitles  # the soft track keeps sentences whatever the style
    assert all(cue.words and [w.text for w in cue.words] == cue.text.split()
               for cue in plan.cues)


def test_words_sidecar_and_inline_vtt_timestamps(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    result = h.run(three_scenes())
    stem = result.video_key.removesuffix(".mp4")
    words = json.loads(h.storage.read_bytes(f"{stem}.words.json"))
    assert h.storage.stat(f"{stem}.words.json").content_type == "application/json"
    cues = words["cues"]
    assert [c["text"] for c in cues] == [c.text for c in h.muxer.plans[0].cues]
    for cue in cues:
        assert [w["text"] for w in cue["words"]] == cue["text"].split()
        starts = [w["start"] for w in cue["words"]]
        assert starts == sorted(starts)
        assert cue["start"] <= starts[0] and cue["words"][-1]["end"] <= cue["end"]
    vtt = h.storage.read_bytes(f"{stem}.vtt").decode()
    stamps = re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", vtt)
    total_words = sum(len(c["words"]) for c in cues)
    assert len(stamps) >= total_words - 2 * len(cues)  # every word but a cue's first


def test_one_chapter_per_scene_titled_by_its_first_words(tmp_path: Path,
                                                         inline: Any) -> None:
    h = Harness(tmp_path, inline)
    seq = Sequence([Scene(1, "A quiet morning over the sleeping hills, long before dawn.", 4.0),
                    Scene(2, "", 4.0), Scene(3, "Then the storm comes!", 4.0)],
                   GenerationParams("crossfade", 1, 24, transition_duration=0.5))
    h.run(seq)
    (plan,) = h.muxer.plans
    assert [c.title for c in plan.chapters] == ["A quiet morning over the sleeping…",
                                                "Scene 2", "Then the storm comes!"]
    assert plan.chapters[0].start == 0.0 and plan.chapters[-1].end == plan.timeline.total
    for a, b in zip(plan.chapters, plan.chapters[1:], strict=False):
        assert a.end == b.start
    assert plan.chapters[1].start == pytest.approx(3.5 + 0.25)  # the middle of the crossfade


@pytest.mark.parametrize(("poster_scene", "index"), [(None, 0), (2, 1), (3, 2)])
def test_poster_span_is_the_chosen_scene_without_its_transitions(
        poster_scene: int | None, index: int, tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    h.run(three_scenes(poster_scene=poster_scene, transition_duration=1.0))
    (plan,) = h.muxer.plans
    t = plan.timeline
    assert plan.poster is not None
    start, end = plan.poster
    assert start == pytest.approx(t.starts[index] + (1.0 if index else 0.0))
    assert end == pytest.approx(t.ends[index] - (1.0 if index < 2 else 0.0))


def test_request_fields_are_checked_and_named() -> None:
    body = {"sequence_data": [{"scene_number": 1, "duration": 3}],
            "generation_params": {"caption_style": "bold", "poster_scene": 1}}
    seq = structure_request(body)
    assert seq.params.caption_style == "bold" and seq.params.poster_scene == 1
    with pytest.raises(InvalidRequest) as bad:
        structure_request({**body, "generation_params": {"caption_style": "comic"}})
    assert bad.value.field == "generation_params.caption_style"
    with pytest.raises(InvalidRequest) as wrong:
        structure_request({**body, "generation_params": {"poster_scene": -1}})
    assert wrong.value.field == "generation_params.poster_scene"


def test_a_poster_scene_that_is_not_in_the_sequence(tmp_path: Path, inline: Any) -> None:
    h = Harness(tmp_path, inline)
    with pytest.raises(InvalidRequest) as bad:
        h.run(three_scenes(poster_scene=7))
    assert bad.value.field == "generation_params.poster_scene"
    assert h.stored_nothing()


def test_real_video_has_chapters_and_a_poster(tmp_path: Path) -> None:
    renderer, muxer = SpyKenBurns(), SpyMuxer()
    p = pipeline(tmp_path, renderer, muxer, images=photo_images(), narrator=ToneNarrator())
    seq = Sequence([Scene(1, "A quiet morning.", 2.0, "zoom in"),
                    Scene(2, "The village wakes.", 2.0, "pan right"),
                    Scene(3, "The storm comes!", 2.0, "zoom out")],
                   GenerationParams("crossfade", 42, 12, caption_style="karaoke",
                                    poster_scene=2))
    result = p.run(FOLDER, seq)
    storage = p.storage
    assert isinstance(storage, InMemoryStorage)
    out = tmp_path / "video.mp4"
    out.write_bytes(storage.read_bytes(result.video_key))
    with av.open(str(out)) as container:
        titles = [c["metadata"].get("title") for c in container.chapters()]
    assert titles == ["A quiet morning.", "The village wakes.", "The storm comes!"]
    assert result.poster_url is not None
    key = result.video_key.removesuffix(".mp4") + ".jpg"
    assert storage.url(key) == result.poster_url
    assert storage.stat(key).content_type == "image/jpeg"
    poster = Image.open(io.BytesIO(storage.read_bytes(key)))
    assert poster.format == "JPEG" and poster.size == (VIDEO.width, VIDEO.height)
    assert result_to_response(result)["metadata"]["poster_url"] == result.poster_url
