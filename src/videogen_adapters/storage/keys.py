"""Storage keys: one validation rule for every adapter, plus the small helpers
that every adapter shares (prefix joining, direct-child image filtering).

A key is a ``/``-separated relative path such as ``"folder/scene_1.png"``.
:func:`validate_key` refuses anything that could leave a storage root or mean
different things on different backends: empty keys or segments, ``.`` and
``..`` segments, absolute paths, backslashes, drive letters, NUL and other
control characters, and keys longer than S3/GCS allow (1024 UTF-8 bytes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from videogen_core import InvalidRequest, PathNotAllowed, is_image_name, natural_sorted

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_URL_EXPIRY",
    "TEMP_MARKER",
    "folder_prefix",
    "image_children",
    "join_prefix",
    "strip_prefix",
    "validate_expiry",
    "validate_key",
    "validate_prefix",
]

#: S3 and GCS both cap object names at 1024 bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: SigV4 presigned S3 URLs and V4 signed GCS URLs live at most 7 days.
MAX_URL_EXPIRY = 7 * 24 * 3600
#: Name fragment of in-progress temp files; never listed, never a valid final name.
TEMP_MARKER = ".videogen-tmp-"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(key: object, reason: str, field: str) -> PathNotAllowed:
    return PathNotAllowed(field, f"storage key {key!r} is not allowed: {reason}", key=str(key))


def validate_key(key: str, *, field: str = "key") -> str:
    """Return ``key`` unchanged when it is a safe relative key, else raise
    :class:`~videogen_core.PathNotAllowed` naming it (``field`` names the request
    field for the error)."""
    if not isinstance(key, str):
        raise _refuse(key, "must be a string", field)
    if key == "":
        raise _refuse(key, "empty", field)
    if "\x00" in key:
        raise _refuse(key, "contains a NUL byte", field)
    if _CONTROL.search(key):
        raise _refuse(key, "contains a control character", field)
    if "\\" in key:
        raise _refuse(key, "contains a backslash", field)
    if key.startswith("/"):
        raise _refuse(key, "absolute path", field)
    if _DRIVE.match(key):
        raise _refuse(key, "drive letter", field)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise _refuse(key, f"longer than {MAX_KEY_BYTES} bytes", field)
    for segment in key.split("/"):
        if segment == "":
            raise _refuse(key, "empty path segment", field)
        if segment in {".", ".."}:
            raise _refuse(key, f"{segment!r} segment", field)
        if segment.startswith(TEMP_MARKER):
            raise _refuse(key, "reserved temporary-file name", field)
    return key


def validate_prefix(prefix: str) -> str:
    """A backend prefix (``""`` or a valid key, trailing ``/`` tolerated), normalised
    without the trailing slash."""
    prefix = prefix.strip("/") if prefix else ""
    return validate_key(prefix, field="prefix") if prefix else ""


def join_prefix(prefix: str, key: str) -> str:
    """The backend object name of ``key`` under ``prefix`` (``key`` validated)."""
    validate_key(key)
    return f"{prefix}/{key}" if prefix else key


def strip_prefix(prefix: str, name: str) -> str:
    """Inverse of :func:`join_prefix`: the key of backend object ``name``."""
    if prefix and name.startswith(prefix + "/"):
        return name[len(prefix) + 1 :]
    return name


def folder_prefix(folder_id: str) -> str:
    """``folder_id`` validated, with the trailing ``/`` that lists its children."""
    return validate_key(folder_id, field="folder_id") + "/"


def image_children(folder_id: str, keys: Iterable[str]) -> list[str]:
    """The image keys directly in ``folder_id`` (no deeper), in natural order."""
    start = folder_prefix(folder_id)
    direct = [
        k for k in keys
        if k.startswith(start) and "/" not in k[len(start):] and is_image_name(k)
        and TEMP_MARKER not in k
    ]
    return natural_sorted(direct)


def validate_expiry(seconds: int) -> int:
    """A signed-URL lifetime in seconds: 1 s to 7 days (the S3 and GCS maximum)."""
    value = int(seconds)
    if not 1 <= value <= MAX_URL_EXPIRY:
        raise InvalidRequest("VIDEOGEN_URL_EXPIRY",
                             f"must be between 1 and {MAX_URL_EXPIRY} seconds", seconds)
    return value
