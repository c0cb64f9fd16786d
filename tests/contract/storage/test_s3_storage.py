"""The storage contract on S3, against a real ``moto_server`` process."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError
from tests.contract.storage.storage_contract import StorageContract
from tests.servers import RunningServer, s3_client

from videogen_adapters.config import Settings
from videogen_adapters.storage import S3Storage, build_storage
from videogen_core import StorageFailed

pytestmark = pytest.mark.server

MiB = 1024 * 1024


def new_bucket(server: RunningServer) -> tuple[Any, str]:
    client = s3_client(server)
    bucket = f"videogen-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


class TestS3Storage(StorageContract):
    """Presigned URLs, a key prefix, multipart above 5 MiB (S3's minimum part size)."""

    @pytest.fixture
    def storage(self, moto_session: RunningServer) -> S3Storage:
        client, bucket = new_bucket(moto_session)
        return S3Storage(client, bucket, prefix="tenant/videogen", url_expiry=600,
                         multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)


class TestS3StorageNoPrefixPublicUrl(StorageContract):
    """No prefix; URLs from a public base URL (here moto's path-style bucket URL)."""

    @pytest.fixture
    def storage(self, moto_session: RunningServer) -> S3Storage:
        client, bucket = new_bucket(moto_session)
        client.put_bucket_acl(Bucket=bucket, ACL="public-read")
        return S3Storage(client, bucket, public_base_url=f"{moto_session.url}/{bucket}",
                         multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)


# ------------------------------------------------------------ S3 specifics
@pytest.fixture
def s3(moto_session: RunningServer) -> S3Storage:
    client, bucket = new_bucket(moto_session)
    return S3Storage(client, bucket, prefix="tenant/videogen", url_expiry=600,
                     multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)


def test_objects_live_under_the_prefix_with_their_content_type(s3: S3Storage) -> None:
    s3.put_bytes(b"png", "f/a.png", "image/png")
    raw = s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert [o["Key"] for o in raw] == ["tenant/videogen/f/a.png"]
    head = s3.client.head_object(Bucket=s3.bucket, Key="tenant/videogen/f/a.png")
    assert head["ContentType"] == "image/png"
    assert s3.list_images("f") == ["f/a.png"]


def test_large_files_use_multipart_and_small_ones_do_not(s3: S3Storage, tmp_path: Path) -> None:
    big, small = tmp_path / "big.mp4", tmp_path / "small.mp4"
    big.write_bytes(os.urandom(6 * MiB))
    small.write_bytes(b"tiny")
    s3.put(big, "v/big.mp4", "video/mp4")
    s3.put(small, "v/small.mp4", "video/mp4")
    etag = s3.client.head_object(Bucket=s3.bucket, Key="tenant/videogen/v/big.mp4")["ETag"]
    assert etag.strip('"').endswith("-2")  # a 5 MiB part and a 1 MiB part
    head = s3.client.head_object(Bucket=s3.bucket, Key="tenant/videogen/v/big.mp4")
    assert head["ContentType"] == "video/mp4"
    etag = s3.client.head_object(Bucket=s3.bucket, Key="tenant/videogen/v/small.mp4")["ETag"]
    assert "-" not in etag


def test_a_failed_multipart_upload_leaves_no_object(s3: S3Storage, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(6 * MiB))
    calls = []

    def fail_second_part(params: dict[str, Any], **kwargs: Any) -> None:
        calls.append(params["PartNumber"])
        if params["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "disk on fire"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "UploadPart")

    s3.client.meta.events.register("provide-client-params.s3.UploadPart", fail_second_part)
    with pytest.raises(StorageFailed) as caught:
        s3.put(big, "v/big.mp4", "video/mp4")
    assert "disk on fire" in caught.value.details["reason"]
    assert 2 in calls
    assert not s3.exists("v/big.mp4")
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_presigned_url_carries_the_expiry_and_a_signature(s3: S3Storage) -> None:
    s3.put_bytes(b"v", "f/final.mp4", "video/mp4")
    url = s3.url("f/final.mp4")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0]
    assert urlsplit(url).path == f"/{s3.bucket}/tenant/videogen/f/final.mp4"


def test_public_base_url_is_used_verbatim(moto_session: RunningServer) -> None:
    client, bucket = new_bucket(moto_session)
    storage = S3Storage(client, bucket, "p", public_base_url="https://cdn.example/media/")
    assert storage.url("f/a b.mp4") == "https://cdn.example/media/p/f/a%20b.mp4"


def test_missing_bucket_is_storage_failed_with_the_reason(moto_session: RunningServer,
                                                          tmp_path: Path) -> None:
    storage = S3Storage(s3_client(moto_session), "no-such-bucket-here")
    source = tmp_path / "a.png"
    source.write_bytes(b"x")
    with pytest.raises(StorageFailed, match="NoSuchBucket"):
        storage.put(source, "f/a.png", "image/png")
    with pytest.raises(StorageFailed, match="NoSuchBucket") as caught:
        storage.list_images("f")
    assert caught.value.details["bucket"] == "no-such-bucket-here"
    with pytest.raises(StorageFailed, match="bucket 'no-such-bucket-here' does not exist"):
        storage.check()


def test_from_settings_builds_a_working_client(moto_session: RunningServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto_session.env.items():
        monkeypatch.setenv(name, value)
    _client, bucket = new_bucket(moto_session)
    settings = Settings(storage="s3", s3_bucket=bucket, s3_prefix="pre",
                        s3_endpoint_url=moto_session.url, url_expiry=120)
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    storage.put_bytes(b"hello", "f/a.png", "image/png")
    assert storage.list_images("f") == ["f/a.png"]
    url = storage.url("f/a.png")
    assert "X-Amz-Expires=120" in url
    assert httpx.get(url).content == b"hello"
