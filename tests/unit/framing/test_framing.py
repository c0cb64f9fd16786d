"""Subject-aware framing: detection, the cover crop, the camera path, rendered frames."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from videogen_adapters.ffmpeg.camera import contains, plan_camera
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.framing import (
    Subject,
    cover_crop,
    detect_faces,
    detect_subject,
    frame_box,
    resolve_focus,
)
from videogen_adapters.framing.geometry import place
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest

PORTRAIT = Path(__file__).parents[2] / "fixtures" / "framing" / "astronaut_512.jpg"
FACE = (177, 66, 95, 95)  # x, y, w, h in the 512x512 portrait (FACTS / fixtures README)
WIDE = VideoSettings(width=256, height=144, fps=12, crf=0, preset="ultrafast")
TALL = VideoSettings(width=144, height=256, fps=12, crf=0, preset="ultrafast")


def face_fraction(size: int = 512) -> tuple[float, float, float, float]:
    x, y, w, h = FACE
    return x / size, y / size, (x + w) / size, (y + h) / size


def visible_share(renderer: KenBurnsClipRenderer, request: ClipRequest,
                  box: tuple[float, float, float, float], frames: int = 48) -> float:
    """Share of frames whose crop window (mapped back to the photo) holds ``box``."""
    with Image.open(request.image_path) as image:
        photo = image.convert("RGB")
    framing = renderer.framing(request, photo)
    size = (request.settings.width, request.settings.height)
    inside = 0
    for k in range(frames):
        left, top, w, h = framing.path.window(k / (frames - 1))
        # the window in photo fractions: through the cover crop
        fx0, fy0, fx1, fy1 = frame_box(box, photo.size, size, "cover", framing.centering)
        inside += left <= fx0 + 1e-9 and top <= fy0 + 1e-9 and \
            left + w >= fx1 - 1e-9 and top + h >= fy1 - 1e-9
    return inside / frames


# ---------------------------------------------------------------- detection
def test_finds_the_astronauts_face() -> None:
    with Image.open(PORTRAIT) as image:
        faces = detect_faces(image.convert("RGB"))
    assert len(faces) == 1
    expected = face_fraction()
    assert all(abs(a - b) < 0.03 for a, b in zip(faces[0], expected, strict=True))


def test_no_subject_in_flat_or_noisy_pictures() -> None:
    flat = Image.new("RGB", (300, 200), (120, 130, 140))
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3),
                                                              dtype=np.uint8))
    assert detect_subject(flat) is None
    assert detect_subject(noise) is None


def test_saliency_finds_a_lone_object_off_centre() -> None:
    pixels = np.full((300, 600, 3), 40, np.uint8)
    pixels[120:180, 480:540] = 230  # a bright block near the right edge
    subject = detect_subject(Image.fromarray(pixels))
    assert subject is not None and subject.kind == "saliency"
    cx, cy = subject.centre
    assert 0.75 < cx < 0.92 and 0.35 < cy < 0.65


def test_focus_words_and_points() -> None:
    with Image.open(PORTRAIT) as image:
        photo = image.convert("RGB")
    assert resolve_focus("center", photo) is None
    assert resolve_focus("auto", photo) == detect_subject(photo)
    assert resolve_focus((0.9, 0.1), photo) == Subject((0.9, 0.1, 0.9, 0.1), "point")


# ----------------------------------------------------------------- geometry
def test_place_keeps_the_span_whole_and_inside() -> None:
    assert place(0.4, 0.6, 0.5) == pytest.approx(0.25)  # centred on it
    assert place(0.0, 0.1, 0.5) == 0.0  # at the edge
    assert place(0.9, 1.0, 0.5) == pytest.approx(0.5)
    assert place(0.1, 0.9, 0.5) == pytest.approx(0.25)  # too big: centred


def test_cover_crop_moves_to_the_face_and_centres_without_one() -> None:
    assert cover_crop((512, 512), (16, 9), None) == (0.5, 0.5)
    cx, cy = cover_crop((512, 512), (16, 9), face_fraction())
    assert cx == 0.5  # a 16:9 crop of a square keeps the whole width
    box = frame_box(face_fraction(), (512, 512), (16, 9), "cover", (cx, cy))
    assert box[1] >= 0.0 and box[3] <= 1.0  # the face is inside the crop
    # the centred crop cuts it
    centred = frame_box(face_fraction(), (512, 512), (16, 9), "cover", (0.5, 0.5))
    assert centred[1] < 0.0


@pytest.mark.parametrize("action", ["zoom in", "zoom out", "pan left", "pan right", "tilt up",
                                    "pan down", "quick zoom in, pan right",
                                    "fast zoom out, pan left", "quick pan right, tilt down",
                                    "static", "a misty forest"])
def test_framed_paths_hold_the_subject_in_every_window(action: str) -> None:
    boxes = [(0.01, 0.3, 0.12, 0.5), (0.45, 0.4, 0.55, 0.6), (0.85, 0.05, 0.99, 0.3),
             (0.3, 0.3, 0.7, 0.9), (0.5, 0.5, 0.5, 0.5), (0.0, 0.8, 0.2, 1.0)]
    for box, seed in itertools.product(boxes, range(4)):
        path = plan_camera(action, seed, subject=box)
        assert contains(path, box, samples=257), (box, seed, path)
        assert all(-1.0 <= s <= 1.0 for s in (*path.sx, *path.sy))


def test_framed_zoom_in_closes_in_on_the_subject() -> None:
    box = (0.52, 0.4, 0.6, 0.5)
    path = plan_camera("zoom in", 1, subject=box)
    left, top, w, h = path.window(1.0)
    assert path.zoom[1] > path.zoom[0]
    assert left + w / 2 == pytest.approx(0.56, abs=1e-6)  # ends centred on it
    assert top + h / 2 == pytest.approx(0.45, abs=1e-6)
    edge = plan_camera("zoom in", 1, subject=(0.9, 0.05, 1.0, 0.15)).window(1.0)
    assert edge[0] + edge[2] == pytest.approx(1.0) and edge[1] == pytest.approx(0.0)
    out = plan_camera("zoom out", 1, subject=box)
    assert out.window(0.0) == pytest.approx(path.window(1.0))  # zoom out starts there


def test_framed_pan_ends_on_the_subject_and_keeps_its_direction() -> None:
    box = (0.55, 0.4, 0.65, 0.6)
    path = plan_camera("pan right", 2, subject=box)
    start, end = path.window(0.0), path.window(1.0)
    assert end[0] > start[0]  # still travels right
    assert abs(end[0] + end[2] / 2 - 0.6) < abs(start[0] + start[2] / 2 - 0.6)  # toward it


def test_zoom_never_closer_than_the_subject_is_big() -> None:
    box = (0.1, 0.1, 0.9, 0.9)
    path = plan_camera("quick zoom in", 1, subject=box)
    assert 1.0 / max(path.zoom) >= 0.8 - 1e-9


# ------------------------------------------------------------ Ken Burns clip
def test_face_stays_in_frame_zooming_in_on_a_square_portrait_at_16_9() -> None:
    renderer = KenBurnsClipRenderer()
    auto = ClipRequest(PORTRAIT, 4.0, "zoom in", 5, settings=WIDE)
    centre = ClipRequest(PORTRAIT, 4.0, "zoom in", 5, settings=WIDE, focus="center")
    assert visible_share(renderer, auto, face_fraction()) == 1.0
    assert visible_share(renderer, centre, face_fraction()) == 0.0  # today's crop cuts it


@pytest.mark.parametrize("action", ["zoom in", "pan left", "static"])
def test_face_stays_in_frame_at_9_16(action: str) -> None:
    request = ClipRequest(PORTRAIT, 4.0, action, 5, settings=TALL)
    assert visible_share(KenBurnsClipRenderer(), request, face_fraction()) == 1.0


@pytest.mark.parametrize("action", ["zoom in", "pan right", "static"])
def test_center_keeps_todays_window_and_frames(action: str) -> None:
    renderer = KenBurnsClipRenderer()
    request = ClipRequest(PORTRAIT, 1.0, action, 3, settings=WIDE, focus="center")
    with Image.open(PORTRAIT) as image:
        framing = renderer.framing(request, image.convert("RGB"))
    old_path = plan_camera(action, 3)
    assert framing.path == old_path and framing.centering == (0.5, 0.5)
    planes, _ = renderer.prepare(request)
    new = list(renderer.frames(PORTRAIT, framing.path, WIDE, 12, planes=planes))
    old = list(renderer.frames(PORTRAIT, old_path, WIDE, 12))  # the centred path as before
    assert new == old


def test_rendered_frames_follow_the_framed_path() -> None:
    """A bright dot as the author's focus: the last frame of a zoom in shows it where
    the camera path says (the window's centre), not where the centred path would."""
    pixels = np.full((400, 400, 3), 60, np.uint8)
    yy, xx = np.mgrid[0:400, 0:400]
    dot = (0.56, 0.25)
    pixels[(xx - dot[0] * 400) ** 2 + (yy - dot[1] * 400) ** 2 < 36] = 255
    path_png = Path(__file__).with_name("_dot.png")
    Image.fromarray(pixels).save(path_png)
    try:
        renderer = KenBurnsClipRenderer()
        request = ClipRequest(path_png, 1.0, "zoom in", 1, settings=WIDE, focus=dot)
        planes, framing = renderer.prepare(request)
        last = list(renderer.frames(path_png, framing.path, WIDE, 12, planes=planes))[-1]
        luma = np.frombuffer(last, np.uint8)[:WIDE.width * WIDE.height].reshape(
            WIDE.height, WIDE.width).astype(float)
        ys, xs = np.nonzero(luma > 200)
        seen = (xs.mean() / WIDE.width, ys.mean() / WIDE.height)
        # where the path puts the dot: its position in the fitted frame, in the window
        fx0, fy0, _, _ = frame_box((*dot, *dot), (400, 400), (WIDE.width, WIDE.height),
                                   "cover", framing.centering)
        left, top, w, h = framing.path.window(1.0)
        expected = ((fx0 - left) / w, (fy0 - top) / h)
        assert seen == pytest.approx(expected, abs=0.02)
        assert seen == pytest.approx((0.5, 0.5), abs=0.03)  # closed in on it: centred
    finally:
        path_png.unlink(missing_ok=True)


def test_streamed_source_finds_the_subject_early_and_frames_alike() -> None:
    """stream() finds the subject on its reduced check decode (off the encoder's
    path); the frames are those of a clip framed on the same subject."""
    renderer = KenBurnsClipRenderer()
    request = ClipRequest(PORTRAIT, 1.0, "zoom in", 5, settings=WIDE, frame_count=12)
    source = renderer.stream(request)
    assert isinstance(source.subject, Subject) and source.subject.kind == "faces"
    streamed = list(source.open())
    assert source.framing is not None and source.framing.subject == source.subject
    planes, framing = renderer.prepare(request, source.subject)
    assert framing == source.framing
    assert streamed == list(renderer.frames(PORTRAIT, framing.path, WIDE, 12, planes=planes))
    centre = renderer.stream(ClipRequest(PORTRAIT, 1.0, "zoom in", 5, settings=WIDE,
                                         frame_count=12, focus="center"))
    assert centre.subject is None


def test_several_faces_are_framed_as_a_group(tmp_path: Path) -> None:
    """Two heads in a wide picture, the left one near the edge: the crop and a zoom
    in keep both whole (the group); the centred crop loses the left one."""
    with Image.open(PORTRAIT) as image:
        head = image.convert("RGB").crop((137, 26, 312, 201))  # the face with context
    _, _, w, h = FACE
    pad = 40
    picture = Image.new("RGB", (1300, 500), (70, 110, 150))
    boxes = []
    for left in (40, 520):
        picture.paste(head, (left, 150))
        boxes.append(((left + pad) / 1300, (150 + pad) / 500, (left + pad + w) / 1300,
                      (150 + pad + h) / 500))
    path = tmp_path / "group.png"
    picture.save(path)
    faces = detect_faces(picture)
    assert len(faces) == 2
    renderer = KenBurnsClipRenderer()
    for action in ("zoom in", "static", "pan right"):
        auto = ClipRequest(path, 4.0, action, 2, settings=WIDE)
        assert all(visible_share(renderer, auto, box) == 1.0 for box in boxes), action
    centre = ClipRequest(path, 4.0, "static", 2, settings=WIDE, focus="center")
    assert visible_share(renderer, centre, boxes[0]) == 0.0
