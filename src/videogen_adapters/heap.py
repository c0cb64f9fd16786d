"""Keeping the process's C heap from growing with a job's length (issue 15).

A job churns numpy arrays of every size: narrations of many lengths, the notes
of a music bed, audio blocks, frames. glibc's ``malloc`` serves blocks above
its *mmap threshold* with their own mapping (returned to the system when
freed) and smaller ones from its heaps (kept for reuse). The threshold is
dynamic by default: every freed mapping raises it to that block's size (up to
32 MB), so after the first big array is freed, arrays of a few MB land in the
heaps too, where blocks of ever-changing sizes fragment them, and the process
grows with the number of narrations and beds — measured: a 150-scene job's
Python process 361 MB at 5 scenes, 499 MB at 150 (most of the growth while
the video streams and the soundtrack is mixed), though every array is freed.

:func:`bound_heap` pins the threshold (``mallopt(M_MMAP_THRESHOLD)``, which
also stops the dynamic raising) and the trim threshold with it, so big arrays
always get a mapping of their own and leave no holes behind; frame-sized
blocks (under 1 MB at 1024x576) stay in the heaps, reused frame after frame at
no extra cost. It is a no-op off glibc (musl, macOS).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

__all__ = ["MMAP_THRESHOLD", "bound_heap", "heap_bounded"]

#: Blocks at least this large get a mapping of their own (glibc's default is 128 KiB
#: but dynamic; 1 MiB keeps a 1024x576 frame, 0.9 MB, in the heaps).
MMAP_THRESHOLD = 1 << 20
_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_bounded = False
_libc: Any = None


def _glibc() -> Any:
    """glibc's handle, or None off glibc."""
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL(None)
            libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            _libc = libc
        except (OSError, AttributeError):
            _libc = False
    return _libc or None


def bound_heap(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold to ``threshold`` bytes, once per process (later
    calls do nothing); True when it is set (on glibc)."""
    global _bounded
    if _bounded:
        return True
    with _lock:
        if not _bounded:
            libc = _glibc()
            # the trim threshold too: the dynamic rule may already have raised it (to
            # twice the raised mmap threshold, up to 64 MB), and then the heaps' free
            # tops are never given back
            _bounded = bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, threshold)
                            and libc.mallopt(_M_TRIM_THRESHOLD, threshold))
    return _bounded


def heap_bounded() -> bool:
    """Whether :func:`bound_heap` has pinned the threshold in this process."""
    return _bounded

