"""``InMemoryStorage``: the shipped fake — a thread-safe dict of key → bytes.

It validates keys exactly like the real adapters and passes the same contract
suite. ``url()`` gives ``memory://<instance>/<key>``; :meth:`InMemoryStorage.read_url`
turns such a URL back into bytes (the "download" of a memory URL).
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from videogen_core import NotFound, StoredObject, natural_key

from .files import atomic_path, check_source, map_os_errors
from .keys import folder_prefix, image_children, validate_key

__all__ = ["InMemoryStorage"]

_instances = itertools.count(1)


class InMemoryStorage:
    """Storage port kept in memory; for tests, demos and single-process jobs.

    A folder exists when at least one object lies under it (as on S3/GCS).
    """

    name = "memory"

    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[bytes, str, float]] = {}
        self.instance = f"store{next(_instances)}"
        for key, data in (objects or {}).items():
            self.put_bytes(data, key)

    # -------------------------------------------------------------- port
    def list_images(self, folder_id: str) -> list[str]:
        """Image keys directly in ``folder_id``, natural order; NotFound for a missing folder."""
        start = folder_prefix(folder_id)
        with self._lock:
            keys = [k for k in self._objects if k.startswith(start)]
        if not keys:
            raise NotFound(f"folder {folder_id!r} does not exist in memory storage "
                           f"(no object under {start!r})", folder_id=folder_id,
                           looked_for=start)
        return image_children(folder_id, keys)

    def fetch(self, key: str, destination: Path) -> Path:
        """Write the object's bytes to ``destination`` (atomically); NotFound when missing."""
        data = self.read_bytes(key)
        with atomic_path(Path(destination), self.name, "fetch") as temp, \
                map_os_errors(self.name, "fetch", key):
            temp.write_bytes(data)
        return Path(destination)

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        """Store the bytes of local file ``source`` under ``key``; return the key."""
        validate_key(key)
        check_source(Path(source))
        return self.put_bytes(Path(source).read_bytes(), key, content_type)

    def url(self, key: str) -> str:
        """``memory://<instance>/<key>`` — readable with :meth:`read_url`."""
        validate_key(key)
        return f"memory://{self.instance}/{quote(key, safe='/')}"

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        validate_key(key)
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        """Forget ``key``; nothing happens when it is already gone."""
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    # ----------------------------------------------------------- helpers
    def check(self) -> None:
        """Always healthy (the readiness probe of the other adapters)."""

    def put_bytes(self, data: bytes, key: str,
                  content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key`` (replacing any previous object); return the key."""
        validate_key(key)
        with self._lock:
            self._objects[key] = (bytes(data), content_type, time.time())
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``; NotFound when missing."""
        validate_key(key)
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise NotFound(f"no object {key!r} in memory storage", key=key)
        return found[0]

    def read_url(self, url: str) -> bytes:
        """The bytes behind a URL returned by :meth:`url` of this instance."""
        parts = urlsplit(url)
        if parts.scheme != "memory" or parts.netloc != self.instance:
            raise NotFound(f"{url!r} is not a URL of this memory storage", url=url)
        return self.read_bytes(unquote(parts.path.lstrip("/")))

    def stat(self, key: str) -> StoredObject:
        """Key, size, content type and time of the last put of ``key``; NotFound when missing."""
        validate_key(key)
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise NotFound(f"no object {key!r} in memory storage", key=key)
        return StoredObject(key, len(found[0]), found[1], modified=found[2])

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Objects under folder ``prefix`` (recursively; all when empty), natural order."""
        start = folder_prefix(prefix) if prefix else ""
        with self._lock:
            items = [(k, v) for k, v in self._objects.items() if k.startswith(start)]
        return sorted((StoredObject(k, len(d), ct, modified=t) for k, (d, ct, t) in items),
                      key=lambda o: natural_key(o.key))
