"""A ComfyUI-style job without a server: clip files conformed, then muxed (not a test).

What a generative job does after the server part, timed in two steps:

1. **conform** — each scene's joined model output (a lossless FFV1 file at the
   model's 8 fps, as :class:`~videogen_adapters.comfyui.media.FrameJoiner` writes
   it; here Ken Burns frames of scikit-image photos) becomes the scene's clip
   through the renderer's own conform step (``_default_conform``), two at a time
   (the pipeline's two workers);
2. **mux** — :class:`~videogen_adapters.ffmpeg.muxer.FfmpegMuxer` makes the video
   from those clip files (0.5 s crossfades, two executor workers, no soundtrack).

Run it with this tree's ``src`` and with an older one's to compare paths (the
script only uses names both have)::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_clip_files.py
    PYTHONPATH=/path/to/old/src .venv/bin/python benchmarks/bench_clip_files.py
    .venv/bin/python benchmarks/bench_clip_files.py --quick   # proves the script

Printed: wall and CPU seconds (this process and its ffmpeg children) per step,
the clips' bytes, and the frames the final video has.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")
ACTIONS = ("zoom in", "pan right", "zoom out", "pan left", "tilt up", "slow zoom in")


def model_outputs(folder: Path, scenes: int, duration: float, size: tuple[int, int]
                  ) -> list[Path]:
    """One lossless 8 fps FFV1 file per scene, as the ComfyUI renderer joins them."""
    import skimage.data
    from PIL import Image

    from videogen_adapters.comfyui.media import FrameJoiner
    from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
    from videogen_core import ClipRequest, VideoSettings

    model = VideoSettings(width=size[0], height=size[1], fps=8)
    renderer = KenBurnsClipRenderer()
    out = []
    for i in range(scenes):
        photo = folder / f"photo_{i}.png"
        Image.fromarray(getattr(skimage.data, IMAGES[i % len(IMAGES)])()).convert(
            "RGB").save(photo)
        request = ClipRequest(photo, duration, ACTIONS[i % len(ACTIONS)], i, settings=model,
                              scene_number=i + 1)
        joined = folder / f"joined_{i}.mkv"
        w, h = size
        with FrameJoiner(joined, 8.0) as joiner:
            for frame in renderer.stream(request).open():
                y = Image.frombytes("L", (w, h), frame[:w * h])
                cb = Image.frombytes("L", (w // 2, h // 2), frame[w * h:w * h * 5 // 4])
                cr = Image.frombytes("L", (w // 2, h // 2), frame[w * h * 5 // 4:])
                joiner.write(Image.merge("YCbCr", (y, cb.resize((w, h)), cr.resize((w, h))))
                             .convert("RGB"))
        out.append(joined)
    return out


def cpu() -> float:
    """CPU seconds of this process and its finished children (ffmpeg) so far."""
    import resource

    own, kids = (resource.getrusage(resource.RUSAGE_SELF),
                 resource.getrusage(resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true",
                        help="128x72, 12 fps, crf 20 ultrafast: proves the script")
    args = parser.parse_args()

    from videogen_adapters.comfyui.renderer import _default_conform
    from videogen_adapters.executors.threads import ThreadPoolExecutorAdapter
    from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
    from videogen_core import ClipRequest, VideoSettings
    from videogen_core.ports import MuxPlan
    from videogen_core.timeline import Timeline

    settings = (VideoSettings(width=128, height=72, fps=12, crf=20, preset="ultrafast")
                if args.quick else VideoSettings())
    model_size = (128, 72) if args.quick else (1024, 576)
    timeline = Timeline.build([args.duration] * args.scenes, "crossfade", 0.5)
    fps = settings.fps
    counts = timeline.frame_counts(fps)
    conform = _default_conform()
    with tempfile.TemporaryDirectory(prefix="bench-clips-") as tmp:
        folder = Path(tmp)
        joined = model_outputs(folder, args.scenes, args.duration, model_size)
        requests = [ClipRequest(folder / f"photo_{i}.png", counts[i] / fps, "", i,
                                settings=settings, scene_number=i + 1,
                                cut_frames=timeline.cut_frames(i, fps), frame_count=counts[i])
                    for i in range(args.scenes)]
        started, cpu0 = time.perf_counter(), cpu()
        with ThreadPoolExecutor(2) as pool:
            clips = list(pool.map(lambda i: conform(joined[i], requests[i],
                                                    folder / f"clip_{i}.mp4").path,
                                  range(args.scenes)))
        conformed, cpu1 = time.perf_counter(), cpu()
        executor = ThreadPoolExecutorAdapter(2)
        result = FfmpegMuxer().mux(MuxPlan(timeline, tuple(clips), video=settings),
                                   folder / "final.mp4", executor=executor)
        done, cpu2 = time.perf_counter(), cpu()
        executor.shutdown()
        size = sum(Path(c).stat().st_size for c in clips)
        print(f"conform {conformed - started:7.2f} s wall {cpu1 - cpu0:7.2f} s CPU  "
              f"({args.scenes} clips, {size / 1e6:.1f} MB)")
        print(f"mux     {done - conformed:7.2f} s wall {cpu2 - cpu1:7.2f} s CPU  "
              f"({result.frames} frames, expected {timeline.total_frames(fps)}; "
              f"warnings: {len(result.warnings)})")
        print(f"total   {done - started:7.2f} s wall {cpu2 - cpu0:7.2f} s CPU")
        if args.quick:
            print("(--quick: tiny frames; the times above are not the measurement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
