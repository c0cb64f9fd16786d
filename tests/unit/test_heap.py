"""videogen_adapters.heap: the malloc bound is set once and reported."""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
from videogen_adapters import heap
assert not heap.heap_bounded()
first = heap.bound_heap()
assert heap.heap_bounded() == first
assert heap.bound_heap() == first  # once per process: later calls change nothing
print("RESULT", first, heap._glibc() is not None)
"""


def test_bound_heap_is_set_once_on_glibc() -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, glibc = proc.stdout.split()[1:]
    assert first == glibc  # set exactly where glibc is (a no-op elsewhere)
