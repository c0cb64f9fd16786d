"""Ken Burns motion jitter on the delivered file: x264 settings explored (a measurement).

Each pan is rendered once by the project's Ken Burns renderer (the frames
``generate_video`` feeds the encoder: 1024x576, 24 fps, 5 s) and kept as raw
``yuv420p``; then every candidate encoder setting encodes those same frames at
the shipped crf 5 / preset ``medium`` with the project's command line
(``encode_raw_args``, the project's thread count), and the delivered file is
measured like the tests do: phase correlation at half resolution, the largest
deviation of a frame-to-frame shift from its 7-frame local mean (px), on both axes.

Printed per setting: jitter per pan, bytes and the ffmpeg child's CPU time
(``getrusage(RUSAGE_CHILDREN)`` user + sys, less noisy than wall time on a
loaded machine) plus the frames' rendering CPU, against the settings before the fix (the
first row). A few rows change the renderer's resampler instead (Pillow kernels,
oversampling) and keep the old encoder settings. The lead runs the
timed version on a quiet machine.

    .venv/bin/python benchmarks/bench_jitter.py                  # every setting, 4 pans
    .venv/bin/python benchmarks/bench_jitter.py --quick          # 2 settings, 1 short pan
    .venv/bin/python benchmarks/bench_jitter.py --only shipped --pans all
"""

from __future__ import annotations

import argparse
import itertools
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.ffmpeg.phase import half_resolution, phase_shift, shift_jitter  # noqa: E402

from videogen_adapters.ffmpeg import commands  # noqa: E402
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer  # noqa: E402
from videogen_adapters.ffmpeg.probe import decode_frames  # noqa: E402
from videogen_adapters.ffmpeg.runner import find_ffmpeg  # noqa: E402
from videogen_core.model import VideoSettings  # noqa: E402
from videogen_core.ports import ClipRequest  # noqa: E402

ASTRONAUT = ROOT / "tests/fixtures/ffmpeg/astronaut_480x270.jpg"

#: (name, photo, action): horizontal pan, vertical tilt, zoom + pan; two photos
PANS = {
    "astronaut pan right": ("astronaut", "pan right"),
    "astronaut tilt up": ("astronaut", "tilt up"),
    "coffee pan left": ("coffee", "pan left"),
    "coffee zoom in + pan right": ("coffee", "zoom in and pan right"),
    "chelsea pan down": ("chelsea", "pan down"),
}
DEFAULT_PANS = ("astronaut pan right", "astronaut tilt up", "coffee pan left",
                "coffee zoom in + pan right")


@dataclass(frozen=True)
class Candidate:
    name: str
    #: the complete ``-x264-params`` value used instead of the shipped one (None: shipped)
    params: str | None = None
    #: extra ffmpeg output options (e.g. ``-tune ssim``)
    extra: tuple[str, ...] = ()
    #: KenBurnsClipRenderer keyword arguments (the resampler route)
    renderer: tuple[tuple[str, object], ...] = ()


#: the x264 params before the motion fix (the reference row)
OLD = "open-gop=0"
CANDIDATES = [
    Candidate("before (open-gop=0)", OLD),
    Candidate("shipped default", None),
    Candidate("psy-rd=0,0", OLD + ":psy-rd=0,0"),
    Candidate("psy=0", OLD + ":psy=0"),
    Candidate("-tune ssim", OLD, ("-tune", "ssim")),
    Candidate("-tune film", OLD, ("-tune", "film")),
    Candidate("aq-mode=0", OLD + ":aq-mode=0"),
    Candidate("aq-mode=2", OLD + ":aq-mode=2"),
    Candidate("aq-mode=3", OLD + ":aq-mode=3"),
    Candidate("weightb=0", OLD + ":weightb=0"),
    Candidate("direct=temporal", OLD + ":direct=temporal"),
    Candidate("direct=auto", OLD + ":direct=auto"),
    Candidate("b-pyramid=none", OLD + ":b-pyramid=none"),
    Candidate("bframes=1", OLD + ":bframes=1"),
    Candidate("bframes=2", OLD + ":bframes=2"),
    Candidate("b-adapt=0", OLD + ":b-adapt=0"),
    Candidate("b-adapt=2", OLD + ":b-adapt=2"),
    Candidate("pbratio=1.0", OLD + ":pbratio=1.0"),
    Candidate("pbratio=1.1", OLD + ":pbratio=1.1"),
    Candidate("ipratio=1.0:pbratio=1.0", OLD + ":ipratio=1.0:pbratio=1.0"),
    Candidate("qcomp=0.7", OLD + ":qcomp=0.7"),
    Candidate("qcomp=0.8", OLD + ":qcomp=0.8"),
    Candidate("qcomp=0.9", OLD + ":qcomp=0.9"),
    Candidate("qcomp=1.0", OLD + ":qcomp=1.0"),
    Candidate("qpmax=6", OLD + ":qpmax=6"),
    Candidate("qpmax=7", OLD + ":qpmax=7"),
    Candidate("qpmax=8", OLD + ":qpmax=8"),
    Candidate("qcomp=0.85", OLD + ":qcomp=0.85"),
    Candidate("rc-lookahead=10", OLD + ":rc-lookahead=10"),
    Candidate("rc-lookahead=20", OLD + ":rc-lookahead=20"),
    Candidate("aq-strength=0.5", OLD + ":aq-strength=0.5"),
    Candidate("-tune grain", OLD, ("-tune", "grain")),
    Candidate("aq-mode=0+qcomp=0.8", OLD + ":aq-mode=0:qcomp=0.8"),
    Candidate("trellis=2+qcomp=0.8", OLD + ":trellis=2:qcomp=0.8"),
    Candidate("psy=0+qcomp=0.95", OLD + ":psy=0:qcomp=0.95"),
    Candidate("qcomp=0.9+qpmax=8", OLD + ":qcomp=0.9:qpmax=8"),
    Candidate("psy=0+qcomp=1.0", OLD + ":psy=0:qcomp=1.0"),
    Candidate("psy=0+qcomp=1+qpmax=7", OLD + ":psy=0:qcomp=1.0:qpmax=7"),
    Candidate("psy=0+qcomp=1+qpmax=6", OLD + ":psy=0:qcomp=1.0:qpmax=6"),
    Candidate("psy=0+qcomp=1+aq-mode=0", OLD + ":psy=0:qcomp=1.0:aq-mode=0"),
    Candidate("qcomp=1+aq-mode=0", OLD + ":qcomp=1.0:aq-mode=0"),
    Candidate("psy=0+qcomp=0.8", OLD + ":psy=0:qcomp=0.8"),
    Candidate("psy=0+qcomp=0.9", OLD + ":psy=0:qcomp=0.9"),
    Candidate("psy=0+qpmax=7", OLD + ":psy=0:qpmax=7"),
    Candidate("psy=0+qpmax=8", OLD + ":psy=0:qpmax=8"),
    Candidate("deblock=-2:-2", OLD + ":deblock=-2,-2"),
    Candidate("no-deblock", OLD + ":no-deblock=1"),
    Candidate("me=umh", OLD + ":me=umh"),
    Candidate("subme=9", OLD + ":subme=9"),
    Candidate("subme=10", OLD + ":subme=10"),
    Candidate("trellis=2", OLD + ":trellis=2"),
    Candidate("trellis=0", OLD + ":trellis=0"),
    Candidate("no-dct-decimate", OLD + ":no-dct-decimate=1"),
    Candidate("no-fast-pskip", OLD + ":no-fast-pskip=1"),
    Candidate("deadzone=6,6", OLD + ":deadzone-inter=6:deadzone-intra=6"),
    Candidate("Pillow bicubic frames", OLD, renderer=(("resample", "bicubic"),)),
    Candidate("Pillow lanczos frames", OLD, renderer=(("resample", "lanczos"),)),
    Candidate("oversample 2 (Pillow)", OLD, renderer=(("oversample", 2.0),)),
    Candidate("cqm=jvt", OLD + ":cqm=jvt"),
    Candidate("cqm=jvt+psy=0", OLD + ":cqm=jvt:psy=0"),
    Candidate("bicubic + psy=0+qcomp=1", OLD + ":psy=0:qcomp=1.0",
              renderer=(("resample", "bicubic"),)),
    Candidate("bframes=0", OLD + ":bframes=0"),
    Candidate("no-mbtree", OLD + ":mbtree=0"),
]


def photo_path(name: str, tmp: Path) -> Path:
    if name == "astronaut":
        return ASTRONAUT
    from PIL import Image
    from skimage import data

    path = tmp / f"{name}.png"
    if not path.exists():
        Image.fromarray(getattr(data, name)()).save(path)
    return path


def render_raw(pan: str, tmp: Path, seconds: float, settings: VideoSettings,
               renderer: tuple[tuple[str, object], ...] = ()) -> tuple[Path, int, float]:
    """The renderer's raw yuv420p frames for ``pan`` (what the encoder is fed), their
    count and the CPU seconds the rendering took (this process, all threads)."""
    photo, action = PANS[pan]
    request = ClipRequest(photo_path(photo, tmp), seconds, action, 1, settings=settings)
    raw = tmp / (pan.replace(" ", "_").replace("+", "") + str(hash(renderer)) + ".yuv")
    before = resource.getrusage(resource.RUSAGE_SELF)
    source = KenBurnsClipRenderer(**dict(renderer)).stream(request)  # type: ignore[arg-type]
    with raw.open("wb") as f:
        for frame in source.open():
            f.write(frame)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return raw, source.frame_count, cpu


def encode(raw: Path, frames: int, out: Path, settings: VideoSettings,
           candidate: Candidate) -> float:
    """Encode with the project's command line, the candidate's options swapped in;
    returns the ffmpeg child's CPU seconds (user + sys)."""
    argv = commands.encode_raw_args(find_ffmpeg(), out, settings, frames)
    argv[argv.index("pipe:0")] = str(raw)
    if candidate.params is not None:
        argv[argv.index("-x264-params") + 1] = candidate.params
    at = argv.index("-f", argv.index("-frames:v"))
    argv[at:at] = list(candidate.extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def jitter(video: Path) -> float:
    """Largest deviation (px, half resolution) of a frame-to-frame shift from its
    7-frame local mean, over both axes."""
    frames = [half_resolution(f) for f in decode_frames(video, pix_fmt="gray")]
    shifts = np.array([phase_shift(a, b) for a, b in itertools.pairwise(frames)])
    return max(float(np.abs(shift_jitter(shifts[:, axis], radius=3)).max()) for axis in (0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="before + shipped, one 1.5 s pan at 320x180 (proves it runs)")
    parser.add_argument("--pans", nargs="+", default=list(DEFAULT_PANS),
                        help=f"pans to measure ('all' = every one): {', '.join(PANS)}")
    parser.add_argument("--only", nargs="+",
                        help="candidates whose name starts with one of these words")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--size", default="1024x576", help="output WxH (default 1024x576)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    settings = VideoSettings(width=width, height=height)  # 24 fps, crf 5, medium
    pans = list(PANS) if args.pans == ["all"] else args.pans
    candidates = CANDIDATES
    if args.quick:
        settings = VideoSettings(width=320, height=180)
        pans, args.seconds, candidates = pans[:1], 1.5, CANDIDATES[:2]
    if args.only:
        candidates = [c for c in CANDIDATES if c is CANDIDATES[0]
                      or any(c.name.startswith(w) for w in args.only)]
    print(f"{settings.width}x{settings.height} {settings.fps} fps, {args.seconds:g} s, "
          f"crf {settings.crf}, preset {settings.preset}; shipped x264 params: "
          f"{commands.x264_params(settings)!r}")
    print("jitter = max |frame-to-frame shift - 7-frame local mean| (px, half resolution)")
    rows: list[tuple[str, list[float], float, float]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        raws: dict[tuple[str, object], tuple[Path, int, float]] = {}
        render_raw(pans[0], tmp, 0.5, settings)  # warm-up: imports, the face detector
        header = "  ".join(f"{p[:26]:>26s}" for p in pans)
        print(f"\n{'setting':26s}  {header}  {'bytes':>8s}  {'CPU s':>7s}")
        base_bytes = base_cpu = 0.0
        for candidate in candidates:
            jitters, size, cpu = [], 0, 0.0
            for pan in pans:
                key = (pan, candidate.renderer)
                if key not in raws:
                    raws[key] = render_raw(pan, tmp, args.seconds, settings, candidate.renderer)
                raw, count, render_cpu = raws[key]
                out = tmp / "out.mp4"
                cpu += render_cpu + encode(raw, count, out, settings, candidate)
                size += out.stat().st_size
                jitters.append(jitter(out))
            if not rows:
                base_bytes, base_cpu = size, cpu
            rows.append((candidate.name, jitters, size, cpu))
            cells = "  ".join(f"{j:26.4f}" for j in jitters)
            print(f"{candidate.name:26s}  {cells}  {size / base_bytes - 1:+7.0%}  "
                  f"{cpu / base_cpu - 1:+6.0%}  ({size / 1e6:.2f} MB, {cpu:.1f} s)", flush=True)
    print("\nbytes and CPU: all pans together, against the first row (the settings before "
          "the fix); CPU = rendering the frames (this process) + the ffmpeg encode (child, "
          "user + sys)")


if __name__ == "__main__":
    main()
