"""build_storage(): the adapter chosen by configuration, nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videogen_adapters.config import Settings
from videogen_adapters.storage import (
    FirebaseStorage,
    GcsStorage,
    InMemoryStorage,
    LocalDiskStorage,
    S3Storage,
    build_storage,
)
from videogen_core import InvalidRequest


def test_local_is_the_default(tmp_path: Path) -> None:
    storage = build_storage(Settings(data_dir=tmp_path / "data"))
    assert isinstance(storage, LocalDiskStorage)
    assert storage.root == (tmp_path / "data").resolve()
    assert storage.url("f/a.png").startswith("file://")


def test_local_public_base_url_argument_wins_over_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_base_url="https://from-settings")
    assert build_storage(settings).url("f/a.png") == "https://from-settings/media/f/a.png"
    assert build_storage(settings, public_base_url="http://127.0.0.1:8000").url(
        "f/a.png") == "http://127.0.0.1:8000/media/f/a.png"
    assert build_storage(settings, public_base_url="").url("f/a.png").startswith("file://")


def test_memory() -> None:
    assert isinstance(build_storage(Settings(storage="memory")), InMemoryStorage)


@pytest.mark.parametrize(("kind", "variable"), [("s3", "VIDEOGEN_S3_BUCKET"),
                                                ("gcs", "VIDEOGEN_GCS_BUCKET"),
                                                ("firebase", "VIDEOGEN_GCS_BUCKET")])
def test_cloud_storage_without_bucket_is_a_clear_error(kind: str, variable: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        build_storage(Settings(storage=kind), client=object())
    assert caught.value.field == variable


def test_cloud_adapters_take_an_injected_client() -> None:
    client = object()
    s3 = build_storage(Settings(storage="s3", s3_bucket="b", s3_prefix="/p/",
                                s3_public_base_url="https://cdn.example"), client=client)
    assert isinstance(s3, S3Storage) and s3.client is client
    assert (s3.bucket, s3.prefix) == ("b", "p")
    assert s3.url("f/a.png") == "https://cdn.example/p/f/a.png"
    gcs = build_storage(Settings(storage="gcs", gcs_bucket="g", url_expiry=99), client=client)
    assert type(gcs) is GcsStorage and gcs.url_expiry == 99
    firebase = build_storage(Settings(storage="firebase", gcs_bucket="g"), client=client)
    assert type(firebase) is FirebaseStorage


def test_s3_factory_honours_endpoint_and_region() -> None:
    storage = build_storage(Settings(storage="s3", s3_bucket="b",
                                     s3_endpoint_url="http://127.0.0.1:9000",
                                     s3_region="eu-west-3"))
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert storage.client.meta.region_name == "eu-west-3"
    assert storage.client.meta.config.s3["addressing_style"] == "path"


def test_importing_and_using_local_storage_loads_no_cloud_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from videogen_adapters.config import Settings\n"
        "from videogen_adapters.storage import build_storage\n"
        f"s = build_storage(Settings(data_dir={str(tmp_path)!r}))\n"
        "s.put_bytes(b'x', 'f/a.png'); s.list_images('f')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'google'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("expiry", [0, -5, 7 * 24 * 3600 + 1])
def test_signed_url_expiry_is_bounded(expiry: int) -> None:
    for kind, bucket in (("s3", {"s3_bucket": "b"}), ("gcs", {"gcs_bucket": "g"})):
        with pytest.raises(InvalidRequest) as caught:
            build_storage(Settings(storage=kind, url_expiry=expiry, **bucket), client=object())
        assert caught.value.field == "VIDEOGEN_URL_EXPIRY"
