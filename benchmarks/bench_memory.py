"""Memory of a whole job as it grows: 5, 40 and 150 scenes (not a test).

Each job runs in a fresh child process through the embedded defaults
(``videogen_adapters.orchestrator.generate``: local disk, Ken Burns frames
streamed into the encoder(s) — ``auto`` mode chunks jobs over 300 s, two
encoders side by side; ``--render-mode stream`` keeps one —, the chosen
narrator, the procedural music) at a small output size, so that a 150-scene,
10-minute job finishes on a small machine. Inside
the child a sampling thread reads, every ``--interval`` seconds:

* the Python process's ``VmRSS`` (and, at the end, ``VmHWM``, the kernel's exact
  peak) from ``/proc/self/status``;
* the RSS of the whole process tree — this process plus every descendant
  (ffmpeg encoder, audio mix…) — with psutil (the ``bench`` extra). A child
  caught between fork and exec still runs our own executable and maps our
  pages: it is skipped, or the tree would count this process twice (seen as
  "python 274 MB" children at random moments);

and keeps the peak of each per pipeline stage, so the table shows *where* the
memory goes (``narrate``, ``render`` — the streamed encode with the audio mix
beside it —, ``mux``…). ``--tracemalloc`` also prints the Python allocations
alive at the traced peak (slower; for finding big arrays).

The parent prints, per job, the Python peak and the tree peak, and the ratio of
the largest job to the smallest. The target (issue 15, "Flat memory"): tree
peak of the 150-scene 10-minute job ≤ 1.15× the 5-scene job's, Python peak
≤ 400 MB at any length.

    python benchmarks/bench_memory.py                         # 5, 40, 150 scenes
    python benchmarks/bench_memory.py --scenes 5 40 --narrator silent
    python benchmarks/bench_memory.py --scenes 40 --tracemalloc
    python benchmarks/bench_memory.py --scenes 5 150 --render-mode stream
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEXTS = (
    "The river bends past the old mill.",
    "A quiet morning settles over the town.",
    "Children run along the harbour wall.",
    "Clouds gather above the hills.",
    "The market opens as the sun comes up.",
    "An old bridge carries the road across.",
)
ACTIONS = ("zoom in", "pan right", "zoom out, pan left", "tilt up", "slow zoom in", "static")
MOODS = ("calm", "happy", "epic", "sad", "mysterious", "uplifting")


# ------------------------------------------------------------------- child
def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Samples this process's RSS and its process tree's RSS; peaks per stage."""

    def __init__(self, interval: float, traced: bool) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        import psutil

        self.me = psutil.Process()
        self.exe = self.me.exe()
        self.interval = interval
        self.traced = traced
        self.stage = "setup"
        self.stop = threading.Event()
        self.py_peak = 0
        self.tree_peak = 0
        self.children_peak = 0
        self.children_most = 0
        self.at_peak: tuple[str, int, list[tuple[str, int]]] = ("", 0, [])
        self.stages: dict[str, list[int]] = {}  # stage → [python peak, tree peak]
        self.trace_peak = 0
        self.snapshot = None
        self.series: list[tuple[float, str, int, int]] = []  # (time, stage, python, tree)
        self.started = time.monotonic()

    def sample(self) -> None:
        import psutil

        rss = _status_kb("VmRSS") * 1024
        kids = 0
        count = 0
        seen = []
        with contextlib.suppress(psutil.Error):
            for child in self.me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if child.exe() == self.exe:
                        continue  # forked, not yet exec'd: our own pages, counted once
                    size = child.memory_info().rss
                    kids += size
                    count += 1
                    # named by what it writes (its last argument): which ffmpeg it is
                    argv = child.cmdline()
                    label = Path(argv[-1]).name if len(argv) > 1 else child.name()
                    seen.append((f"{child.name()[:6]}→{label}", size >> 20))
        tree = rss + kids
        if tree > self.tree_peak:
            self.at_peak = (self.stage, rss >> 20, seen)
        self.py_peak = max(self.py_peak, rss)
        self.tree_peak = max(self.tree_peak, tree)
        self.children_peak = max(self.children_peak, kids)
        self.children_most = max(self.children_most, count)
        now = time.monotonic() - self.started
        if not self.series or now - self.series[-1][0] >= 0.5:
            self.series.append((round(now, 2), self.stage, rss >> 20, tree >> 20))
        peaks = self.stages.setdefault(self.stage, [0, 0])
        peaks[0] = max(peaks[0], rss)
        peaks[1] = max(peaks[1], tree)
        if self.traced:
            import tracemalloc

            current, _ = tracemalloc.get_traced_memory()
            if current > self.trace_peak + (4 << 20):
                self.trace_peak = current
                self.snapshot = tracemalloc.take_snapshot()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def _photo(path: Path, size: tuple[int, int], seed: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)], -1)
    Image.fromarray(np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
                    ).save(path)


def body(scenes: int, seconds: float, mood_run: int) -> dict[str, object]:
    """The request of a ``scenes``-scene job: narration on every scene, the mood
    changing every ``mood_run`` scenes (0: one mood throughout)."""
    data = []
    for i in range(scenes):
        mood = MOODS[(i // mood_run) % len(MOODS)] if mood_run else MOODS[0]
        # every narration different (as in a real job): the sentence plus a count
        text = f"{TEXTS[i % len(TEXTS)][:-1]}, {'and more ' * (i % 4)}scene {i + 1}."
        data.append({"scene_number": i + 1, "narration": text,
                     "duration": seconds, "clip_action": ACTIONS[i % len(ACTIONS)],
                     "music_mood": mood})
    return {"sequence_data": data,
            "generation_params": {"transition_type": "crossfade", "seed": 11, "fps": 24}}


def child(args: argparse.Namespace) -> None:
    """Run one job in this process and print its memory figures as JSON."""
    work = Path(args.workdir)
    folder = work / "data" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    sizes = ((640, 480), (500, 700), (900, 300), (800, 450))
    for i in range(args.child):  # distinct small images, as a real job has
        _photo(folder / f"scene_{i + 1}.png", sizes[i % len(sizes)], i)
    os.environ.update({"VIDEOGEN_DATA_DIR": str(work / "data"),
                       "VIDEOGEN_WIDTH": str(args.width), "VIDEOGEN_HEIGHT": str(args.height),
                       "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_NARRATOR": args.narrator,
                       "VIDEOGEN_MUSIC": args.music, "VIDEOGEN_TTS_DETERMINISTIC": "1"})
    if args.render_mode:
        os.environ["VIDEOGEN_RENDER_MODE"] = args.render_mode
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(12)
    from videogen_adapters.orchestrator import generate

    sampler = Sampler(args.interval, args.tracemalloc)
    _label_music(sampler)

    def progress(event: object) -> None:
        sampler.stage = str(getattr(event, "stage", sampler.stage))

    base_rss = _status_kb("VmRSS") * 1024
    sampler.start()
    started = time.monotonic()
    result = generate("bench", body(args.child, args.seconds, args.mood_run), progress=progress)
    wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    sampler.sample()
    out = {"scenes": args.child, "duration": result.duration, "wall": round(wall, 1),
           "base_mb": base_rss / 2**20, "python_peak_mb": sampler.py_peak / 2**20,
           "python_hwm_mb": _status_kb("VmHWM") / 1024, "tree_peak_mb": sampler.tree_peak / 2**20,
           "children_peak_mb": sampler.children_peak / 2**20,
           "children_most": sampler.children_most, "at_peak": sampler.at_peak,
           "stages": {k: [v[0] / 2**20, v[1] / 2**20] for k, v in sampler.stages.items()},
           "series": sampler.series}
    if sampler.snapshot is not None:
        stats = sampler.snapshot.statistics("traceback")[:8]
        out["traced_peak_mb"] = sampler.trace_peak / 2**20
        out["top"] = [[s.size / 2**20, [f"{f.filename.split('/src/')[-1]}:{f.lineno}"
                                        for f in s.traceback[-4:]]] for s in stats]
    print("BENCH " + json.dumps(out))


def _label_music(sampler: Sampler) -> None:
    """Music beds are composed while the pipeline still shows ``narrate``: label
    that time ``music`` (the pipeline reports no stage for it when streaming)."""
    from videogen_adapters.music.synth import SynthMusicSource

    compose = SynthMusicSource.compose

    def labelled(self: SynthMusicSource, *a: object, **kw: object) -> object:
        before, sampler.stage = sampler.stage, "music"
        try:
            return compose(self, *a, **kw)  # type: ignore[arg-type]
        finally:
            sampler.stage = before if sampler.stage == "music" else sampler.stage

    SynthMusicSource.compose = labelled  # type: ignore[method-assign]


# ------------------------------------------------------------------ parent
def run_job(args: argparse.Namespace, scenes: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
        argv = [sys.executable, __file__, "--child", str(scenes), "--workdir", work,
                "--seconds", str(args.seconds), "--narrator", args.narrator,
                "--music", args.music, "--width", str(args.width), "--height", str(args.height),
                "--mood-run", str(args.mood_run), "--interval", str(args.interval),
                "--render-mode", args.render_mode]
        if args.tracemalloc:
            argv.append("--tracemalloc")
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise SystemExit(f"the {scenes}-scene job failed:\n{proc.stdout[-2000:]}\n"
                     f"{proc.stderr[-4000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=[5, 40, 150])
    parser.add_argument("--seconds", type=float, default=4.5,
                        help="each scene's duration (150 × 4.5 s − 0.5 s crossfades ≈ 10 min)")
    parser.add_argument("--narrator", default="piper", help="silent | piper | espeak …")
    parser.add_argument("--music", default="synth", help="synth | none")
    parser.add_argument("--mood-run", type=int, default=5,
                        help="scenes per mood (0: one bed for the whole video)")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--render-mode", default="",
                        help="stream | chunked | auto (default: the configured mode, auto: "
                             "jobs over 300 s are chunked, two encoders side by side)")
    parser.add_argument("--interval", type=float, default=0.02, help="sampling period (s)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also report Python allocations at the traced peak")
    parser.add_argument("--series", action="store_true",
                        help="also print RSS every 0.5 s (python/tree MB, with the stage)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = []
    print(f"narrator {args.narrator}, music {args.music}, {args.width}x{args.height}, "
          f"render mode {args.render_mode or 'configured'}, "
          f"{args.seconds:g} s scenes, mood every {args.mood_run or '∞'} scenes")
    print(f"{'scenes':>6} {'video s':>8} {'wall s':>7} {'python MB':>10} {'VmHWM MB':>9} "
          f"{'tree MB':>8} {'children MB':>12}  peak stages (python/tree MB)")
    for scenes in args.scenes:
        r = run_job(args, scenes)
        results.append(r)
        stages = "  ".join(f"{k} {v[0]:.0f}/{v[1]:.0f}" for k, v in r["stages"].items())
        print(f"{scenes:>6} {r['duration']:>8.1f} {r['wall']:>7.1f} {r['python_peak_mb']:>10.0f} "
              f"{r['python_hwm_mb']:>9.0f} {r['tree_peak_mb']:>8.0f} "
              f"{r['children_peak_mb']:>12.0f}  {stages}", flush=True)
        stage, py, seen = r["at_peak"]
        print(f"         tree peak in {stage}: python {py} MB + "
              + (", ".join(f"{name} {mb} MB" for name, mb in seen) or "no children"))
        if args.series:
            print("         time s, stage, python MB, tree MB: " + "  ".join(
                f"{t:g} {st} {py}/{tr}" for t, st, py, tr in r["series"]))
        for size, frames in r.get("top", []):
            print(f"         {size:7.1f} MB  {' <- '.join(reversed(frames))}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"ratio {large['scenes']}/{small['scenes']} scenes: tree "
              f"{large['tree_peak_mb'] / small['tree_peak_mb']:.2f}x, python "
              f"{large['python_hwm_mb'] / small['python_hwm_mb']:.2f}x")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
