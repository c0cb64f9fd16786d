"""Do generative clips leave a ComfyUI server idle? (issue 15; a measurement, not a test)

Runs the real pipeline (silent narration, no music, FfmpegMuxer, 2 workers)
with the ComfyUI renderer over S test ComfyUI servers (``tests/comfyui_server.py``,
the model-free ``test_repeat`` workflow) that answer every prompt in a fixed
``T`` seconds (``execution_time``), and prints, for S = 1 and 2:

* each server's busy share — time executing / time from its first prompt
  queued to its last prompt's end, from the server's own execution log;
* the render span (first prompt queued → last prompt ended, all servers)
  against the bound ``ceil(P/S)·T·1.05`` (P prompts: N when every scene fits
  one prompt, more with ``--max-duration`` below the scene length, when a
  scene's chained segments also wait for each other's download), and the
  whole job split into
  before the first prompt / render span / after the last prompt (download,
  conform of the last clip, mux, store), and the share of the video's encode
  done before the last clip was in (the mux starts while clips are rendered:
  ``videogen_core.pending``; the ``mux`` stage is reported from then on);
* whether every prompt was queued before the previous one on its server
  finished (the queue never ran empty) and where each scene went.

``--baseline`` adds the behaviour before issue 15 (the pipeline's workers
queue one prompt per server at a time, one scene each): the renderer is
wrapped so the pipeline cannot hand it the clips ahead, with a window of 1.

    PYTHONPATH=src:. python benchmarks/bench_comfyui_queue.py               # T=3 s, N=6, 4 s scenes
    PYTHONPATH=src:. python benchmarks/bench_comfyui_queue.py --T 1 --baseline
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.comfyui_server import ComfyUITestServer  # noqa: E402

from videogen_adapters.comfyui.client import ComfyUIClient, default_ws_connect  # noqa: E402
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer  # noqa: E402
from videogen_adapters.comfyui.workflow import load_template  # noqa: E402
from videogen_adapters.executors import ThreadPoolExecutorAdapter  # noqa: E402
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer  # noqa: E402
from videogen_adapters.storage.memory import InMemoryStorage  # noqa: E402
from videogen_adapters.tts.chain import SilentNarrator  # noqa: E402
from videogen_core import GenerationParams, Scene, Sequence, VideoSettings  # noqa: E402
from videogen_core.pipeline import VideoPipeline  # noqa: E402


class _NoAhead:
    """The renderer as the pipeline saw it before issue 15: ``render`` only."""

    def __init__(self, inner: ComfyUIClipRenderer) -> None:
        self.inner = inner
        self.name = inner.name

    def render(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.render(*args, **kwargs)


def _image(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:360, 0:640].astype(np.float32)
    base = np.stack([x / 640, y / 360, 0.5 + 0.5 * np.sin(x / 17 + y / 23 + seed)], -1)
    pixels = np.clip(base + rng.normal(0, 0.05, (360, 640, 1)), 0, 1)
    path = Path(tempfile.mkstemp(suffix=".png")[1])
    Image.fromarray((pixels * 255).astype(np.uint8)).save(path)
    data = path.read_bytes()
    path.unlink()
    return data


def run(servers: int, args: argparse.Namespace, *, baseline: bool = False) -> dict[str, Any]:
    started = [ComfyUITestServer().start() for _ in range(servers)]
    try:
        for s in started:
            s.execution_time = args.T
        clients = [ComfyUIClient(httpx.Client(base_url=s.url, timeout=30, trust_env=False),
                                 ws_connect=default_ws_connect()) for s in started]
        renderer = ComfyUIClipRenderer(clients, load_template("test_repeat"),
                                       max_duration=args.max_duration,
                                       concurrency=1 if baseline else 2)
        width, height = (int(v) for v in args.size.split("x"))
        video = VideoSettings(width=width, height=height, fps=args.fps)
        storage = InMemoryStorage({f"f/scene_{n}.png": _image(n)
                                   for n in range(1, args.scenes + 1)})
        events: list[tuple[float, str, float]] = []
        with tempfile.TemporaryDirectory() as work:
            pipeline = VideoPipeline(
                storage=storage, renderer=_NoAhead(renderer) if baseline else renderer,
                narrator=SilentNarrator(), music=None, muxer=FfmpegMuxer(),
                executor=ThreadPoolExecutorAdapter(2), video=video, workdir=Path(work))
            sequence = Sequence(
                [Scene(n, "", args.seconds, "zoom in") for n in range(1, args.scenes + 1)],
                GenerationParams(transition_type="none", seed=1, fps=args.fps))
            t0 = time.monotonic()
            result = pipeline.run("f", sequence,
                                  progress=lambda e: events.append((time.monotonic(), e.stage,
                                                                   e.done)))
            t1 = time.monotonic()
        logs = [[e for e in s.executions if e["ended"]] for s in started]
        every = [e for log in logs for e in log]
        first_q = min(e["queued"] for e in every)
        last_end = max(e["ended"] for e in every)
        mux_start, head = min((t, done) for t, stage, done in events if stage == "mux")
        ahead = []
        for log in logs:
            runs = sorted(log, key=lambda e: e["started"])
            ahead += [b["queued"] < a["ended"] for a, b in itertools.pairwise(runs)]
        scenes = Counter((d.scene_number, d.server) for d in renderer.dispatches)
        slow = [e for e in every if e["ended"] - e["started"] > args.T * 1.02]
        return {
            "servers": servers, "baseline": baseline, "total": t1 - t0,
            "before": first_q - t0, "span": last_end - first_q, "after": t1 - last_end,
            "mux": t1 - mux_start, "head": head, "busy": [s.busy_share() for s in started],
            "prompts": [len(log) for log in logs], "ahead": (sum(ahead), len(ahead)),
            "placement": sorted(scenes), "slow": len(slow), "video": result.duration,
            "bound": math.ceil(len(every) / servers) * args.T * 1.05, "all": len(every),
        }
    finally:
        for s in started:
            s.stop()


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    label = f"S={r['servers']}" + (" baseline (before issue 15)" if r["baseline"] else "")
    busy = ", ".join(f"server {i}: {b:.0%} ({n} prompts)"
                     for i, (b, n) in enumerate(zip(r["busy"], r["prompts"], strict=True)))
    verdict = "within" if r["span"] <= r["bound"] else "OVER"
    print(f"{label}: busy share {busy}")
    print(f"    render span {r['span']:.2f} s vs bound ceil({r['all']}/{r['servers']})·"
          f"{args.T:g}·1.05 = {r['bound']:.2f} s → {verdict}")
    print(f"    whole job {r['total']:.2f} s = {r['before']:.2f} s before the first prompt + "
          f"{r['span']:.2f} s render span + {r['after']:.2f} s after the last prompt "
          f"(mux stage {r['mux']:.2f} s, begun at {r['head']:.0%} mux progress: encoded "
          f"while clips were rendered); video {r['video']:.2f} s")
    print(f"    next prompt queued before the previous ended: {r['ahead'][0]}/{r['ahead'][1]};"
          f" scene→server {[f'{n}→{s}' for n, s in r['placement']]}"
          + (f"; {r['slow']} prompt(s) took > T (server compute exceeded T)" if r["slow"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--T", type=float, default=3.0, help="seconds per prompt on the server")
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0, help="scene duration")
    parser.add_argument("--max-duration", type=float, default=6.0,
                        help="longest segment per prompt (shorter: chained segments)")
    parser.add_argument("--servers", default="1,2")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--baseline", action="store_true",
                        help="also run the behaviour before issue 15")
    args = parser.parse_args()
    print(f"N={args.scenes} scenes of {args.seconds:g} s, T={args.T:g} s per prompt, "
          f"{args.size} @ {args.fps} fps, pipeline workers 2")
    for servers in (int(s) for s in args.servers.split(",")):
        if args.baseline:
            report(run(servers, args, baseline=True), args)
        report(run(servers, args), args)


if __name__ == "__main__":
    main()
