"""The storage contract on the shipped in-memory fake."""

from __future__ import annotations

from typing import Any

import pytest
from tests.contract.storage.storage_contract import StorageContract

from videogen_adapters.storage import InMemoryStorage


class TestInMemoryStorage(StorageContract):
    @pytest.fixture
    def storage(self) -> InMemoryStorage:
        return InMemoryStorage()

    def download(self, storage: Any, url: str) -> bytes:
        assert url.startswith(f"memory://{storage.instance}/"), url
        return storage.read_url(url)
