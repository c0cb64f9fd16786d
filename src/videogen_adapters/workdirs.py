"""Where jobs keep their temporary files: one owned root, swept at start.

A job's pipeline writes images, narration, clips and the partial video into a
temporary directory that it removes when it ends — unless the process dies
first (``kill -9``, OOM, a SIGTERM that skips cleanup). Those directories used
to pile up in ``/tmp``; now they all live under one root that videogen owns::

    <VIDEOGEN_WORK_DIR or <DATA_DIR>/.videogen/work>/
        <host>-<pid>-<random>/      one per process that renders (the "process dir")
            .owner                  flock()ed by that process while it lives
            videogen-<random>/      one per running job (the pipeline's work dir)

:func:`process_work_dir` gives this process its process dir (made, and
locked, on first use; a forked child gets its own). :func:`sweep` removes
every process dir whose ``.owner`` lock nobody holds — its process is gone,
whatever host it was on — and is run by ``videogen serve`` and ``videogen
worker`` at start. A live process's dir is never touched: the lock is held
for the process's lifetime and the kernel drops it when the process dies.
The root is a dot-directory of the data dir, so it can never clash with an
image folder id (ids with a leading dot are refused).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["OWNER_FILE", "process_work_dir", "release_process_work_dir", "sweep",
           "work_root"]

log = logging.getLogger("videogen.workdirs")

#: The lock file inside a process dir.
OWNER_FILE = ".owner"
#: A process dir being created (``.new-`` name) is left alone this long.
_GRACE_SECONDS = 60.0
_NEW = ".new-"

_lock = threading.Lock()
#: This process's dirs: root -> (pid, path, locked owner file). A forked child sees
#: its parent's entries under another pid and makes its own.
_owned: dict[str, tuple[int, Path, IO[str]]] = {}
#: Directories process_work_dir created on the way to a root (removed again at
#: release when empty: a one-off ``videogen render`` leaves no empty dirs behind).
_created: dict[str, list[Path]] = {}


def work_root(settings: Any) -> Path:
    """``VIDEOGEN_WORK_DIR``, else ``<DATA_DIR>/.videogen/work``."""
    configured = str(getattr(settings, "work_dir", "") or "")
    if configured:
        return Path(configured)
    return Path(settings.data_dir) / ".videogen" / "work"


def _try_lock(handle: IO[str]) -> bool:
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def process_work_dir(root: Path) -> Path:
    """This process's own directory under ``root`` (created and locked on first
    call; removed at a normal exit). Pipelines make their job dirs inside it."""
    root = Path(root)
    with _lock:
        pid = os.getpid()
        known = _owned.get(str(root))
        if known is not None and known[0] == pid and known[1].is_dir():
            return known[1]
        missing = [d for d in (root, *root.parents) if not d.exists()]
        root.mkdir(parents=True, exist_ok=True)
        _created[str(root)] = missing  # deepest first
        host = socket.gethostname().split(".")[0] or "host"
        # made under a ".new-" name (swept only after a grace period), locked, then
        # renamed: a sweeper never sees a process dir whose lock is not yet held
        fresh = Path(tempfile.mkdtemp(prefix=f"{_NEW}{host}-{pid}-", dir=root))
        handle = (fresh / OWNER_FILE).open("a+", encoding="utf-8")
        if not _try_lock(handle):  # cannot happen for a fresh dir; be safe anyway
            handle.close()
            raise OSError(f"cannot lock {fresh / OWNER_FILE}")
        handle.write(f"{pid}@{socket.gethostname()}\n")
        handle.flush()
        path = root / fresh.name.removeprefix(_NEW)
        fresh.rename(path)
        if not _owned:
            atexit.register(release_process_work_dir)
        _owned[str(root)] = (pid, path, handle)
        return path


def release_process_work_dir() -> None:
    """Remove this process's dirs (at exit; a worker's pool child on shutdown)."""
    with _lock:
        pid = os.getpid()
        mine = [(key, path, handle) for key, (owner, path, handle) in _owned.items()
                if owner == pid]
        for key, _, _ in mine:
            del _owned[key]
        created = [_created.pop(key, []) for key, _, _ in mine]
    for (_, path, handle), dirs in zip(mine, created, strict=True):
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            handle.close()
        for directory in dirs:  # made for this process and empty now: gone again
            try:
                directory.rmdir()
            except OSError:
                break


def sweep(root: Path, *, now: float | None = None) -> list[Path]:
    """Remove what dead processes left under ``root``: every process dir whose
    ``.owner`` lock is free, and stray entries without an owner that are older
    than a minute. Returns the removed paths. Never raises for a file that
    vanishes meanwhile; a dir whose lock is held (a live process) is kept."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    now = time.time() if now is None else now
    mine = {path for _, path, _ in _owned.values()}
    for entry in sorted(root.iterdir()):
        if entry in mine:
            continue
        try:
            owner = entry / OWNER_FILE
            if entry.is_dir() and owner.exists() and not entry.name.startswith(_NEW):
                with owner.open("a+", encoding="utf-8") as handle:
                    if not _try_lock(handle):
                        continue  # a live process owns it
                    shutil.rmtree(entry, ignore_errors=True)
            elif now - entry.lstat().st_mtime > _GRACE_SECONDS:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            else:
                continue
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not sweep %s: %s", entry, exc)
            continue
        removed.append(entry)
    if removed:
        log.info("removed %d work dir(s) left by stopped processes under %s", len(removed), root)
    return removed
