"""One server per data directory: an exclusive lock file next to the job database.

Start-up recovery re-queues the jobs it finds queued or running; a second
server on the same SQLite job store would steal jobs the first one is still
running. :class:`DataDirLock` makes the second one refuse to start instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from videogen_core import ServiceUnavailable

__all__ = ["DataDirLock"]


class DataDirLock:
    """An exclusive, non-blocking ``flock`` on ``<directory>/server.lock``, held until
    :meth:`release` or process exit (the OS drops it when the process dies)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "server.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock; ServiceUnavailable naming the holder's pid when it is taken."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise ServiceUnavailable(
                "job store", f"another videogen server (pid {holder}) uses {self.path.parent}",
                path=str(self.path)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
