"""Foreign storage errors are translated at the adapter edge (no servers needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from google.api_core import exceptions as gax
from tests.servers import free_port

from videogen_adapters.storage import GcsStorage, S3Storage
from videogen_adapters.storage.gcs import map_gcs_errors
from videogen_adapters.storage.s3 import make_s3_client, map_s3_errors
from videogen_core import NotFound, ServiceUnavailable, StorageFailed


def client_error(code: str, message: str = "backend says no", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


# ----------------------------------------------------------------------- S3
@pytest.mark.parametrize("code", ["NoSuchKey", "404", "NotFound"])
def test_s3_missing_object_is_not_found(code: str) -> None:
    with pytest.raises(NotFound) as caught, map_s3_errors("fetch", "f/a.png", "bkt"):
        raise client_error(code, status=404)
    assert caught.value.details == {"key": "f/a.png", "bucket": "bkt"}
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize("code", ["SlowDown", "ServiceUnavailable"])
def test_s3_throttling_is_service_unavailable(code: str) -> None:
    with pytest.raises(ServiceUnavailable), map_s3_errors("put", "k"):
        raise client_error(code, status=503)


def test_s3_other_client_errors_keep_the_backend_reason() -> None:
    with pytest.raises(StorageFailed) as caught, map_s3_errors("put", "f/a.png", "bkt"):
        raise client_error("AccessDenied", "Access Denied by bucket policy", 403)
    assert caught.value.details["reason"] == "AccessDenied: Access Denied by bucket policy"
    assert caught.value.details["status"] == 403
    assert caught.value.details["operation"] == "put"
    assert "Access Denied by bucket policy" in caught.value.message


@pytest.mark.parametrize("error", [
    EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
])
def test_s3_connection_failures_are_service_unavailable(error: Exception) -> None:
    with pytest.raises(ServiceUnavailable) as caught, map_s3_errors("list", "f"):
        raise error
    assert caught.value.details["service"] == "s3"


def test_s3_missing_credentials_is_storage_failed() -> None:
    with pytest.raises(StorageFailed, match="credentials"), map_s3_errors("put", "k"):
        raise NoCredentialsError()


def test_s3_dead_endpoint_is_service_unavailable(tmp_path: Path) -> None:
    client = make_s3_client(endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1,
                            connect_timeout=1, read_timeout=1, aws_access_key_id="x",
                            aws_secret_access_key="x")
    storage = S3Storage(client, "bucket")
    source = tmp_path / "a.png"
    source.write_bytes(b"x")
    for operation in (lambda: storage.put(source, "f/a.png", "image/png"),
                      lambda: storage.fetch("f/a.png", tmp_path / "out.png"),
                      lambda: storage.list_images("f"),
                      lambda: storage.exists("f/a.png"),
                      lambda: storage.delete("f/a.png"),
                      storage.check):
        with pytest.raises(ServiceUnavailable) as caught:
            operation()
        assert "Could not connect" in caught.value.details["reason"]
    assert not (tmp_path / "out.png").exists()


# ---------------------------------------------------------------------- GCS
def test_gcs_not_found_and_call_errors() -> None:
    with pytest.raises(NotFound), map_gcs_errors("gcs", "fetch", "k", "b"):
        raise gax.NotFound("No such object: b/k")
    with pytest.raises(StorageFailed) as caught, map_gcs_errors("gcs", "put", "k", "b"):
        raise gax.Forbidden("caller does not have storage.objects.create access")
    assert caught.value.details["reason"] == "caller does not have storage.objects.create access"
    assert caught.value.details["status"] == 403
    with pytest.raises(ServiceUnavailable), map_gcs_errors("firebase", "put", "k", "b"):
        raise gax.ServiceUnavailable("backend down")


def test_gcs_dead_endpoint_is_service_unavailable(tmp_path: Path) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs

    client = gcs.Client(project="p", credentials=AnonymousCredentials(),
                        client_options={"api_endpoint": f"http://127.0.0.1:{free_port()}"})
    storage = GcsStorage(client, "bucket", retry_deadline=0, timeout=2)
    source = tmp_path / "a.png"
    source.write_bytes(b"x")
    for operation in (lambda: storage.put(source, "f/a.png", "image/png"),
                      lambda: storage.fetch("f/a.png", tmp_path / "out.png"),
                      lambda: storage.list_images("f"),
                      lambda: storage.exists("f/a.png"),
                      storage.check):
        with pytest.raises(ServiceUnavailable) as caught:
            operation()
        assert caught.value.details["service"] == "gcs"
    assert not (tmp_path / "out.png").exists()


def test_gcs_url_without_signing_key_is_storage_failed() -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs

    client = gcs.Client(project="p", credentials=AnonymousCredentials())
    with pytest.raises(StorageFailed) as caught:
        GcsStorage(client, "bucket").url("f/a.png")
    assert caught.value.details["operation"] == "sign a URL for"
