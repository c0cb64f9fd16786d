"""Subject-aware framing on labelled photos (a measurement, not a test).

Photos with known face boxes:

* scikit-image's ``astronaut()`` (512x512, NASA, public domain): the face at
  about (177, 66, 95, 95) px;
* composed pictures: her head (the face box plus some context, scaled) pasted
  into wide landscapes — a synthetic one (sky, hills, textured ground) and a
  real photo (scikit-image's ``rocket()`` cover-cropped to 2.6:1) — at 15
  positions, edges included. The pasted face box is the label.

For every photo, output aspect (16:9, 9:16), movement (zoom in, zoom out, pan
left, pan right, static) and seed, the Ken Burns camera path gives the crop
window of every frame; a frame counts when the whole labelled face box is
inside it. videogen (``focus: "auto"``) is compared with the centre crop
(``focus: "center"``, the framing before subject detection). Then a few clips
are rendered (raw frames, no encoder) and each frame is compared with the
window the path predicts, cut from the fitted image independently — so the
numbers above are about what is really on screen. Finally the detector's cost
on a 12-megapixel photo (CPU and wall time; the lead runs timings on a quiet
machine) and the Ken Burns pan jitter of ``generate_video`` at the shipped crf 5.

    .venv/bin/python benchmarks/bench_framing.py            # everything
    .venv/bin/python benchmarks/bench_framing.py --quick    # 3 positions, 1 seed, no timing
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from videogen_adapters.ffmpeg import kenburns  # noqa: E402
from videogen_adapters.ffmpeg.images import fit_frame, yuv_planes  # noqa: E402
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer  # noqa: E402
from videogen_adapters.framing import detect_subject, frame_box  # noqa: E402
from videogen_core.model import VideoSettings  # noqa: E402
from videogen_core.ports import ClipRequest  # noqa: E402

Box = tuple[float, float, float, float]
FACE = (177, 66, 95, 95)  # astronaut(): x, y, w, h
FORMATS = {"16:9": (256, 144), "9:16": (144, 256)}  # the framing is size-independent
ACTIONS = ("zoom in", "zoom out", "pan left", "pan right", "static")
FRAMES = 96  # a 4 s clip at 24 fps


def astronaut() -> np.ndarray:
    from skimage import data

    return np.asarray(data.astronaut())


def synthetic_landscape(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Sky gradient, a wavy horizon, textured ground."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    y, x = yy / height, xx / width
    horizon = 0.5 + 0.06 * np.sin(2 * np.pi * 2.3 * x) + 0.03 * np.sin(2 * np.pi * 7.1 * x)
    sky = np.stack([0.35 + 0.4 * y, 0.55 + 0.3 * y, 0.9 - 0.2 * y], -1)
    ground = np.stack([0.25 + 0.1 * x, 0.45 - 0.2 * y, 0.15 + 0.1 * np.sin(13 * x)], -1)
    img = np.where((y > horizon)[..., None], ground, sky) + rng.normal(0, 0.05, (height, width, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def real_landscape(width: int, height: int) -> np.ndarray:
    from skimage import data

    photo = Image.fromarray(np.asarray(data.rocket()))
    from PIL import ImageOps

    return np.asarray(ImageOps.fit(photo, (width, height), Image.Resampling.LANCZOS))


def compose(background: np.ndarray, centre: tuple[float, float], scale: float
            ) -> tuple[Image.Image, Box]:
    """Paste the astronaut's head (face box + context), scaled, centred at ``centre``
    (fractions) — clamped inside the picture; returns the picture and the face box."""
    x, y, w, h = FACE
    pad = 40
    head = Image.fromarray(astronaut()).crop((x - pad, y - pad, x + w + pad, y + h + pad))
    head = head.resize((round(head.width * scale), round(head.height * scale)),
                       Image.Resampling.LANCZOS)
    bh, bw = background.shape[:2]
    left = min(max(0, round(centre[0] * bw - head.width / 2)), bw - head.width)
    top = min(max(0, round(centre[1] * bh - head.height / 2)), bh - head.height)
    picture = Image.fromarray(background.copy())
    picture.paste(head, (left, top))
    face = (left + pad * scale, top + pad * scale, left + (pad + w) * scale,
            top + (pad + h) * scale)
    return picture, (face[0] / bw, face[1] / bh, face[2] / bw, face[3] / bh)


def labelled_photos(positions: int) -> Iterator[tuple[str, Image.Image, Box]]:
    x, y, w, h = FACE
    yield "astronaut", Image.fromarray(astronaut()), (x / 512, y / 512, (x + w) / 512,
                                                      (y + h) / 512)
    xs = np.linspace(0.04, 0.96, 5) if positions >= 5 else np.array([0.04, 0.5, 0.96])
    ys = (0.25, 0.5, 0.75) if positions >= 5 else (0.5,)
    backgrounds = {"synthetic": synthetic_landscape(1820, 700),
                   "rocket": real_landscape(1820, 700)}
    for (name, background), cx, cy in itertools.product(backgrounds.items(), xs, ys):
        picture, box = compose(background, (float(cx), cy), 1.6)
        yield f"{name}@({cx:.2f},{cy:.2f})", picture, box


def visible(renderer: KenBurnsClipRenderer, request: ClipRequest, photo: Image.Image,
            box: Box) -> tuple[int, object]:
    """Frames (of FRAMES) whose crop window holds the whole ``box``, and the framing."""
    framing = renderer.framing(request, photo)
    size = (request.settings.width, request.settings.height)
    fx0, fy0, fx1, fy1 = frame_box(box, photo.size, size, renderer.fit, framing.centering)
    count = 0
    for k in range(FRAMES):
        left, top, w, h = framing.path.window(k / (FRAMES - 1))
        count += (left <= fx0 + 1e-9 and top <= fy0 + 1e-9 and left + w >= fx1 - 1e-9
                  and top + h >= fy1 - 1e-9)
    return count, framing


def rendered_matches_path(renderer: KenBurnsClipRenderer, request: ClipRequest,
                          photo: Image.Image) -> tuple[float, float]:
    """Mean |Y difference| (levels) between rendered frames and the window the path
    predicts, cut independently from the fitted image with Pillow — for the framed
    path and, as a control, for the centred path."""
    planes, framing = renderer.prepare(request)
    settings = request.settings
    src_w, src_h = renderer._source_size(framing.path, settings)  # noqa: SLF001
    fitted = fit_frame(photo, src_w, src_h, renderer.fit, centering=framing.centering)
    centred = fit_frame(photo, src_w, src_h, renderer.fit)
    frames = list(renderer.frames(request.image_path, framing.path, settings, 24,
                                  planes=planes))
    diffs, controls = [], []
    for k in (0, 11, 23):
        left, top, w, h = framing.path.window(k / 23)
        box = (left * src_w, top * src_h, (left + w) * src_w, (top + h) * src_h)
        rendered = np.frombuffer(frames[k], np.uint8)[:settings.width * settings.height]
        rendered = rendered.reshape(settings.height, settings.width).astype(float)
        for image, out in ((fitted, diffs), (centred, controls)):
            cut = image.resize((settings.width, settings.height), Image.Resampling.BILINEAR,
                               box=box)
            expected = np.asarray(yuv_planes(cut)[0], dtype=float)
            out.append(float(np.abs(rendered - expected).mean()))
    return statistics.mean(diffs), statistics.mean(controls)


def detection_cost(rounds: int) -> None:
    photo = Image.fromarray(astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC)
    landscape = Image.fromarray(synthetic_landscape(4000, 3000))
    detect_subject(photo)  # load the cascade
    for name, image in (("portrait (a face)", photo), ("landscape (saliency)", landscape)):
        cpu, wall = [], []
        for _ in range(rounds):
            c, w = time.process_time(), time.perf_counter()
            found = detect_subject(image)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
        print(f"  12 MP {name:22s}: median {statistics.median(cpu) * 1e3:5.1f} ms CPU, "
              f"{statistics.median(wall) * 1e3:5.1f} ms wall -> "
              f"{found.kind if found else 'no subject'}")


def pan_jitter(crf: int) -> float:
    """``generate_video``-style pan (1024x576, 24 fps, preset medium) measured like the
    tests: phase correlation at half resolution, deviation from a 7-frame local mean."""
    from tests.unit.ffmpeg.phase import half_resolution, phase_shift, shift_jitter

    from videogen_adapters.ffmpeg.probe import decode_frames

    photo = Path(__file__).resolve().parents[1] / "tests/fixtures/ffmpeg/astronaut_480x270.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pan.mp4"
        KenBurnsClipRenderer().render(
            ClipRequest(photo, 5.0, "pan right", 1, settings=VideoSettings(crf=crf)), out)
        frames = [half_resolution(f) for f in decode_frames(out, pix_fmt="gray")]
    shifts = np.array([phase_shift(a, b)[0] for a, b in itertools.pairwise(frames)])
    return float(np.abs(shift_jitter(shifts, radius=3)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 positions, 1 seed, no timing, no jitter encode")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    seeds = range(1 if args.quick else args.seeds)
    photos = list(labelled_photos(3 if args.quick else 5))

    # detect once per photo: the renderer looks the subject up through resolve_focus
    cache: dict[int, object] = {}
    original = kenburns.resolve_focus

    def memo(focus: object, image: Image.Image) -> object:
        if focus != "auto":
            return original(focus, image)  # type: ignore[arg-type]
        if id(image) not in cache:
            cache[id(image)] = original(focus, image)  # type: ignore[arg-type]
        return cache[id(image)]

    kenburns.resolve_focus = memo  # type: ignore[assignment]
    renderer = KenBurnsClipRenderer()
    detected = 0
    totals: dict[tuple[str, str, str], list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for index, (_name, photo, box) in enumerate(photos):
            path = Path(tmp) / f"{index}.png"
            photo.save(path)
            subject = memo("auto", photo)
            if subject is not None and getattr(subject, "kind", "") == "faces":
                sx0, sy0, sx1, sy1 = subject.box  # type: ignore[attr-defined]
                detected += sx0 <= (box[0] + box[2]) / 2 <= sx1 and \
                    sy0 <= (box[1] + box[3]) / 2 <= sy1
            for (aspect, size), action, seed in itertools.product(FORMATS.items(), ACTIONS,
                                                                  seeds):
                settings = VideoSettings(width=size[0], height=size[1])
                for focus in ("auto", "center"):
                    request = ClipRequest(path, 4.0, action, seed, settings=settings,
                                          focus=focus)
                    count, _ = visible(renderer, request, photo, box)
                    totals.setdefault((aspect, action, focus), []).append(count)
        print(f"{len(photos)} labelled photos; the face detector found the labelled face "
              f"in {detected}/{len(photos)}")
        print("\nShare of frames showing the whole face box (camera path, every frame):")
        print(f"  {'format':6s} {'movement':10s} {'videogen':>9s} {'centre crop':>12s}")
        for aspect, action in itertools.product(FORMATS, ACTIONS):
            ours = totals[aspect, action, "auto"]
            centre = totals[aspect, action, "center"]
            print(f"  {aspect:6s} {action:10s} {100 * sum(ours) / (FRAMES * len(ours)):8.1f}% "
                  f"{100 * sum(centre) / (FRAMES * len(centre)):11.1f}%")
        for aspect in FORMATS:
            ours = [c for (a, _, f), v in totals.items() if a == aspect and f == "auto"
                    for c in v]
            centre = [c for (a, _, f), v in totals.items() if a == aspect and f == "center"
                      for c in v]
            print(f"  {aspect:6s} {'all':10s} {100 * sum(ours) / (FRAMES * len(ours)):8.1f}% "
                  f"{100 * sum(centre) / (FRAMES * len(centre)):11.1f}%")

        print("\nRendered frames vs the path's window (mean |dY| in levels; control: "
              "the centred window):")
        for index in (0, 1, len(photos) - 1):
            name, photo, _ = photos[index]
            path = Path(tmp) / f"{index}.png"
            for (aspect, size), action in itertools.product(FORMATS.items(),
                                                            ("zoom in", "pan right")):
                settings = VideoSettings(width=size[0], height=size[1])
                request = ClipRequest(path, 1.0, action, 1, settings=settings)
                diff, control = rendered_matches_path(renderer, request, photo)
                print(f"  {name:24s} {aspect:5s} {action:10s} {diff:5.2f}   "
                      f"(centred window {control:5.2f})")
    kenburns.resolve_focus = original  # type: ignore[assignment]

    if not args.quick:
        print("\nSubject detection (once per image, on the prepare thread):")
        detection_cost(7)
        print("\nPan jitter of a generate_video pan (1024x576, 5 s, crf 5, medium): "
              f"{pan_jitter(5):.4f} px")


if __name__ == "__main__":
    main()
