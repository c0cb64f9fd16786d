"""The storage contract on S3, against a real ``moto_server`` process."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.contract.storage.storage_contract import StorageContract
from tests.servers import RunningServer, s3_client

from videogen_adapters.storage import S3Storage

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
