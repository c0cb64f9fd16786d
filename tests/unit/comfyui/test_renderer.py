"""ComfyUIClipRenderer with a fake client: bindings per segment, seeds, seamless chaining."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from videogen_adapters.comfyui.client import PromptResult
from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.comfyui.planning import segment_seed
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer
from videogen_adapters.comfyui.workflow import load_template
from videogen_core import (
    ClipRequest,
    InvalidImage,
    RenderedClip,
    RenderFailed,
    ServiceUnavailable,
    VideoSettings,
)

SETTINGS = VideoSettings(width=160, height=90, fps=12, crf=20, preset="ultrafast")


def colour(segment: int, index: int) -> tuple[int, int, int]:
    return (segment * 50, index * 4, 200)


class FakeClient:
    """Answers every prompt with a PNG frame sequence: frame 0 is the uploaded image,
    frame i of the g-th prompt is a solid colour(g, i)."""

    client_id = "fake"

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.graphs: list[dict] = []

    def upload_image(self, data: bytes, suffix: str = ".png", *, subfolder: str = "",
                     cancel=None) -> str:
        self.uploads.append(data)
        return f"upload_{len(self.uploads)}.png"

    def run(self, graph, *, progress=None, cancel=None, timeout=600.0,
            prompt_id=None) -> PromptResult:
        self.graphs.append(graph)
        frames = graph["3"]["inputs"]["video_frames"]
        g = len(self.graphs)
        images = [{"filename": f"p{g}_{i:03d}.png", "subfolder": "", "type": "output"}
                  for i in range(frames)]
        if progress:
            progress(0.5)
        return PromptResult(f"pid{g}", {"8": {"images": images}}, ())

    def download(self, item, destination: Path) -> Path:
        g, i = (int(x) for x in item.filename[1:-4].split("_"))
        if i == 0:
            destination.write_bytes(self.uploads[g - 1])
        else:
            Image.new("RGB", (160, 88), colour(g, i)).save(destination)
        return destination


class RecordingConform:
    def __init__(self) -> None:
        self.frames: list[tuple[int, int, int]] = []
        self.rate = 0.0

    def __call__(self, source: Path, request: ClipRequest, output_path: Path, *,
                 cancel=None) -> RenderedClip:
        with av.open(str(source)) as container:
            self.rate = float(container.streams.video[0].average_rate)
            for frame in container.decode(video=0):
                self.frames.append(frame.to_image().getpixel((5, 5)))
        output_path.write_bytes(b"clip")
        return RenderedClip(output_path, request.frames, request.duration)


@pytest.fixture
def scene(tmp_path) -> Path:
    path = tmp_path / "scene_4.png"
    Image.new("RGB", (320, 180), (10, 20, 30)).save(path)
    return path


def render(tmp_path, scene, duration=7.0, **kwargs):
    client, conform = FakeClient(), RecordingConform()
    renderer = ComfyUIClipRenderer(client, load_template("svd_xt"), conform=conform, **kwargs)
    request = ClipRequest(image_path=scene, duration=duration, clip_action="slow zoom in",
                          seed=42, settings=SETTINGS, scene_number=4, narration="Hello.")
    progress: list[float] = []
    clip = renderer.render(request, tmp_path / "out" / "clip.mp4", progress=progress.append)
    return client, conform, clip, progress


def test_segments_are_bound_with_their_own_seed_frames_and_image(tmp_path, scene):
    client, _, clip, _ = render(tmp_path, scene)
    assert len(client.graphs) == 3  # 56 frames at 8 fps, at most 25 per prompt
    assert [g["3"]["inputs"]["video_frames"] for g in client.graphs] == [20, 19, 19]
    assert [g["5"]["inputs"]["seed"] for g in client.graphs] == [
        segment_seed(42, 4, k) for k in range(3)]
    assert [g["2"]["inputs"]["image"] for g in client.graphs] == [
        "upload_1.png", "upload_2.png", "upload_3.png"]
    first = client.graphs[0]
    assert first["3"]["inputs"]["motion_bucket_id"] == 64  # slow → half of 127
    assert first["3"]["inputs"]["fps"] == 8 and first["7"]["inputs"]["fps"] == 8.0
    assert (first["3"]["inputs"]["width"], first["3"]["inputs"]["height"]) == (160, 88)
    assert first["5"]["inputs"]["steps"] == 20  # unbound inputs untouched
    assert clip.path.read_bytes() == b"clip"


def test_segments_join_seamlessly_from_the_last_frame(tmp_path, scene):
    client, conform, _, _ = render(tmp_path, scene)
    expected = [(10, 20, 30)] + [colour(1, i) for i in range(1, 20)]
    expected += [colour(2, i) for i in range(1, 19)] + [colour(3, i) for i in range(1, 19)]
    assert conform.frames == expected  # 56 frames, no repeated seam frame
    assert conform.rate == 8.0
    # segment k+1 starts from segment k's last kept frame
    assert Image.open(io.BytesIO(client.uploads[1])).getpixel((0, 0)) == colour(1, 19)
    assert Image.open(io.BytesIO(client.uploads[2])).getpixel((0, 0)) == colour(2, 18)


def test_progress_is_monotonic_and_ends_at_one(tmp_path, scene):
    *_, progress = render(tmp_path, scene)
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) >= 6


def test_short_scene_is_one_prompt_and_leaves_no_temp_files(tmp_path, scene):
    client, conform, clip, _ = render(tmp_path, scene, duration=2.0)
    assert len(client.graphs) == 1 and len(conform.frames) == 16
    assert sorted(p.name for p in clip.path.parent.iterdir()) == ["clip.mp4"]


def test_max_duration_splits_even_below_max_frames(tmp_path, scene):
    client, conform, _, _ = render(tmp_path, scene, duration=2.0, max_duration=1.0)
    assert [g["3"]["inputs"]["video_frames"] for g in client.graphs] == [6, 6, 6]
    assert len(conform.frames) == 16


def test_unreadable_image_is_invalid_image(tmp_path):
    bad = tmp_path / "scene_9.png"
    bad.write_bytes(b"nope")
    renderer = ComfyUIClipRenderer(FakeClient(), load_template("svd_xt"),
                                   conform=RecordingConform())
    with pytest.raises(InvalidImage, match=r"scene_9\.png"):
        renderer.render(ClipRequest(image_path=bad, duration=1.0, clip_action="", seed=1,
                                    settings=SETTINGS), tmp_path / "c.mp4")


def test_no_usable_output_is_render_failed(tmp_path, scene):
    client = FakeClient()
    client.run = lambda graph, **kw: PromptResult("p", {"8": {"text": ["no files"]}}, ())
    renderer = ComfyUIClipRenderer(client, load_template("svd_xt"), conform=RecordingConform())
    with pytest.raises(RenderFailed, match="without a video or image output"):
        renderer.render(ClipRequest(image_path=scene, duration=1.0, clip_action="", seed=1,
                                    settings=SETTINGS), tmp_path / "c.mp4")


class _Down:
    name = "comfyui"

    def __init__(self) -> None:
        self.calls = 0

    def render(self, request, output_path, *, progress=None, cancel=None):
        self.calls += 1
        raise ServiceUnavailable("comfyui", "cannot connect")


class _Still:
    name = "kenburns"

    def render(self, request, output_path, *, progress=None, cancel=None):
        return RenderedClip(output_path, 3, 0.25, ("kb note",))


def test_fallback_warns_and_skips_the_primary_during_cooldown(tmp_path, scene):
    now = [0.0]
    primary = _Down()
    renderer = FallbackClipRenderer(primary, _Still(), cooldown=30.0, clock=lambda: now[0])
    request = ClipRequest(image_path=scene, duration=1.0, clip_action="", seed=1,
                          scene_number=2)
    clip = renderer.render(request, tmp_path / "a.mp4")
    assert clip.warnings == ("kb note", "scene 2: comfyui unavailable (cannot connect); "
                             "rendered with kenburns instead")
    renderer.render(request, tmp_path / "b.mp4")
    assert primary.calls == 1
    now[0] = 31.0
    renderer.render(request, tmp_path / "c.mp4")
    assert primary.calls == 2


def test_fallback_does_not_hide_real_failures(tmp_path, scene):
    class Broken(_Down):
        def render(self, *a, **k):
            raise RenderFailed("comfyui execution", "boom")

    renderer = FallbackClipRenderer(Broken(), _Still())
    with pytest.raises(RenderFailed):
        renderer.render(ClipRequest(image_path=scene, duration=1.0, clip_action="", seed=1),
                        tmp_path / "a.mp4")


# ------------------------------------------------------------- job formats
PORTRAIT = Path(__file__).parents[2] / "fixtures" / "framing" / "astronaut_512.jpg"


@pytest.mark.parametrize(("size", "generated"), [
    ((1024, 576), (1024, 576)),  # the default format: the template's size as before
    ((1080, 1920), (576, 1024)),  # 9:16 1080p: the model's pixel budget, same aspect
    ((1080, 1350), (688, 856)),  # 4:5 1080p
])
def test_job_format_reaches_the_size_bindings_within_the_models_budget(
        tmp_path, size, generated) -> None:
    client = FakeClient()
    renderer = ComfyUIClipRenderer(client, load_template("svd_xt"), conform=RecordingConform())
    settings = VideoSettings(width=size[0], height=size[1], fps=12, crf=20, preset="ultrafast")
    scene = tmp_path / "scene.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(scene)
    renderer.render(ClipRequest(scene, 1.0, "zoom in", 1, settings=settings),
                    tmp_path / "clip.mp4")
    inputs = client.graphs[0]["3"]["inputs"]
    assert (inputs["width"], inputs["height"]) == generated
    assert abs(generated[0] / generated[1] - size[0] / size[1]) < 0.02
    assert generated[0] * generated[1] <= 1024 * 576


def test_uploaded_image_is_framed_on_the_face(tmp_path) -> None:
    """A square portrait for a 16:9 clip: the upload is the 16:9 crop that keeps the
    astronaut's face (a centred crop — what the model would do — cuts it)."""
    from videogen_adapters.framing import detect_faces

    client = FakeClient()
    renderer = ComfyUIClipRenderer(client, load_template("svd_xt"), conform=RecordingConform())
    for focus in ("auto", "center"):
        renderer.render(ClipRequest(PORTRAIT, 1.0, "zoom in", 1, settings=SETTINGS,
                                    focus=focus), tmp_path / f"{focus}.mp4")
    auto, centre = (Image.open(io.BytesIO(data)) for data in client.uploads[:2])
    assert auto.size == centre.size == (512, 288)
    assert len(detect_faces(auto.convert("RGB"))) == 1
    assert detect_faces(centre.convert("RGB")) == []

class _Ahead(_Down):
    """A primary that can be handed clips ahead; records what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.ahead: list = []
        self.discarded: list = []

    def render_ahead(self, jobs, *, cancel=None):
        self.ahead.extend(jobs)

    def discard(self, request, output_path):
        self.discarded.append((request, output_path))


def test_fallback_hands_clips_ahead_only_while_the_primary_is_up(tmp_path, scene):
    now = [0.0]
    primary = _Ahead()
    renderer = FallbackClipRenderer(primary, _Still(), cooldown=30.0, clock=lambda: now[0])
    request = ClipRequest(image_path=scene, duration=1.0, clip_action="", seed=1)
    renderer.render_ahead([(request, tmp_path / "a.mp4")])
    assert primary.ahead == [(request, tmp_path / "a.mp4")]
    renderer.render(request, tmp_path / "a.mp4")  # primary down → Ken Burns, cooldown starts
    renderer.render_ahead([(request, tmp_path / "b.mp4")])
    assert len(primary.ahead) == 1  # not handed to a server known to be down
    renderer.render(request, tmp_path / "c.mp4")  # skipped: a clip started ahead is dropped
    assert primary.discarded == [(request, tmp_path / "c.mp4")]


def test_a_lone_render_and_one_started_ahead_give_the_same_clip(tmp_path, scene):
    client, conform = FakeClient(), RecordingConform()
    renderer = ComfyUIClipRenderer(client, load_template("svd_xt"), conform=conform)
    request = ClipRequest(image_path=scene, duration=2.0, clip_action="", seed=5,
                          settings=SETTINGS, scene_number=1)
    renderer.render_ahead([(request, tmp_path / "out" / "a.mp4")])
    renderer.render_ahead([(request, tmp_path / "out" / "a.mp4")])  # the same clip: once
    seen: list[float] = []
    renderer.render(request, tmp_path / "out" / "a.mp4", progress=seen.append)
    assert len(client.graphs) == 1 and seen[-1] == 1.0
    renderer.render(request, tmp_path / "out" / "b.mp4")  # not started ahead: done now
    assert len(client.graphs) == 2
    assert [d.scene_number for d in renderer.dispatches] == [1, 1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4"]


def test_clips_handed_ahead_and_cancelled_are_forgotten(tmp_path, scene):
    from videogen_core import Cancelled, CancelToken

    renderer = ComfyUIClipRenderer(FakeClient(), load_template("svd_xt"),
                                   conform=RecordingConform())
    token = CancelToken()
    requests = [ClipRequest(image_path=scene, duration=1.0, clip_action="", seed=k,
                            settings=SETTINGS, scene_number=k) for k in (1, 2)]
    renderer.render_ahead([(r, tmp_path / "out" / f"{r.scene_number}.mp4") for r in requests],
                          cancel=token)
    assert len(renderer._jobs) == 2
    token.cancel()
    for job in list(renderer._jobs.values()):
        with contextlib.suppress(Exception):
            job.future.result(10)
    deadline = time.monotonic() + 5  # forgotten by the future's done-callback
    while renderer._jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert renderer._jobs == {}
    with pytest.raises(Cancelled):  # a render after the cancel starts afresh and stops
        renderer.render(requests[0], tmp_path / "out" / "1.mp4", cancel=token)
