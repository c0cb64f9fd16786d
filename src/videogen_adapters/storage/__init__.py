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

Configuration (environment, read once by the composition root)::

    VIDEOGEN_STORAGE          local | s3 | gcs | firebase | memory   (local)
    VIDEOGEN_DATA_DIR         local root: images at <DATA_DIR>/<folder>/,
                              results at <DATA_DIR>/<folder>/videos/
    VIDEOGEN_PUBLIC_BASE_URL  local: hand out <base>/media/<key> (the HTTP
                              service serves it) instead of file:// URIs
    VIDEOGEN_S3_BUCKET, _S3_PREFIX, _S3_REGION
    VIDEOGEN_S3_ENDPOINT_URL  MinIO, R2, ... (path-style addressing)
    VIDEOGEN_S3_PUBLIC_BASE_URL   public URLs instead of presigned ones
    VIDEOGEN_GCS_BUCKET, _GCS_PREFIX (also used by firebase)
    VIDEOGEN_GCS_CREDENTIALS  service-account JSON key (also signs URLs);
                              else Application Default Credentials
    VIDEOGEN_GCS_PUBLIC_BASE_URL  public URLs instead of V4 signed ones (gcs)
    VIDEOGEN_URL_EXPIRY       lifetime of signed URLs, seconds (3600, max 7 days)

S3 credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``...,
profiles, instance roles). Each adapter also offers ``put_bytes``,
``read_bytes``, ``stat``, ``list`` and ``check`` (a readiness probe); ``stat`` and
``list`` give each object's size and last write time (``StoredObject.modified``).
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
