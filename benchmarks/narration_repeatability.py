"""Narration repeatability and cost (not timed in CI; counts, bytes and RSS).

Speaks one script in N fresh interpreters with the same seed and prints each
narration's duration and digest (all equal = repeatable), then, in this process,
the peak RSS growth and model runs for one scene at the narration limit.

    python benchmarks/narration_repeatability.py [--runs 5] [--chars 4000]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = ("The harbour wakes slowly. Boats slip out past the breakwater, one by one, "
          "while the gulls argue over the nets. By noon the quay is empty again.")

CHILD = ("import hashlib, pathlib, sys; from videogen_adapters.tts import PiperNarrator; "
         "r = PiperNarrator().synthesize(sys.argv[1], pathlib.Path(sys.argv[2]), seed=42); "
         "print(f'{r.duration:.4f}', hashlib.sha256(r.path.read_bytes()).hexdigest()[:12])")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chars", type=int, default=4000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outs = [subprocess.run([sys.executable, "-c", CHILD, SCRIPT, f"{tmp}/{i}.wav"],
                               capture_output=True, text=True, check=True).stdout.strip()
                for i in range(args.runs)]
        print("fresh processes, same seed:", outs, "repeatable:", len(set(outs)) == 1)

        from videogen_adapters.tts import PiperNarrator

        narrator = PiperNarrator()
        started = time.perf_counter()
        narrator.synthesize("Warm up.", Path(tmp) / "w.wav")
        print(f"voice load (graph rewritten for seeded noise) + first words: "
              f"{time.perf_counter() - started:.2f} s")
        runs = 0
        original = narrator._infer

        def counting(*a: object) -> object:
            nonlocal runs
            runs += 1
            return original(*a)  # type: ignore[arg-type]

        narrator._infer = counting  # type: ignore[method-assign]
        text = (SCRIPT + " ") * (args.chars // (len(SCRIPT) + 1) + 1)
        text = text[: args.chars]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = narrator.synthesize(text, Path(tmp) / "long.wav", seed=1)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"{len(text)} chars: {result.duration:.1f} s of speech in {runs} model runs, "
              f"peak RSS +{(after - before) / 1024:.0f} MiB, {wall:.1f} s wall "
              f"(wall is not a benchmark on a shared machine)")
        h = hashlib.sha256(result.path.read_bytes()).hexdigest()[:12]  # type: ignore[union-attr]
        print("long narration digest:", h)


if __name__ == "__main__":
    main()
