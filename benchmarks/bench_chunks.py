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

Printed: each run's wall time and chunk encodes/hits; the edited re-run next to
its target ``1.3/scenes · first run + unchanged re-run``; the unchanged re-run
as a share of the first (target ≤ 10 %); chunked/streamed (target ≤ 1.05x).
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


def run(settings: Settings, body: dict[str, Any], label: str, pipeline: Any = None
        ) -> tuple[Any, float, int, int]:
    """One job; returns (pipeline, seconds, chunks encoded, chunks reused)."""
    pipeline = pipeline or build_pipeline(settings)
    muxer = pipeline.muxer
    encodes, hits = muxer.chunk_encodes, muxer.chunk_hits
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def progress(event: Any) -> None:
        stages.setdefault(event.stage, time.perf_counter() - started)

    result = pipeline.run(FOLDER, structure_request(body), progress=progress)
    seconds = time.perf_counter() - started
    encoded, reused = muxer.chunk_encodes - encodes, muxer.chunk_hits - hits
    print(f"{label:<28} {seconds:8.2f} s  mode={result.render_mode:<8} "
          f"encoded={encoded:<3} reused={reused:<3} video={result.duration:.2f} s",
          flush=True)
    marks = [*sorted(stages.items(), key=lambda kv: kv[1]), ("end", seconds)]
    print("    stages: " + ", ".join(f"{name} {b - a:.1f} s" for (name, a), (_, b)
                                      in itertools.pairwise(marks)), flush=True)
    return pipeline, seconds, encoded, reused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=32)
    parser.add_argument("--duration", type=float, default=4.0)
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

        # each contender starts from an empty cache of its own (narrations, music too)
        _, streamed, _, _ = run(Settings(render_mode="stream", cache_dir=f"{tmp}/cache-s",
                                         **base), body, "streamed")
        chunked_settings = Settings(render_mode="chunked", cache_dir=f"{tmp}/cache-c", **base)
        p, first, n_first, _ = run(chunked_settings, body, "chunked, first run")
        _, again, n_again, hits = run(chunked_settings, body, "chunked, unchanged re-run", p)
        _, edit, n_edit, _ = run(chunked_settings, edited_body, "chunked, one scene edited", p)

        print()
        print(f"unchanged re-run: encoded {n_again} of {n_first} chunks ({hits} reused); "
              f"{again / first:.1%} of the first run (target <= 10 %)")
        target = 1.3 / args.scenes * first + again
        print(f"one scene edited: encoded {n_edit} chunk(s); {edit:.2f} s vs target "
              f"1.3/{args.scenes} x first + unchanged re-run (mix, join) = {target:.2f} s")
        print(f"chunked / streamed: {first / streamed:.3f}x (target <= 1.05x)")
        if args.quick:
            print("(--quick: tiny frames; the times above are not the measurement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
