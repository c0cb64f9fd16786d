"""Local-file helpers shared by the storage adapters: atomic writes and source checks."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from videogen_core import NotFound, StorageFailed

from .keys import TEMP_MARKER

__all__ = ["atomic_path", "check_source", "fsync_dir", "map_os_errors", "os_error_reason"]


def os_error_reason(exc: OSError) -> str:
    """A short human reason for an OS error (``no space left on device``...)."""
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return exc.strerror or str(exc)


def check_source(source: Path) -> int:
    """Size of the local file ``source``; NotFound when it is not a readable file."""
    try:
        info = Path(source).stat()
    except OSError:
        raise NotFound(f"source file {str(source)!r} does not exist", path=str(source)) from None
    if not Path(source).is_file():
        raise NotFound(f"source {str(source)!r} is not a file", path=str(source))
    return info.st_size


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry change (a rename) to disk; best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def map_os_errors(backend: str, operation: str, key: str) -> Iterator[None]:
    """Translate local OS errors: a missing file → NotFound, anything else
    (disk full, permissions...) → StorageFailed with a short reason."""
    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise NotFound(f"no object {key!r} in {backend} storage", key=key) from exc
    except OSError as exc:
        raise StorageFailed(backend, operation, os_error_reason(exc), key=key) from exc


@contextlib.contextmanager
def atomic_path(destination: Path, backend: str, operation: str) -> Iterator[Path]:
    """Yield a temp path next to ``destination``; when the block succeeds the
    temp file is fsynced and renamed over ``destination`` (``os.replace``), when
    it fails (its exception propagates unchanged) the temp file is removed. The
    final name never holds a partial file. OS errors of creating, syncing or
    renaming become :class:`StorageFailed` (``backend``, ``operation``)."""
    destination = Path(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            dir=destination.parent, prefix=f"{TEMP_MARKER}{destination.name}.", suffix=".part"
        )
        os.close(fd)
    except OSError as exc:
        raise StorageFailed(backend, operation, os_error_reason(exc),
                            path=str(destination)) from exc
    temp = Path(temp_name)
    try:
        yield temp
        try:
            _fsync_file(temp)
            _apply_umask(temp)
            os.replace(temp, destination)
        except OSError as exc:
            raise StorageFailed(backend, operation, os_error_reason(exc),
                                path=str(destination)) from exc
        fsync_dir(destination.parent)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply_umask(path: Path) -> None:
    """mkstemp creates 0600; give the final file the usual 0666 & ~umask."""
    os.chmod(path, 0o666 & ~_umask())


@functools.cache
def _umask() -> int:
    # /proc avoids os.umask(0)'s process-wide window in which other threads
    # would create world-writable files.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
