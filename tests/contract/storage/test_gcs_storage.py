"""The storage contract on GCS and Firebase, against a real gcp-storage-emulator process."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
import pytest
from tests.contract.storage.storage_contract import StorageContract
from tests.servers import RunningServer, gcs_client

from videogen_adapters.config import Settings
from videogen_adapters.storage import FirebaseStorage, GcsStorage, build_storage
from videogen_adapters.storage.gcs import FIREBASE_TOKEN_METADATA
from videogen_core import NotFound, StorageFailed

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


class TestGcsStoragePublicUrl(StorageContract):
    """Public URLs: the emulator serves ``/<bucket>/<object>`` like storage.googleapis.com."""

    @pytest.fixture
    def storage(self, gcs_session: RunningServer) -> GcsStorage:
        client, bucket = new_bucket(gcs_session)
        return GcsStorage(client, bucket, prefix="pub",
                          public_base_url=f"{gcs_session.url}/{bucket}",
                          resumable_threshold=1 * MiB, chunk_size=1 * MiB, retry_deadline=5)


# ----------------------------------------------------------- GCS specifics
@pytest.fixture
def gcs(gcs_session: RunningServer, signing_credentials: Any) -> GcsStorage:
    client, bucket = new_bucket(gcs_session)
    return GcsStorage(client, bucket, prefix="pre", signing_credentials=signing_credentials,
                      api_access_endpoint=gcs_session.url, url_expiry=600,
                      resumable_threshold=1 * MiB, chunk_size=1 * MiB, retry_deadline=5)


@pytest.fixture
def firebase(gcs_session: RunningServer) -> FirebaseStorage:
    client, bucket = new_bucket(gcs_session)
    return FirebaseStorage(client, bucket, prefix="users/u1", retry_deadline=5)


def test_signed_url_is_v4_with_the_expiry(gcs: GcsStorage, gcs_session: RunningServer) -> None:
    gcs.put_bytes(b"v", "f/final.mp4", "video/mp4")
    url = gcs.url("f/final.mp4")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == gcs_session.url
    assert parts.path == f"/{gcs.bucket_name}/pre/f/final.mp4"
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Expires"] == ["600"]
    assert len(query["X-Goog-Signature"][0]) == 512  # hex RSA-2048 signature


def test_large_files_go_up_as_chunked_resumable_uploads(
        gcs: GcsStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud.storage.blob import Blob

    chunk_sizes = []
    original = Blob._do_upload

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        chunk_sizes.append(self.chunk_size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Blob, "_do_upload", spy)
    big, small = tmp_path / "big.mp4", tmp_path / "small.png"
    big.write_bytes(os.urandom(3 * MiB + 5))
    small.write_bytes(b"small")
    gcs.put(big, "v/big.mp4", "video/mp4")
    gcs.put(small, "v/small.png", "image/png")
    assert chunk_sizes == [1 * MiB, None]
    assert gcs.read_bytes("v/big.mp4") == big.read_bytes()
    blob = gcs.client.bucket(gcs.bucket_name).get_blob("pre/v/big.mp4")
    assert blob.content_type == "video/mp4"


def test_firebase_url_is_well_formed_with_the_token_from_metadata(
        firebase: FirebaseStorage) -> None:
    firebase.put_bytes(b"v", "f/my video.mp4", "video/mp4")
    url = firebase.url("f/my video.mp4")
    blob = firebase.client.bucket(firebase.bucket_name).get_blob("users/u1/f/my video.mp4")
    token = blob.metadata[FIREBASE_TOKEN_METADATA]
    uuid.UUID(token)  # a random v4 UUID, like Firebase's own
    assert url == (f"https://firebasestorage.googleapis.com/v0/b/{firebase.bucket_name}/o/"
                   f"users%2Fu1%2Ff%2Fmy%20video.mp4?alt=media&token={token}")
    assert firebase.url("f/my video.mp4") == url  # stable while the object is unchanged


def test_firebase_url_for_an_object_without_token_adds_one(
        firebase: FirebaseStorage, gcs_session: RunningServer) -> None:
    plain = firebase.client.bucket(firebase.bucket_name).blob("users/u1/f/foreign.png")
    plain.upload_from_string(b"uploaded by someone else", content_type="image/png")
    assert not (plain.metadata or {}).get(FIREBASE_TOKEN_METADATA)
    url = firebase.url("f/foreign.png")
    token = parse_qs(urlsplit(url).query)["token"][0]
    stored = firebase.client.bucket(firebase.bucket_name).get_blob("users/u1/f/foreign.png")
    assert stored.metadata[FIREBASE_TOKEN_METADATA] == token
    # the same object key answers on the emulator's ?alt=media path
    emulator_url = url.replace("https://firebasestorage.googleapis.com/v0",
                               f"{gcs_session.url}/storage/v1")
    assert httpx.get(emulator_url).content == b"uploaded by someone else"


def test_firebase_overwrite_rotates_the_token(firebase: FirebaseStorage) -> None:
    firebase.put_bytes(b"one", "f/a.png", "image/png")
    first = firebase.download_token("f/a.png")
    firebase.put_bytes(b"two", "f/a.png", "image/png")
    assert firebase.download_token("f/a.png") != first


def test_firebase_url_of_a_missing_object_is_not_found(firebase: FirebaseStorage) -> None:
    with pytest.raises(NotFound):
        firebase.url("f/absent.png")


def test_build_storage_selects_gcs_and_firebase(gcs_session: RunningServer) -> None:
    client, bucket = new_bucket(gcs_session)
    settings = Settings(storage="gcs", gcs_bucket=bucket, gcs_prefix="x",
                        gcs_public_base_url=f"{gcs_session.url}/{bucket}")
    storage = build_storage(settings, client=client)
    assert type(storage) is GcsStorage
    storage.put_bytes(b"via settings", "f/a.png", "image/png")
    assert httpx.get(storage.url("f/a.png")).content == b"via settings"
    firebase = build_storage(attrs.evolve(settings, storage="firebase"), client=client)
    assert type(firebase) is FirebaseStorage
    assert firebase.public_base_url == ""  # Firebase hands out download URLs
    assert firebase.list_images("f") == ["f/a.png"]


def test_check_reports_a_missing_bucket(gcs_session: RunningServer) -> None:
    storage = GcsStorage(gcs_client(gcs_session), "no-such-bucket-here", retry_deadline=0)
    with pytest.raises(StorageFailed, match="bucket 'no-such-bucket-here' does not exist"):
        storage.check()
