"""The face cascade loads when several threads ask for it first at once (a pipeline
on a thread pool prepares scenes side by side): OpenCV's import is not thread-safe."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
from videogen_adapters.framing import subject
errors = []
def load():
    try:
        subject._cascade()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=load) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_first_cascade_loads_on_several_threads_at_once() -> None:
    # fresh interpreters: the race is on the first import only (seen ~1 in 3 without
    # the lock)
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                           timeout=120, check=True) for _ in range(6)]
    assert [r.stdout.strip() for r in runs] == ["[]"] * 6
