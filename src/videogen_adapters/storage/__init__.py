"""Storage adapters: where images come from and finished videos go.

============================  =========================================
``LocalDiskStorage``          a directory (the embedded default)
``S3Storage``                 S3 / MinIO / R2 via boto3 (extra ``s3``)
``GcsStorage``                Google Cloud Storage (extra ``gcs``)
``FirebaseStorage``           a Firebase bucket: GCS + Firebase download URLs
``InMemoryStorage``           the shipped fake
============================  =========================================

All fit :class:`videogen_core.Storage`, validate keys with the same
:func:`validate_key`, and pass ``tests/contract/storage``.
:func:`build_storage` picks one from :class:`~videogen_adapters.config.Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .gcs import FirebaseStorage, GcsStorage
from .keys import validate_key
from .local import LocalDiskStorage
from .memory import InMemoryStorage
from .s3 import S3Storage

if TYPE_CHECKING:
    from videogen_adapters.config import Settings

__all__ = [
    "FirebaseStorage",
    "GcsStorage",
    "InMemoryStorage",
    "LocalDiskStorage",
    "S3Storage",
    "build_storage",
    "validate_key",
]


def build_storage(settings: Settings, *, public_base_url: str | None = None,
                  client: Any = None) -> Any:
    """The storage adapter chosen by ``settings.storage`` (local|s3|gcs|firebase|memory).

    ``public_base_url`` is the HTTP service's own base URL: local storage then
    hands out ``<public_base_url>/media/<key>`` instead of ``file://`` URIs
    (``settings.public_base_url`` is used when it is None). S3 and GCS use
    their own ``s3_public_base_url`` / ``gcs_public_base_url``. ``client``
    injects a ready boto3 / google-cloud-storage client (tests, custom auth);
    otherwise one is built from the settings.
    """
    kind = settings.storage
    if kind == "local":
        base = settings.public_base_url if public_base_url is None else public_base_url
        return LocalDiskStorage(settings.data_dir, public_base_url=base)
    if kind == "memory":
        return InMemoryStorage()
    if kind == "s3":
        return S3Storage.from_settings(settings, client)
    if kind == "gcs":
        return GcsStorage.from_settings(settings, client)
    if kind == "firebase":
        return FirebaseStorage.from_settings(settings, client)
    raise ValueError(f"unknown storage {kind!r}")  # Settings already validates the choice
