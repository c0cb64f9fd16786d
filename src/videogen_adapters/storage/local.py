"""``LocalDiskStorage``: the embedded default — a directory on this machine.

Images of folder ``X`` live at ``<root>/X/``; finished videos go under
``<root>/X/videos/``. Every key is validated (:func:`.keys.validate_key`) and
its resolved path must stay inside the resolved root, so ``..``, absolute
paths and symlinks pointing out are refused with PathNotAllowed. Writes go to
a temp file in the destination directory, are fsynced and renamed into place
(``os.replace``): a crash never leaves a partial file under the final name.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
from pathlib import Path
from urllib.parse import quote

from videogen_core import NotFound, PathNotAllowed, StorageFailed, StoredObject, natural_key

from .files import atomic_path, check_source, map_os_errors
from .keys import TEMP_MARKER, folder_prefix, image_children, validate_key

__all__ = ["LocalDiskStorage", "copy_file", "locate_folder", "map_local_errors"]

BACKEND = "local"


def copy_file(source: Path, target: Path) -> None:
    """Copy bytes of ``source`` into ``target`` (a module-level seam: tests
    replace it to simulate a crash or a full disk mid-write)."""
    shutil.copyfile(source, target)


def map_local_errors(operation: str, key: str) -> contextlib.AbstractContextManager[None]:
    """Translate OS errors: missing file → NotFound, anything else (disk full,
    permissions) → StorageFailed with the reason."""
    return map_os_errors(BACKEND, operation, key)


class LocalDiskStorage:
    """Storage port on a local directory ``root`` (created on the first write).

    ``url()`` gives a ``file://`` URI, or ``<public_base_url>/media/<key>`` when
    a base URL is configured (the HTTP service serves ``/media/<key>`` from
    the same root).
    """

    name = "local"

    def __init__(self, root: Path | str, *, public_base_url: str = "") -> None:
        self._root = Path(root).expanduser().resolve()
        self.public_base_url = public_base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"LocalDiskStorage({str(self._root)!r})"

    @property
    def root(self) -> Path:
        """The resolved root directory."""
        return self._root

    # ------------------------------------------------------------- paths
    def path(self, key: str, *, field: str = "key") -> Path:
        """The resolved local path of ``key``; PathNotAllowed when it is not a
        valid key or resolves (through symlinks) outside the root."""
        validate_key(key, field=field)
        try:
            resolved = (self._root / key).resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise PathNotAllowed(field, f"storage key {key!r} cannot be resolved: {exc}",
                                 key=key) from exc
        if not self._inside(resolved):
            raise PathNotAllowed(field, f"storage key {key!r} leaves the storage root", key=key)
        return resolved

    def _entry(self, key: str) -> Path:
        """The directory entry of ``key`` itself (its parent resolved, its last
        component not): writes and deletes replace a symlink inside the root
        instead of acting on its target. Validated like :meth:`path`."""
        self.path(key)
        parent, _, name = key.rpartition("/")
        return (self.path(parent) if parent else self._root) / name

    def _inside(self, resolved: Path) -> bool:
        return resolved != self._root and resolved.is_relative_to(self._root)

    # -------------------------------------------------------------- port
    def list_images(self, folder_id: str) -> list[str]:
        """Image keys directly in ``<root>/<folder_id>/`` in natural order; files
        whose symlinks lead out of the root are left out. NotFound for a missing folder."""
        start = folder_prefix(folder_id)
        directory = self.path(folder_id, field="folder_id")
        if not directory.is_dir():
            raise NotFound(f"folder {folder_id!r} does not exist in local storage "
                           f"(looked for {start!r} in the data directory)",
                           folder_id=folder_id, looked_for=start)
        keys = []
        with map_local_errors("list", folder_id), os.scandir(directory) as entries:
            for entry in entries:
                key = start + entry.name
                with contextlib.suppress(PathNotAllowed):
                    if self.path(key).is_file():
                        keys.append(key)
        return image_children(folder_id, keys)

    def fetch(self, key: str, destination: Path) -> Path:
        """Copy ``key`` to ``destination`` (atomically); NotFound when missing."""
        source = self.path(key)
        if not source.is_file():
            raise NotFound(f"no object {key!r} in local storage", key=key)
        with atomic_path(Path(destination), BACKEND, "fetch") as temp, \
                map_local_errors("fetch", key):
            copy_file(source, temp)
        return Path(destination)

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        """Store ``source`` under ``key`` atomically (temp + fsync + rename);
        ``content_type`` is implied by the file name on disk. Full disk or
        permissions → StorageFailed with the reason; no partial file remains."""
        target = self._entry(key)
        check_source(Path(source))
        with atomic_path(target, BACKEND, "put") as temp, map_local_errors("put", key):
            copy_file(Path(source), temp)
        return key

    def url(self, key: str) -> str:
        """``<public_base_url>/media/<key>`` when configured, else a ``file://`` URI."""
        target = self.path(key)
        if self.public_base_url:
            return f"{self.public_base_url}/media/{quote(key, safe='/')}"
        return target.as_uri()

    def exists(self, key: str) -> bool:
        """Whether a regular file is stored under ``key``."""
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file (a symlink itself, not its target); nothing happens
        when it is already gone."""
        target = self._entry(key)
        with contextlib.suppress(NotFound), map_local_errors("delete", key):
            target.unlink()

    # ----------------------------------------------------------- helpers
    def check(self) -> None:
        """Raise StorageFailed unless the root is (or can be created as) a writable
        directory; for ``videogen doctor`` and readiness probes."""
        existing = self._root
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise StorageFailed(BACKEND, "check", f"{str(existing)!r} is not a directory",
                                root=str(self._root))
        if not os.access(existing, os.W_OK | os.X_OK):
            raise StorageFailed(BACKEND, "check", f"{str(existing)!r} is not writable",
                                root=str(self._root))

    def put_bytes(self, data: bytes, key: str,
                  content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key`` atomically; return the key."""
        target = self._entry(key)
        with atomic_path(target, BACKEND, "put") as temp, map_local_errors("put", key):
            temp.write_bytes(data)
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``; NotFound when missing."""
        target = self.path(key)
        with map_local_errors("read", key):
            return target.read_bytes()

    def stat(self, key: str) -> StoredObject:
        """Key, size, (guessed from the name) content type and mtime; NotFound when missing."""
        target = self.path(key)
        if not target.is_file():
            raise NotFound(f"no object {key!r} in local storage", key=key)
        with map_local_errors("stat", key):
            info = target.stat()
        return StoredObject(key, info.st_size, _guess_type(key), modified=info.st_mtime)

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object whose key starts with folder ``prefix`` (recursively), natural order."""
        base = self.path(prefix, field="prefix") if prefix else self._root
        if not base.is_dir():
            return []
        found = []
        with map_local_errors("list", prefix):
            for dirpath, _dirs, files in os.walk(base):
                for filename in files:
                    if filename.startswith(TEMP_MARKER):
                        continue
                    full = Path(dirpath) / filename
                    key = full.relative_to(self._root).as_posix()
                    with contextlib.suppress(PathNotAllowed, NotFound):
                        found.append(self.stat(key))
        return sorted(found, key=lambda o: natural_key(o.key))


def locate_folder(argument: str, data_dir: Path) -> tuple[Path | None, str]:
    """Where the command line's FOLDER_OR_ID is: ``(root, folder_id)``.

    An existing directory outside ``data_dir`` gives its parent as the root (a
    new local storage there); one inside gives ``None`` (the configured
    storage) and its name. An argument that is written as a path (``/…``,
    ``./…``, ``~/…``, with a ``/``) but is no directory raises NotFound saying
    so and where it was looked for — on this machine, so the local path is
    shown (the CLI's user typed it). A bare id is left to the storage.
    """
    path = Path(argument).expanduser()
    if path.is_dir():
        resolved = path.resolve()
        if resolved.parent != Path(data_dir).expanduser().resolve():
            return resolved.parent, resolved.name
        return None, resolved.name
    looks_like_path = (
        argument.startswith(("/", ".", "~")) or "/" in argument or os.sep in argument)
    if looks_like_path:
        where = path if path.is_absolute() else Path.cwd() / path
        what = "is not a directory" if path.exists() else "does not exist"
        raise NotFound(f"folder {argument!r} {what} (looked for {where})",
                       folder=argument, looked_for=str(where))
    return None, argument


def _guess_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"
