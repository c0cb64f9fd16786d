"""``S3Storage``: Amazon S3 and S3-compatible services (MinIO, R2, ...) via boto3.

The adapter receives a ready boto3 S3 client (see :func:`make_s3_client` or
:meth:`S3Storage.from_settings`); boto3 is an optional extra (``videogen[s3]``)
imported only when a client is built or an error is translated. Uploads go
through boto3's managed transfer: files above ``multipart_threshold`` use a
multipart upload, which S3 only makes visible when it completes — so a put
is atomic. :func:`map_s3_errors` translates botocore errors at this edge.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from videogen_core import (
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    StorageFailed,
    StoredObject,
    natural_key,
)

from .files import atomic_path, check_source, os_error_reason
from .keys import (
    folder_prefix,
    image_children,
    join_prefix,
    strip_prefix,
    validate_expiry,
    validate_prefix,
)

if TYPE_CHECKING:
    from videogen_adapters.config import Settings

__all__ = ["S3Storage", "make_s3_client", "map_s3_errors"]

BACKEND = "s3"
MiB = 1024 * 1024
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}
_UNAVAILABLE_CODES = {"ServiceUnavailable", "SlowDown", "503", "RequestTimeout"}


def _client_error_details(exc: Any) -> tuple[str, str, int]:
    error = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if hasattr(
        exc, "response") else 0
    code = str(error.get("Code", ""))
    message = str(error.get("Message") or exc)
    return code, message, int(status or 0)


@contextlib.contextmanager
def map_s3_errors(operation: str, key: str = "", bucket: str = "") -> Iterator[None]:
    """Translate botocore/boto3 errors raised in the block into the domain tree:
    NoSuchKey/404 → NotFound; connection failures, timeouts, 503/SlowDown →
    ServiceUnavailable; anything else → StorageFailed with the backend's reason."""
    from boto3.exceptions import RetriesExceededError, S3UploadFailedError
    from botocore import exceptions as bce

    try:
        yield
    except bce.ClientError as exc:
        code, message, status = _client_error_details(exc)
        if code in _NOT_FOUND_CODES:
            raise NotFound(f"no object {key!r} in S3 bucket {bucket!r}", key=key,
                           bucket=bucket) from exc
        if code in _UNAVAILABLE_CODES or status == 503:
            raise ServiceUnavailable("s3", f"{code}: {message}", operation=operation,
                                     key=key) from exc
        raise StorageFailed(BACKEND, operation, f"{code}: {message}" if code else message,
                            key=key, bucket=bucket, code=code, status=status) from exc
    except S3UploadFailedError as exc:
        cause = exc.__cause__ or exc.__context__
        code = _client_error_details(cause)[0] if cause is not None else ""
        raise StorageFailed(BACKEND, operation, str(exc), key=key, bucket=bucket,
                            code=code) from exc
    except (bce.ConnectionError, bce.HTTPClientError, RetriesExceededError) as exc:
        raise ServiceUnavailable("s3", str(exc), operation=operation, key=key) from exc
    except bce.BotoCoreError as exc:
        raise StorageFailed(BACKEND, operation, str(exc), key=key, bucket=bucket) from exc
    except OSError as exc:  # the local side of a transfer (disk full, permissions)
        raise StorageFailed(BACKEND, operation, os_error_reason(exc), key=key,
                            bucket=bucket) from exc


def make_s3_client(
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    max_attempts: int = 3,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    **client_kwargs: Any,
) -> Any:
    """A boto3 S3 client with SigV4, path-style addressing when ``endpoint_url``
    is set (MinIO, R2...), bounded retries and timeouts. Credentials come from
    boto3's usual chain (``AWS_ACCESS_KEY_ID``..., profiles, instance roles)
    unless given in ``client_kwargs``."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                        config=config, **client_kwargs)


class S3Storage:
    """Storage port on an S3 bucket, keys placed under an optional ``prefix``.

    ``url()`` is ``<public_base_url>/<prefix>/<key>`` when a public base URL is
    configured, else a presigned GET URL valid ``url_expiry`` seconds.
    """

    name = "s3"

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        public_base_url: str = "",
        url_expiry: int = 3600,
        multipart_threshold: int = 8 * MiB,
        multipart_chunksize: int = 8 * MiB,
        max_concurrency: int = 4,
    ) -> None:
        if not bucket:
            raise InvalidRequest("bucket", "an S3 bucket name is required")
        self.client = client
        self.bucket = bucket
        self.prefix = validate_prefix(prefix)
        self.public_base_url = public_base_url.rstrip("/")
        self.url_expiry = validate_expiry(url_expiry)
        self._transfer = dict(multipart_threshold=multipart_threshold,
                              multipart_chunksize=multipart_chunksize,
                              max_concurrency=max_concurrency)

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> S3Storage:
        """Build from ``VIDEOGEN_S3_*`` settings (a client is made when not given)."""
        if not settings.s3_bucket:
            raise InvalidRequest("VIDEOGEN_S3_BUCKET", "must be set when VIDEOGEN_STORAGE=s3")
        if client is None:
            client = make_s3_client(endpoint_url=settings.s3_endpoint_url or None,
                                    region=settings.s3_region)
        return cls(client, settings.s3_bucket, settings.s3_prefix,
                   public_base_url=settings.s3_public_base_url, url_expiry=settings.url_expiry)

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return join_prefix(self.prefix, key)

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(**self._transfer)

    # -------------------------------------------------------------- port
    def list_images(self, folder_id: str) -> list[str]:
        """Image keys directly in ``folder_id``, natural order; NotFound when no
        object lies under the folder."""
        start = join_prefix(self.prefix, folder_prefix(folder_id)[:-1]) + "/"
        keys: list[str] = []
        seen_anything = False
        with map_s3_errors("list", folder_id, self.bucket):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start, Delimiter="/")
            for page in pages:
                seen_anything = seen_anything or bool(page.get("KeyCount")) or bool(
                    page.get("Contents") or page.get("CommonPrefixes"))
                keys.extend(strip_prefix(self.prefix, o["Key"]) for o in page.get("Contents", ()))
        if not seen_anything:
            raise NotFound(f"folder {folder_id!r} does not exist in S3 bucket {self.bucket!r} "
                           f"(no object under {start!r})", folder_id=folder_id,
                           looked_for=start)
        return image_children(folder_id, keys)

    def fetch(self, key: str, destination: Path) -> Path:
        """Download ``key`` to ``destination`` (atomically); NotFound when missing."""
        name = self._name(key)
        with map_s3_errors("fetch", key, self.bucket), \
                atomic_path(Path(destination), BACKEND, "fetch") as temp:
            self.client.download_file(self.bucket, name, str(temp),
                                      Config=self._transfer_config())
        return Path(destination)

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        """Upload ``source`` under ``key`` with ``content_type`` (multipart above
        the threshold; the object appears only when complete); return the key."""
        name = self._name(key)
        check_source(Path(source))
        with map_s3_errors("put", key, self.bucket):
            self.client.upload_file(str(source), self.bucket, name,
                                    ExtraArgs={"ContentType": content_type},
                                    Config=self._transfer_config())
        return key

    def url(self, key: str) -> str:
        """Public URL when a base URL is configured, else a presigned GET URL."""
        name = self._name(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(name, safe='/')}"
        with map_s3_errors("sign a URL for", key, self.bucket):
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": name},
                ExpiresIn=self.url_expiry))

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key`` (a HEAD request)."""
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete the object (S3 does not complain when it is already gone)."""
        name = self._name(key)
        with map_s3_errors("delete", key, self.bucket):
            self.client.delete_object(Bucket=self.bucket, Key=name)

    # ----------------------------------------------------------- helpers
    def check(self) -> None:
        """Raise unless the bucket answers (HEAD bucket): ServiceUnavailable when the
        endpoint is down, StorageFailed when the bucket is missing or forbidden."""
        try:
            with map_s3_errors("check", "", self.bucket):
                self.client.head_bucket(Bucket=self.bucket)
        except NotFound as exc:
            raise StorageFailed(BACKEND, "check", f"bucket {self.bucket!r} does not exist",
                                bucket=self.bucket) from exc

    def put_bytes(self, data: bytes, key: str,
                  content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key`` in one PUT; return the key."""
        name = self._name(key)
        with map_s3_errors("put", key, self.bucket):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data),
                                   ContentType=content_type)
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``; NotFound when missing."""
        name = self._name(key)
        with map_s3_errors("read", key, self.bucket):
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            return bytes(response["Body"].read())

    def stat(self, key: str) -> StoredObject:
        """Key, size, content type and last-modified time (HEAD); NotFound when missing."""
        name = self._name(key)
        with map_s3_errors("stat", key, self.bucket):
            head = self.client.head_object(Bucket=self.bucket, Key=name)
        return StoredObject(key, int(head.get("ContentLength", 0)),
                            head.get("ContentType") or "application/octet-stream",
                            modified=_timestamp(head.get("LastModified")))

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Objects under folder ``prefix`` (recursively; all when empty), natural
        order. Content types are not listed by S3 and show as the default."""
        start = folder_prefix(prefix) if prefix else ""
        full = join_prefix(self.prefix, start[:-1]) + "/" if start else (
            self.prefix + "/" if self.prefix else "")
        found: list[StoredObject] = []
        with map_s3_errors("list", prefix, self.bucket):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=full):
                found.extend(StoredObject(strip_prefix(self.prefix, o["Key"]), int(o["Size"]),
                                          modified=_timestamp(o.get("LastModified")))
                             for o in page.get("Contents", ()))
        return sorted(found, key=lambda o: natural_key(o.key))


def _timestamp(value: Any) -> float | None:
    """POSIX seconds of a botocore ``LastModified`` (a datetime), None when absent."""
    return float(value.timestamp()) if value is not None else None
