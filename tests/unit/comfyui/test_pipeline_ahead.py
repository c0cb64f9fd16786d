"""The pipeline hands a renderer that can queue ahead (ComfyUI) every uncached clip first."""

from __future__ import annotations

from pathlib import Path

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMuxer, FakeNarrator
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import GenerationParams, Scene, Sequence
from videogen_core.pipeline import VideoPipeline


class AheadRenderer(FakeClipRenderer):
    def __init__(self) -> None:
        super().__init__()
        self.ahead: list[tuple[int, Path]] = []
        self.rendered_before_ahead = False
        self.cancels = []

    def render_ahead(self, jobs, *, cancel=None):
        self.rendered_before_ahead = bool(self.calls)
        self.ahead.extend((request.scene_number, output) for request, output in jobs)
        self.cancels.append(cancel)


def run(tmp_path: Path, renderer: AheadRenderer, durations: list[float]) -> None:
    storage = InMemoryStorage({f"f/scene_{n}.png": f"image {n}".encode()
                               for n in range(1, len(durations) + 1)})
    pipeline = VideoPipeline(storage=storage, renderer=renderer, narrator=FakeNarrator(),
                             music=None, muxer=FakeMuxer(),
                             executor=ThreadPoolExecutorAdapter(2), workdir=tmp_path / "work",
                             cache_dir=tmp_path / "cache")
    sequence = Sequence([Scene(n, "", d, "zoom in") for n, d in enumerate(durations, 1)],
                        GenerationParams(transition_type="none", seed=1, fps=12))
    pipeline.run("f", sequence)


def test_every_clip_is_handed_ahead_before_any_render_longest_first(tmp_path):
    renderer = AheadRenderer()
    run(tmp_path, renderer, [2.0, 5.0, 3.0])
    assert [n for n, _ in renderer.ahead] == [2, 3, 1]  # the pipeline's order: longest first
    assert not renderer.rendered_before_ahead
    # render() is then called with the very same outputs, so it takes those clips
    assert sorted(r.scene_number for r in renderer.calls) == [1, 2, 3]
    assert [o.name for _, o in renderer.ahead] == ["0001.mp4", "0002.mp4", "0000.mp4"]
    # the pipeline's token: cancelled when the run ends, which drops anything not taken
    assert renderer.cancels[0] is not None and renderer.cancels[0].cancelled


def test_cached_clips_are_not_handed_ahead(tmp_path):
    run(tmp_path, AheadRenderer(), [2.0, 3.0])
    renderer = AheadRenderer()
    run(tmp_path, renderer, [2.0, 3.0, 4.0])  # scenes 1 and 2 are in the cache now
    assert [n for n, _ in renderer.ahead] == [3]
