"""Peak memory of decoding large-but-allowed images, per path (not a timing benchmark).

Each (image, path) pair runs in a fresh child process: the child imports
everything, decodes a small warm-up image, reads its peak RSS (``VmHWM`` of
``/proc/self/status``; ``ru_maxrss`` elsewhere — on Linux ``ru_maxrss`` carries
the parent's peak into a child), decodes the corpus image the way the service
does, and reports how far the peak rose.

Paths:
  render  ``load_image(path, min_size=(1536, 864))`` — what the Ken Burns renderer
          asks for a 1024x576 video with the default zoom headroom
  check   ``load_image(path, min_size=(64, 64))`` — the renderer's early check
  upload  ``verify_image(path)`` — the full decode every upload gets before it is stored

    python benchmarks/bench_image_memory.py                 # the whole corpus
    python benchmarks/bench_image_memory.py --only png_9400_gray16 --paths render

The corpus (``tests/image_corpus.py``): 9400x9400 RGB / RGBA / 16-bit gray /
palette+tRNS PNGs (0.6–2.5 MB files), 9000x9000 baseline and progressive JPEGs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.peak_memory import PEAK_MB  # noqa: E402

CHILD = PEAK_MB + r"""
import json, sys
from pathlib import Path
from PIL import Image

from videogen_adapters.ffmpeg.images import load_image
from videogen_adapters.image_decode import verify_image
path, mode, warm = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
load_image(warm, min_size=(64, 64)).close(); verify_image(warm)
before = peak_mb()
if mode == "render":
    im = load_image(path, min_size=(1536, 864)); size = im.size; im.close()
elif mode == "check":
    im = load_image(path, min_size=(64, 64)); size = im.size; im.close()
else:
    info = verify_image(path); size = (info.width, info.height)
after = peak_mb()
print(json.dumps({"before_mb": before, "peak_mb": after,
                  "delta_mb": after - before, "size": size}))
"""


def measure(path: Path, mode: str, warm: Path) -> dict[str, object]:
    """Peak-RSS rise of decoding ``path`` along ``mode`` in a fresh child process."""
    env_path = f"{ROOT / 'src'}:{ROOT}"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), mode, str(warm)],
                          capture_output=True, text=True, env={"PYTHONPATH": env_path,
                                                               "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout)


def main() -> int:
    from tests.image_corpus import LARGE, make_large

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(LARGE), help="corpus entries")
    parser.add_argument("--paths", nargs="*", default=["upload", "check", "render"],
                        choices=["upload", "check", "render"])
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-image-memory-") as tmp:
        files = make_large(Path(tmp), args.only)
        from PIL import Image

        warm = Path(tmp) / "warm.png"
        Image.new("RGB", (64, 48), (1, 2, 3)).save(warm)
        print(f"{'image':26} {'file':>8} {'path':7} {'peak rise':>10}  decoded")
        for name, path in files.items():
            for mode in args.paths:
                row = measure(path, mode, warm)
                if args.json:
                    print(json.dumps({"image": name, "path": mode, **row}))
                    continue
                size_kb = path.stat().st_size // 1024
                if "error" in row:
                    print(f"{name:26} {size_kb:>6}KB {mode:7} {'error':>10}  {row['error']}")
                else:
                    w, h = row["size"]  # type: ignore[misc]
                    print(f"{name:26} {size_kb:>6}KB {mode:7} {row['delta_mb']:>7.0f} MB  "
                          f"{w}x{h}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
