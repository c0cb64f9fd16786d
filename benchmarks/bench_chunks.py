"""Chunked rendering: re-runs, one edited scene, chunked vs streamed (not a test).

One job of ``--scenes`` scenes (default 32: photos from scikit-image, 0.5 s
crossfades, Piper narration, the synthesised music bed, crf 5 medium at
1024x576 by default) made through the whole pipeline (``build_pipeline``,
local storage in a temporary data dir):

1. **streamed** — ``VIDEOGEN_RENDER_MODE=stream``: one encoder;
2. **chunked, first run** — empty cache (chunks, narrations, music, mix): every
   chunk encoded;
3. **chunked, unchanged re-run** — nothing encoded (counted), narrations, music
   beds and the mix come from the cache too; its time is the fixed part of a
   job (fetch, hashing, join and mux);
4. **chunked, one edited scene** — scene ``scenes/2``'s ``clip_action``
   changed: only its chunks encoded (counted).

Printed: each run's wall time, chunk encodes/hits, pipeline stages and the
muxer's steps (``video``: every chunk made; ``audio_mix``: absent when the
soundtrack came from the cache; ``audio_wait``; ``join``: the final stream-copy
mux); then the three figures, all from this one process:

(i)   chunked / streamed wall time (target ≤ 1.05x);
(ii)  the edited re-run next to its target ``1.3/scenes · first run + audio mix +
      join`` (the mix and join of that very run, printed apart);
(iii) the unchanged re-run: chunks encoded (must be 0) and its time as a share of
      the first (target ≤ 10 %); ``--profile`` prints a cProfile of it.

Timings mean something only on a quiet machine; ``--quick`` (tiny frames,
ultrafast) proves the script and the counts.

    .venv/bin/python benchmarks/bench_chunks.py            # the timed version
    .venv/bin/python benchmarks/bench_chunks.py --quick    # counts, tiny frames
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from videogen_adapters.config import Settings  # noqa: E402
from videogen_adapters.converter import structure_request  # noqa: E402
from videogen_adapters.orchestrator import build_pipeline  # noqa: E402

IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")
ACTIONS = ("zoom in", "pan right", "zoom out", "pan left", "tilt up", "slow zoom in")
MOODS = ("calm", "calm", "calm", "epic")
FOLDER = "bench"


def write_images(folder: Path, scenes: int) -> None:
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    pictures = [Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
                for name in IMAGES]
    for n in range(1, scenes + 1):
        pictures[(n - 1) % len(pictures)].save(folder / f"scene_{n}.jpg", quality=92)


def request(scenes: int, duration: float, edited: int | None = None) -> dict[str, Any]:
    data = []
    for n in range(1, scenes + 1):
        action = ACTIONS[(n - 1) % len(ACTIONS)]
        if n == edited:
            action = "pan up" if action != "pan up" else "pan down"
        data.append({"scene_number": n, "narration": f"This is scene number {n}.",
                     "duration": duration, "clip_action": action,
                     "music_mood": MOODS[(n - 1) % len(MOODS)]})
    return {"sequence_data": data,
            "generation_params": {"transition_type": "crossfade", "seed": 7}}


def run(settings: Settings, body: dict[str, Any], label: str, pipeline: Any = None,
        profile: bool = False) -> tuple[Any, float, int, int, dict[str, float]]:
    """One job; returns (pipeline, seconds, chunks encoded, chunks reused, the muxer's
    step timings: video, audio_mix (absent: from the cache), audio_wait, join, total)."""
    pipeline = pipeline or build_pipeline(settings)
    muxer = pipeline.muxer
    encodes, hits = muxer.chunk_encodes, muxer.chunk_hits
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def progress(event: Any) -> None:
        stages.setdefault(event.stage, time.perf_counter() - started)

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    result = pipeline.run(FOLDER, structure_request(body), progress=progress)
    seconds = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        print(f"    profile of '{label}' (cumulative, this thread):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(18)
    encoded, reused = muxer.chunk_encodes - encodes, muxer.chunk_hits - hits
    timings = dict(getattr(muxer, "timings", {}))
    print(f"{label:<28} {seconds:8.2f} s  mode={result.render_mode:<8} "
          f"encoded={encoded:<3} reused={reused:<3} video={result.duration:.2f} s",
          flush=True)
    marks = [*sorted(stages.items(), key=lambda kv: kv[1]), ("end", seconds)]
    print("    stages: " + ", ".join(f"{name} {b - a:.2f} s" for (name, a), (_, b)
                                      in itertools.pairwise(marks)), flush=True)
    print("    muxer:  " + ", ".join(f"{name} {value:.2f} s" for name, value
                                      in timings.items()), flush=True)
    return pipeline, seconds, encoded, reused, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=32)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the unchanged re-run (what a re-run "
                             "still does)")
    parser.add_argument("--quick", action="store_true",
                        help="128x72, 12 fps, crf 20 ultrafast: counts, not timings")
    args = parser.parse_args()
    size = dict(width=128, height=72, fps=12, crf=20, preset="ultrafast") if args.quick \
        else dict(width=1024, height=576, fps=24, crf=5, preset="medium")
    with tempfile.TemporaryDirectory(prefix="bench-chunks-") as tmp:
        data = Path(tmp) / "data"
        write_images(data / FOLDER, args.scenes)
        base = dict(data_dir=data, storage="local", **size)
        body = request(args.scenes, args.duration)
        edited_body = request(args.scenes, args.duration, edited=args.scenes // 2)

        # untimed warm-up (imports, the Piper voice, first ffmpeg runs): otherwise the
        # first contender pays them and the ratio leans towards the second
        run(Settings(render_mode="stream", cache_dir=f"{tmp}/cache-w", **base),
            request(2, args.duration), "warm-up (not counted)")
        # each contender starts from an empty cache of its own (narrations, music too)
        _, streamed, _, _, _ = run(Settings(render_mode="stream", cache_dir=f"{tmp}/cache-s",
                                            **base), body, "streamed")
        chunked_settings = Settings(render_mode="chunked", cache_dir=f"{tmp}/cache-c", **base)
        p, first, n_first, _, t_first = run(chunked_settings, body, "chunked, first run")
        _, again, n_again, hits, _ = run(chunked_settings, body, "chunked, unchanged re-run",
                                         p, profile=args.profile)
        _, edit, n_edit, _, t_edit = run(chunked_settings, edited_body,
                                         "chunked, one scene edited", p)

        n = args.scenes
        mix = t_edit.get("audio_mix", 0.0)  # absent: the soundtrack came from the cache
        join = t_edit.get("join", 0.0)
        target = 1.3 / n * first + mix + join
        print()
        print("figures (one process, one machine; wall seconds):")
        print(f"  (i)   chunked / streamed: {first:.2f} s / {streamed:.2f} s = "
              f"{first / streamed:.3f}x (target <= 1.05x)")
        print(f"  (ii)  one scene edited: {edit:.2f} s = {edit / first:.1%} of the first run "
              f"({first:.2f} s); encoded {n_edit} chunk(s); audio mix {mix:.2f} s"
              f"{'' if 'audio_mix' in t_edit else ' (from the cache)'}, join {join:.2f} s; "
              f"target 1.3/{n} x first + mix + join = {target:.2f} s "
              f"({'met' if edit <= target else 'over'})")
        print(f"  (iii) unchanged re-run: encoded {n_again} of {n_first} chunks ({hits} "
              f"reused); {again:.2f} s = {again / first:.1%} of the first run "
              f"(target <= 10 %: {'met' if again <= 0.10 * first else 'over'})")
        print(f"  first run's muxer: chunks {t_first.get('video', 0):.2f} s, audio mix "
              f"{t_first.get('audio_mix', 0):.2f} s (beside the chunks), join "
              f"{t_first.get('join', 0):.2f} s")
        if args.quick:
            print("(--quick: tiny frames; the times above are not the measurement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
