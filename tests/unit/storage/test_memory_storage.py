"""InMemoryStorage specifics: thread safety and its URL reader."""

from __future__ import annotations

import threading

import pytest

from videogen_adapters.storage import InMemoryStorage
from videogen_core import NotFound


def test_concurrent_writers_and_readers_never_see_torn_state() -> None:
    storage = InMemoryStorage()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(100):
                key = f"t{n}/obj{i}.bin"
                storage.put_bytes(bytes([n]) * 64, key)
                assert storage.read_bytes(key) == bytes([n]) * 64
                assert storage.list_images(f"t{n}") == []
                if i % 20 == 0:
                    assert {o.size for o in storage.list()} == {64}
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(storage.list()) == 8 * 100


def test_read_url_refuses_urls_of_other_instances() -> None:
    first, second = InMemoryStorage({"f/a.png": b"1"}), InMemoryStorage({"f/a.png": b"2"})
    assert first.read_url(first.url("f/a.png")) == b"1"
    with pytest.raises(NotFound):
        second.read_url(first.url("f/a.png"))
    with pytest.raises(NotFound):
        first.read_url("https://example.invalid/f/a.png")


def test_initial_objects_and_copy_semantics() -> None:
    data = bytearray(b"abc")
    storage = InMemoryStorage()
    storage.put_bytes(data, "f/a.png")
    data[0] = ord("z")
    assert storage.read_bytes("f/a.png") == b"abc"
