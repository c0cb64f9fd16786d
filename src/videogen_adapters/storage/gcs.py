"""``GcsStorage`` and ``FirebaseStorage``: Google Cloud Storage via google-cloud-storage.

Firebase Storage buckets *are* GCS buckets; the two adapters differ only in
the URL they hand out:

- ``GcsStorage.url()`` — ``<public_base_url>/<object>`` when configured, else
  a V4 signed GET URL (needs signing credentials: a service-account key, or
  the client's own credentials when they can sign).
- ``FirebaseStorage.url()`` — a Firebase download URL
  ``<download_endpoint>/b/<bucket>/o/<url-encoded object>?alt=media&token=<t>``
  whose token is kept in the object's ``firebaseStorageDownloadTokens`` metadata
  (written on every put, added on demand for objects put by others).

The adapters receive a ready ``google.cloud.storage.Client`` (see
:func:`make_gcs_client`); the library is an optional extra (``videogen[gcs]``)
imported only when used. :func:`map_gcs_errors` translates its errors.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
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

__all__ = [
    "FIREBASE_DOWNLOAD_ENDPOINT",
    "FIREBASE_TOKEN_METADATA",
    "FirebaseStorage",
    "GcsStorage",
    "make_gcs_client",
    "map_gcs_errors",
]

MiB = 1024 * 1024
FIREBASE_DOWNLOAD_ENDPOINT = "https://firebasestorage.googleapis.com/v0"
FIREBASE_TOKEN_METADATA = "firebaseStorageDownloadTokens"


@contextlib.contextmanager
def map_gcs_errors(backend: str, operation: str, key: str = "",
                   bucket: str = "") -> Iterator[None]:
    """Translate google-cloud-storage / google-auth / requests errors raised in the
    block: 404 → NotFound; connection failures, timeouts, 429/503 →
    ServiceUnavailable; anything else → StorageFailed with the backend's reason."""
    import requests
    from google.api_core import exceptions as gax
    from google.auth import exceptions as gauth
    from google.cloud.storage import exceptions as gcs_exc

    service = "gcs" if backend == "gcs" else backend
    try:
        yield
    except gax.NotFound as exc:
        raise NotFound(f"no object {key!r} in bucket {bucket!r}", key=key, bucket=bucket,
                       reason=exc.message) from exc
    except (gax.ServiceUnavailable, gax.TooManyRequests, gax.GatewayTimeout,
            gax.RetryError) as exc:
        raise ServiceUnavailable(service, str(exc), operation=operation, key=key) from exc
    except gax.GoogleAPICallError as exc:
        raise StorageFailed(backend, operation, str(exc.message), key=key, bucket=bucket,
                            status=exc.code) from exc
    except (requests.ConnectionError, requests.Timeout, gauth.TransportError) as exc:
        raise ServiceUnavailable(service, str(exc), operation=operation, key=key) from exc
    except gcs_exc.InvalidResponse as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 404:
            raise NotFound(f"no object {key!r} in bucket {bucket!r}", key=key,
                           bucket=bucket) from exc
        raise StorageFailed(backend, operation, str(exc), key=key, bucket=bucket,
                            status=status) from exc
    except (gcs_exc.DataCorruption, gauth.GoogleAuthError) as exc:
        raise StorageFailed(backend, operation, str(exc), key=key, bucket=bucket) from exc
    except OSError as exc:  # the local side of a transfer (disk full, permissions)
        raise StorageFailed(backend, operation, os_error_reason(exc), key=key,
                            bucket=bucket) from exc


def make_gcs_client(credentials_file: str = "", project: str | None = None) -> Any:
    """A ``google.cloud.storage.Client``: from a service-account JSON key file when
    given (it can also sign URLs), else Application Default Credentials. The
    library itself honours ``STORAGE_EMULATOR_HOST``."""
    from google.cloud import storage

    if credentials_file:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            credentials_file)
        return storage.Client(project=project or credentials.project_id,
                              credentials=credentials)
    return storage.Client(project=project)


class GcsStorage:
    """Storage port on a GCS bucket, keys placed under an optional ``prefix``.

    Large files (above ``resumable_threshold``) go up as chunked resumable
    uploads; GCS publishes an object only once its upload is complete, so a
    put is atomic. ``retry_deadline`` bounds the library's retries (0 = none).
    """

    name = "gcs"

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        public_base_url: str = "",
        signing_credentials: Any = None,
        api_access_endpoint: str | None = None,
        url_expiry: int = 3600,
        resumable_threshold: int = 8 * MiB,
        chunk_size: int = 8 * MiB,
        timeout: float = 60.0,
        retry_deadline: float = 120.0,
    ) -> None:
        if not bucket:
            raise InvalidRequest("bucket", "a GCS bucket name is required")
        self.client = client
        self.bucket_name = bucket
        self.prefix = validate_prefix(prefix)
        self.public_base_url = public_base_url.rstrip("/")
        self.signing_credentials = signing_credentials
        self.api_access_endpoint = api_access_endpoint
        self.url_expiry = validate_expiry(url_expiry)
        self.resumable_threshold = resumable_threshold
        self.chunk_size = max(256 * 1024, chunk_size // (256 * 1024) * (256 * 1024))
        self.timeout = timeout
        self.retry_deadline = retry_deadline

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None, **kwargs: Any) -> GcsStorage:
        """Build from ``VIDEOGEN_GCS_*`` settings (a client is made when not given)."""
        if not settings.gcs_bucket:
            raise InvalidRequest("VIDEOGEN_GCS_BUCKET",
                                 f"must be set when VIDEOGEN_STORAGE={cls.name}")
        if client is None:
            client = make_gcs_client(settings.gcs_credentials)
        kwargs.setdefault("url_expiry", settings.url_expiry)
        if cls is GcsStorage:
            kwargs.setdefault("public_base_url", settings.gcs_public_base_url)
        return cls(client, settings.gcs_bucket, settings.gcs_prefix, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bucket={self.bucket_name!r}, prefix={self.prefix!r})"

    # ----------------------------------------------------------- plumbing
    @property
    def _retry(self) -> Any:
        if not self.retry_deadline:
            return None
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(self.retry_deadline)

    def _errors(self, operation: str, key: str) -> contextlib.AbstractContextManager[None]:
        return map_gcs_errors(self.name, operation, key, self.bucket_name)

    def _blob(self, key: str) -> Any:
        return self.client.bucket(self.bucket_name).blob(join_prefix(self.prefix, key))

    def _upload(self, blob: Any, size: int, upload: str, *args: Any, **kwargs: Any) -> None:
        if size > self.resumable_threshold:
            blob.chunk_size = self.chunk_size  # chunked resumable upload
        getattr(blob, upload)(*args, retry=self._retry, timeout=self.timeout, **kwargs)

    def _metadata_for_put(self) -> dict[str, str] | None:
        return None

    def _set_put_metadata(self, blob: Any) -> None:
        metadata = self._metadata_for_put()
        if metadata:
            blob.metadata = metadata

    # -------------------------------------------------------------- port
    def list_images(self, folder_id: str) -> list[str]:
        """Image keys directly in ``folder_id``, natural order; NotFound when no
        object lies under the folder."""
        start = join_prefix(self.prefix, folder_prefix(folder_id)[:-1]) + "/"
        with self._errors("list", folder_id):
            listing = self.client.list_blobs(self.bucket_name, prefix=start, delimiter="/",
                                             retry=self._retry, timeout=self.timeout)
            names = [blob.name for blob in listing]
            subfolders = set(listing.prefixes)
        if not names and not subfolders:
            raise NotFound(f"folder {folder_id!r} does not exist in bucket "
                           f"{self.bucket_name!r} (no object under {start!r})",
                           folder_id=folder_id, looked_for=start)
        return image_children(folder_id, [strip_prefix(self.prefix, n) for n in names])

    def fetch(self, key: str, destination: Path) -> Path:
        """Download ``key`` to ``destination`` (atomically); NotFound when missing."""
        blob = self._blob(key)
        with self._errors("fetch", key), \
                atomic_path(Path(destination), self.name, "fetch") as temp:
            blob.download_to_filename(str(temp), retry=self._retry, timeout=self.timeout)
        return Path(destination)

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        """Upload ``source`` under ``key`` with ``content_type``; return the key."""
        blob = self._blob(key)
        size = check_source(Path(source))
        self._set_put_metadata(blob)
        with self._errors("put", key):
            self._upload(blob, size, "upload_from_filename", str(source),
                         content_type=content_type)
        return key

    def url(self, key: str) -> str:
        """Public URL when a base URL is configured, else a V4 signed GET URL."""
        blob = self._blob(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(blob.name, safe='/')}"
        with self._errors("sign a URL for", key):
            try:
                return str(blob.generate_signed_url(
                    version="v4", method="GET",
                    expiration=datetime.timedelta(seconds=self.url_expiry),
                    credentials=self.signing_credentials,
                    api_access_endpoint=self.api_access_endpoint))
            except AttributeError as exc:  # credentials without a private key
                raise StorageFailed(self.name, "sign a URL for", str(exc), key=key) from exc

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        blob = self._blob(key)
        with self._errors("check", key):
            return bool(blob.exists(retry=self._retry, timeout=self.timeout))

    def delete(self, key: str) -> None:
        """Delete the object; nothing happens when it is already gone."""
        blob = self._blob(key)
        with contextlib.suppress(NotFound), self._errors("delete", key):
            blob.delete(retry=self._retry, timeout=self.timeout)

    # ----------------------------------------------------------- helpers
    def check(self) -> None:
        """Raise unless the bucket answers: ServiceUnavailable when the endpoint is
        down, StorageFailed when the bucket is missing or forbidden."""
        try:
            with self._errors("check", ""):
                self.client.bucket(self.bucket_name).reload(retry=self._retry,
                                                            timeout=self.timeout)
        except NotFound as exc:
            raise StorageFailed(self.name, "check",
                                f"bucket {self.bucket_name!r} does not exist",
                                bucket=self.bucket_name) from exc

    def put_bytes(self, data: bytes, key: str,
                  content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key``; return the key."""
        blob = self._blob(key)
        self._set_put_metadata(blob)
        with self._errors("put", key):
            self._upload(blob, len(data), "upload_from_string", bytes(data),
                         content_type=content_type)
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``; NotFound when missing."""
        blob = self._blob(key)
        with self._errors("read", key):
            return bytes(blob.download_as_bytes(retry=self._retry, timeout=self.timeout))

    def stat(self, key: str) -> StoredObject:
        """Key, size, content type and last-updated time; NotFound when missing."""
        return self._stat_blob(key, self._get_blob(key))

    def _get_blob(self, key: str) -> Any:
        name = join_prefix(self.prefix, key)
        with self._errors("stat", key):
            blob = self.client.bucket(self.bucket_name).get_blob(
                name, retry=self._retry, timeout=self.timeout)
        if blob is None:
            raise NotFound(f"no object {key!r} in bucket {self.bucket_name!r}", key=key,
                           bucket=self.bucket_name)
        return blob

    @staticmethod
    def _stat_blob(key: str, blob: Any) -> StoredObject:
        updated = blob.updated
        return StoredObject(key, int(blob.size or 0),
                            blob.content_type or "application/octet-stream",
                            modified=float(updated.timestamp()) if updated else None)

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Objects under folder ``prefix`` (recursively; all when empty), natural order."""
        start = folder_prefix(prefix) if prefix else ""
        full = join_prefix(self.prefix, start[:-1]) + "/" if start else (
            self.prefix + "/" if self.prefix else "")
        with self._errors("list", prefix):
            blobs = list(self.client.list_blobs(self.bucket_name, prefix=full or None,
                                                retry=self._retry, timeout=self.timeout))
        found = [self._stat_blob(strip_prefix(self.prefix, b.name), b) for b in blobs]
        return sorted(found, key=lambda o: natural_key(o.key))


class FirebaseStorage(GcsStorage):
    """A Firebase Storage bucket (a GCS bucket) handing out Firebase download URLs.

    Every put stores a fresh random token in ``firebaseStorageDownloadTokens``;
    ``url()`` builds ``<download_endpoint>/b/<bucket>/o/<encoded object>?alt=media&token=…``
    from it (adding a token first to objects that have none). ``download_endpoint``
    defaults to Firebase's public host; point it elsewhere for emulators.
    """

    name = "firebase"

    def __init__(self, client: Any, bucket: str, prefix: str = "", *,
                 download_endpoint: str = FIREBASE_DOWNLOAD_ENDPOINT, **kwargs: Any) -> None:
        super().__init__(client, bucket, prefix, **kwargs)
        self.download_endpoint = download_endpoint.rstrip("/")

    def _metadata_for_put(self) -> dict[str, str] | None:
        return {FIREBASE_TOKEN_METADATA: str(uuid.uuid4())}

    def download_token(self, key: str) -> str:
        """The object's first download token, created (metadata patch) when it has none."""
        blob = self._get_blob(key)
        tokens = str((blob.metadata or {}).get(FIREBASE_TOKEN_METADATA, ""))
        token = tokens.split(",")[0].strip()
        if not token:
            token = str(uuid.uuid4())
            blob.metadata = {**(blob.metadata or {}), FIREBASE_TOKEN_METADATA: token}
            with self._errors("add a download token to", key):
                blob.patch(retry=self._retry, timeout=self.timeout)
        return token

    def url(self, key: str) -> str:
        """The Firebase download URL of ``key``; NotFound when the object is missing."""
        token = self.download_token(key)
        name = join_prefix(self.prefix, key)
        return (f"{self.download_endpoint}/b/{quote(self.bucket_name, safe='')}/o/"
                f"{quote(name, safe='')}?alt=media&token={quote(token, safe='')}")
