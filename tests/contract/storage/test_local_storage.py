"""The storage contract on local disk (``file://`` URLs read straight from disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from tests.contract.storage.storage_contract import StorageContract

from videogen_adapters.storage import LocalDiskStorage


class TestLocalDiskStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path_factory: pytest.TempPathFactory) -> LocalDiskStorage:
        return LocalDiskStorage(tmp_path_factory.mktemp("data") / "root")

    def download(self, storage: Any, url: str) -> bytes:
        parts = urlsplit(url)
        assert parts.scheme == "file" and parts.netloc == "", url
        path = Path(unquote(parts.path))
        assert path.is_relative_to(storage.root)
        return path.read_bytes()
