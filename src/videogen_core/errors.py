"""The one error tree of videogen.

Every failure a user can meet is one of these; adapters translate foreign
errors (ffmpeg stderr, HTTP bodies, boto3/GCS exceptions) at their edge with
``raise DomainError(...) from exc`` and keep the useful detail in ``details``.

::

    VideogenError                       code                 HTTP (videogen_http.errors)
    ├── InvalidRequest                  invalid_request      400
    │   ├── UnknownVoice                unknown_voice        400
    │   └── PathNotAllowed              path_not_allowed     400
    ├── NotFound                        not_found            404
    ├── MissingImage                    missing_image        422
    ├── InvalidImage                    invalid_image        422
    ├── ServiceUnavailable              service_unavailable  503
    ├── Busy                            busy                 429
    ├── RenderFailed                    render_failed        500
    ├── StorageFailed                   storage_failed       502
    └── Cancelled                       cancelled            409
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "Busy",
    "Cancelled",
    "InvalidImage",
    "InvalidRequest",
    "MissingImage",
    "NotFound",
    "PathNotAllowed",
    "RenderFailed",
    "ServiceUnavailable",
    "StorageFailed",
    "UnknownVoice",
    "VideogenError",
]


class VideogenError(Exception):
    """Root of every videogen error.

    ``message`` is a sentence for a human; ``details`` a JSON-able mapping
    with the machine-readable specifics (field, file, service, stderr tail...).
    """

    code = "videogen_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details)

    def to_dict(self) -> dict[str, Any]:
        """The error as the HTTP API shows it: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidRequest(VideogenError):
    """A request field is missing or has a bad value; ``field`` names it."""

    code = "invalid_request"

    def __init__(self, field: str, message: str, value: Any = None, **details: Any) -> None:
        text = f"{field}: {message}" if field else message
        if value is not None:
            text = f"{text} (got {value!r})"
        super().__init__(text, field=field, **details)
        self.field = field
        self.reason = message
        self.value = value
        if value is not None:
            self.details["value"] = value if _jsonable(value) else repr(value)

    def at(self, prefix: str) -> InvalidRequest:
        """The same error with its field path placed under ``prefix``."""
        field = _join_path(prefix, self.field)
        extra = {k: v for k, v in self.details.items() if k not in {"field", "value"}}
        new = type(self).__new__(type(self))
        InvalidRequest.__init__(new, field, self.reason, self.value, **extra)
        return new


class UnknownVoice(InvalidRequest):
    """The requested voice does not exist; ``available`` lists the ones that do."""

    code = "unknown_voice"

    def __init__(self, voice: str, available: Sequence[str], field: str = "voice") -> None:
        super().__init__(
            field,
            f"unknown voice; available: {', '.join(available) or '(none)'}",
            voice,
            available=list(available),
        )


class PathNotAllowed(InvalidRequest):
    """A key or path would leave its storage root (``..``, absolute, symlink, NUL)."""

    code = "path_not_allowed"


class NotFound(VideogenError):
    """A folder, object or job does not exist."""

    code = "not_found"


class MissingImage(VideogenError):
    """A scene has no image in the folder; ``available`` lists what the folder holds."""

    code = "missing_image"

    def __init__(self, scene_number: int, folder_id: str, available: Sequence[str]) -> None:
        listing = ", ".join(available) if available else "no images"
        super().__init__(
            f"scene {scene_number} has no image in folder {folder_id!r} (it holds: {listing})",
            scene_number=scene_number,
            folder_id=folder_id,
            available=list(available),
        )


class InvalidImage(VideogenError):
    """An image cannot be used: corrupt, unsupported, or too large to decode safely."""

    code = "invalid_image"

    def __init__(self, file: str, reason: str, scene_number: int | None = None) -> None:
        where = f" (scene {scene_number})" if scene_number is not None else ""
        super().__init__(
            f"image {file!r}{where} cannot be used: {reason}",
            file=file,
            reason=reason,
            scene_number=scene_number,
        )


class ServiceUnavailable(VideogenError):
    """A backend (ComfyUI, TTS endpoint, storage, broker) did not answer."""

    code = "service_unavailable"

    def __init__(self, service: str, reason: str, **details: Any) -> None:
        super().__init__(f"{service} is unavailable: {reason}", service=service, reason=reason,
                         **details)
        self.service = service


class Busy(VideogenError):
    """Too much work queued; retry after ``retry_after`` seconds."""

    code = "busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class RenderFailed(VideogenError):
    """Producing media failed (ffmpeg, a generative model, TTS synthesis)."""

    code = "render_failed"

    def __init__(self, stage: str, reason: str, **details: Any) -> None:
        super().__init__(f"{stage} failed: {reason}", stage=stage, reason=reason, **details)
        self.stage = stage


class StorageFailed(VideogenError):
    """The storage backend refused or failed an operation; ``reason`` is the backend's."""

    code = "storage_failed"

    def __init__(self, backend: str, operation: str, reason: str, **details: Any) -> None:
        super().__init__(
            f"{backend} storage could not {operation}: {reason}",
            backend=backend,
            operation=operation,
            reason=reason,
            **details,
        )


class Cancelled(VideogenError):
    """The job was cancelled; nothing it produced was stored."""

    code = "cancelled"

    def __init__(self, message: str = "the job was cancelled") -> None:
        super().__init__(message)


def _join_path(prefix: str, field: str) -> str:
    if not prefix:
        return field
    if not field:
        return prefix
    if field.startswith("["):
        return prefix + field
    return f"{prefix}.{field}"


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_jsonable(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False
