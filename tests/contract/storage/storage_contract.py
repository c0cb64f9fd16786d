"""The one contract every ``Storage`` adapter must pass.

Subclass :class:`StorageContract` and provide a ``storage`` fixture returning
an empty adapter (a fresh bucket, directory or instance per test); override
:meth:`StorageContract.download` when the adapter's URLs are not plain
HTTP(S) (``file://`` for local disk, ``memory://`` for the fake).

Besides the port operations the suite uses the helpers every shipped
adapter offers: ``put_bytes``, ``read_bytes``, ``stat``, ``list`` and ``check``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from videogen_core import NotFound, PathNotAllowed, Storage

__all__ = ["BAD_FOLDERS", "BAD_KEYS", "LARGE_SIZE", "StorageContract"]

#: Keys every adapter must refuse with PathNotAllowed, whatever the operation.
BAD_KEYS = [
    "../escape.png",
    "folder/../../escape.png",
    "folder/..",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "c:escape.png",
    "folder\\escape.png",
    "..\\escape.png",
    "folder/a\x00.png",
    "folder/a\n.png",
    "",
    "folder//a.png",
    "folder/",
    "./a.png",
    "folder/./a.png",
    "x" * 1100,
]
BAD_FOLDERS = ["..", "../other", "/", "/abs", "a/../..", "a//b", "a\x00b", "", "C:\\data"]

#: Bigger than the multipart / resumable thresholds the test adapters are built with.
LARGE_SIZE = 6 * 1024 * 1024 + 123

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class StorageContract:
    """Behaviour shared by all storage adapters (see the module docstring)."""

    @pytest.fixture
    def storage(self) -> Any:
        """An empty adapter under test."""
        raise NotImplementedError

    def download(self, storage: Any, url: str) -> bytes:
        """Fetch ``url`` as a client would; HTTP(S) through httpx."""
        assert url.startswith(("http://", "https://")), url
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        return response.content

    # ------------------------------------------------------------ helpers
    @staticmethod
    def put_file(storage: Any, tmp_path: Path, key: str, data: bytes,
                 content_type: str = "application/octet-stream") -> str:
        source = tmp_path / "upload" / key.replace("/", "_")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        return storage.put(source, key, content_type)

    # -------------------------------------------------------------- shape
    def test_fits_the_port(self, storage: Any) -> None:
        port_methods = ["list_images", "fetch", "put", "url", "exists", "delete"]
        for method in [*port_methods, "put_bytes", "read_bytes", "stat", "list", "check"]:
            assert callable(getattr(storage, method)), method
            assert getattr(type(storage), method).__doc__, f"{method} has no docstring"
        assert isinstance(storage.name, str) and storage.name
        checked: Storage = storage  # structural fit for type checkers
        assert checked is storage

    def test_check_passes_on_a_healthy_backend(self, storage: Any) -> None:
        assert storage.check() is None
        storage.put_bytes(b"x", "f/a.png")
        assert storage.check() is None

    # ------------------------------------------------------- put / fetch
    def test_put_then_fetch_round_trips_bytes(self, storage: Any, tmp_path: Path) -> None:
        returned = self.put_file(storage, tmp_path, "job1/videos/final.mp4", b"\x00video\xff",
                                 "video/mp4")
        assert returned == "job1/videos/final.mp4"
        destination = tmp_path / "out" / "deeper" / "copy.mp4"  # parents are created
        assert storage.fetch("job1/videos/final.mp4", destination) == destination
        assert destination.read_bytes() == b"\x00video\xff"
        assert storage.exists("job1/videos/final.mp4")
        info = storage.stat("job1/videos/final.mp4")
        assert (info.key, info.size, info.content_type) == ("job1/videos/final.mp4", 7,
                                                            "video/mp4")

    def test_content_type_is_stored(self, storage: Any, tmp_path: Path) -> None:
        self.put_file(storage, tmp_path, "f/scene_1.png", PNG, "image/png")
        assert storage.stat("f/scene_1.png").content_type == "image/png"
        assert storage.stat("f/scene_1.png").size == len(PNG)

    def test_put_overwrites(self, storage: Any, tmp_path: Path) -> None:
        self.put_file(storage, tmp_path, "f/a.png", b"first version, longer")
        self.put_file(storage, tmp_path, "f/a.png", b"second")
        assert storage.read_bytes("f/a.png") == b"second"
        destination = tmp_path / "a.png"
        destination.write_bytes(b"old local content that is longer")
        storage.fetch("f/a.png", destination)
        assert destination.read_bytes() == b"second"
        assert [o.key for o in storage.list("f")] == ["f/a.png"]

    def test_put_of_a_missing_source_is_not_found(self, storage: Any, tmp_path: Path) -> None:
        with pytest.raises(NotFound):
            storage.put(tmp_path / "nope.png", "f/a.png", "image/png")
        assert not storage.exists("f/a.png")

    def test_fetch_missing_is_not_found_and_writes_nothing(self, storage: Any,
                                                           tmp_path: Path) -> None:
        storage.put_bytes(b"x", "f/present.png")
        destination = tmp_path / "dest.png"
        with pytest.raises(NotFound):
            storage.fetch("f/absent.png", destination)
        assert not destination.exists()
        assert [p.name for p in tmp_path.iterdir()] == []  # no temp file left behind
        with pytest.raises(NotFound):
            storage.read_bytes("f/absent.png")
        with pytest.raises(NotFound):
            storage.stat("f/absent.png")

    def test_large_file_round_trip(self, storage: Any, tmp_path: Path) -> None:
        data = os.urandom(LARGE_SIZE)
        self.put_file(storage, tmp_path, "big/final.mp4", data, "video/mp4")
        assert storage.stat("big/final.mp4").size == LARGE_SIZE
        destination = tmp_path / "big.mp4"
        storage.fetch("big/final.mp4", destination)
        assert destination.read_bytes() == data
        assert self.download(storage, storage.url("big/final.mp4")) == data

    # ------------------------------------------------- exists / delete
    def test_exists_and_delete(self, storage: Any) -> None:
        assert not storage.exists("f/a.png")
        storage.put_bytes(b"abc", "f/a.png")
        storage.put_bytes(b"keep", "f/b.png")
        assert storage.exists("f/a.png")
        assert not storage.exists("f")  # a folder is not an object
        storage.delete("f/a.png")
        assert not storage.exists("f/a.png")
        storage.delete("f/a.png")  # already gone: no error
        storage.delete("never/was.png")
        assert storage.read_bytes("f/b.png") == b"keep"

    # ------------------------------------------------------ list_images
    def test_list_images_natural_order_images_only_direct_children(self, storage: Any) -> None:
        names = ["img10.png", "img2.jpg", "img1.PNG", "scene_3.webp", "b.JPEG", "a.gif",
                 "c.bmp", "d.tif", "e.tiff", "notes.txt", "final.mp4", ".hidden.png",
                 "png", "sub/deeper.png"]
        for name in names:
            storage.put_bytes(b"x", f"shots/{name}")
        storage.put_bytes(b"x", "shots2/img0.png")  # a sibling sharing the prefix
        storage.put_bytes(b"x", "other/img0.png")
        assert storage.list_images("shots") == [
            "shots/a.gif", "shots/b.JPEG", "shots/c.bmp", "shots/d.tif", "shots/e.tiff",
            "shots/img1.PNG", "shots/img2.jpg", "shots/img10.png", "shots/scene_3.webp",
        ]
        assert storage.list_images("shots/sub") == ["shots/sub/deeper.png"]

    def test_list_images_natural_order_of_numbers(self, storage: Any) -> None:
        for name in ["10.png", "9.png", "100.png", "1.png", "frame-2.png", "frame-11.png"]:
            storage.put_bytes(b"x", f"n/{name}")
        assert storage.list_images("n") == ["n/1.png", "n/9.png", "n/10.png", "n/100.png",
                                            "n/frame-2.png", "n/frame-11.png"]

    def test_list_images_of_a_missing_folder_is_not_found(self, storage: Any) -> None:
        storage.put_bytes(b"x", "present/a.png")
        with pytest.raises(NotFound):
            storage.list_images("absent")
        with pytest.raises(NotFound):
            storage.list_images("presen")  # a prefix of a folder is not the folder

    def test_list_images_of_a_folder_without_images_is_empty(self, storage: Any) -> None:
        storage.put_bytes(b"x", "docs/readme.txt")
        storage.put_bytes(b"x", "docs/inner/a.png")
        assert storage.list_images("docs") == []

    def test_list_helper_is_recursive_and_natural(self, storage: Any) -> None:
        for key in ["f/a10.png", "f/a2.png", "f/videos/out.mp4", "g/z.png"]:
            storage.put_bytes(b"xy", key)
        assert [o.key for o in storage.list("f")] == ["f/a2.png", "f/a10.png",
                                                      "f/videos/out.mp4"]
        assert [o.key for o in storage.list()] == ["f/a2.png", "f/a10.png",
                                                   "f/videos/out.mp4", "g/z.png"]
        assert {o.size for o in storage.list()} == {2}

    def test_stat_and_list_say_when_an_object_was_last_written(self, storage: Any) -> None:
        before = time.time()
        storage.put_bytes(b"one", "m/a.bin")
        first = storage.stat("m/a.bin").modified
        # the backend's clock (second resolution on S3), close to this machine's
        assert first is not None and before - 5 <= first <= time.time() + 5
        assert [o.modified for o in storage.list("m")] == [first]
        time.sleep(1.1)  # S3 keeps whole seconds
        storage.put_bytes(b"two", "m/a.bin")  # a rewrite moves it on
        assert storage.stat("m/a.bin").modified > first
        assert storage.list("m")[0].modified == storage.stat("m/a.bin").modified
        # ``modified`` describes a write, not the object: equality ignores it
        assert storage.stat("m/a.bin") == attrs.evolve(storage.stat("m/a.bin"), modified=0.0)

    # -------------------------------------------------------------- urls
    def test_url_downloads_the_same_bytes(self, storage: Any, tmp_path: Path) -> None:
        self.put_file(storage, tmp_path, "job/videos/final.mp4", b"the video bytes", "video/mp4")
        assert self.download(storage, storage.url("job/videos/final.mp4")) == b"the video bytes"

    def test_url_of_a_key_needing_escapes(self, storage: Any, tmp_path: Path) -> None:
        key = "my folder/scène #1 & more?.png"
        self.put_file(storage, tmp_path, key, PNG, "image/png")
        url = storage.url(key)
        assert " " not in url and "#" not in url.split("?")[0]
        assert self.download(storage, url) == PNG
        assert storage.list_images("my folder") == [key]

    def test_url_after_overwrite_serves_new_bytes(self, storage: Any) -> None:
        storage.put_bytes(b"one", "f/v.mp4", "video/mp4")
        storage.put_bytes(b"two", "f/v.mp4", "video/mp4")
        assert self.download(storage, storage.url("f/v.mp4")) == b"two"

    # ------------------------------------------------------- bad keys
    def test_bad_keys_are_refused_everywhere(self, storage: Any, tmp_path: Path) -> None:
        source = tmp_path / "src.png"
        source.write_bytes(b"x")
        for key in BAD_KEYS:
            operations = {
                "put": lambda k=key: storage.put(source, k, "image/png"),
                "put_bytes": lambda k=key: storage.put_bytes(b"x", k),
                "fetch": lambda k=key: storage.fetch(k, tmp_path / "out.png"),
                "url": lambda k=key: storage.url(k),
                "exists": lambda k=key: storage.exists(k),
                "delete": lambda k=key: storage.delete(k),
                "read_bytes": lambda k=key: storage.read_bytes(k),
                "stat": lambda k=key: storage.stat(k),
            }
            if key:  # list("") means "everything"
                operations["list"] = lambda k=key: storage.list(k)
            for name, operation in operations.items():
                with pytest.raises(PathNotAllowed) as caught:
                    operation()
                assert caught.value.details["key"] == key, (name, key)
                assert caught.value.code == "path_not_allowed"
        assert not (tmp_path / "out.png").exists()
        assert storage.list() == []  # nothing was written anywhere visible

    def test_bad_folder_ids_are_refused(self, storage: Any) -> None:
        storage.put_bytes(b"x", "a/b/c.png")
        for folder in BAD_FOLDERS:
            with pytest.raises(PathNotAllowed) as caught:
                storage.list_images(folder)
            assert caught.value.field == "folder_id", folder
