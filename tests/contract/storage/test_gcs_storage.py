"""The storage contract on GCS and Firebase, against a real gcp-storage-emulator process."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.contract.storage.storage_contract import StorageContract
from tests.servers import RunningServer, gcs_client

from videogen_adapters.storage import FirebaseStorage, GcsStorage

pytestmark = pytest.mark.server

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def signing_credentials() -> Any:
    """A throwaway service-account key: the emulator accepts URLs it signs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return service_account.Credentials.from_service_account_info({
        "type": "service_account",
        "client_email": "videogen-test@example.iam.gserviceaccount.com",
        "private_key": pem,
        "token_uri": "https://oauth2.googleapis.com/token",
        "project_id": "test",
    })


def new_bucket(server: RunningServer) -> tuple[Any, str]:
    client = gcs_client(server)
    name = f"videogen-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return client, name


class TestGcsStorage(StorageContract):
    """V4 signed URLs; chunked resumable uploads above 1 MiB."""

    @pytest.fixture
    def storage(self, gcs_session: RunningServer, signing_credentials: Any) -> GcsStorage:
        client, bucket = new_bucket(gcs_session)
        return GcsStorage(client, bucket, signing_credentials=signing_credentials,
                          api_access_endpoint=gcs_session.url, url_expiry=600,
                          resumable_threshold=1 * MiB, chunk_size=1 * MiB, retry_deadline=5)


class TestFirebaseStorage(StorageContract):
    """Firebase download URLs, served by the emulator's JSON API ``?alt=media`` path."""

    @pytest.fixture
    def storage(self, gcs_session: RunningServer) -> FirebaseStorage:
        client, bucket = new_bucket(gcs_session)
        return FirebaseStorage(client, bucket, prefix="users/u1",
                               download_endpoint=f"{gcs_session.url}/storage/v1",
                               resumable_threshold=1 * MiB, chunk_size=1 * MiB,
                               retry_deadline=5)
