"""LocalDiskStorage specifics: symlink escapes, atomic writes, disk errors, URLs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from videogen_adapters.storage import LocalDiskStorage
from videogen_adapters.storage import local as local_module
from videogen_adapters.storage.keys import TEMP_MARKER
from videogen_core import NotFound, PathNotAllowed, StorageFailed


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    (path / "shots").mkdir(parents=True)
    (path / "shots" / "1.png").write_bytes(b"one")
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.png").write_bytes(b"secret")
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if TEMP_MARKER in p.name)


# ---------------------------------------------------------------- symlinks
def test_file_symlink_pointing_out_is_refused_and_not_listed(root: Path, outside: Path) -> None:
    (root / "shots" / "2.png").symlink_to(outside / "secret.png")
    storage = LocalDiskStorage(root)
    assert storage.list_images("shots") == ["shots/1.png"]
    for operation in (lambda: storage.fetch("shots/2.png", root.parent / "x.png"),
                      lambda: storage.read_bytes("shots/2.png"),
                      lambda: storage.exists("shots/2.png"),
                      lambda: storage.url("shots/2.png")):
        with pytest.raises(PathNotAllowed, match="leaves the storage root"):
            operation()
    assert not (root.parent / "x.png").exists()


def test_directory_symlink_pointing_out_is_refused_for_reads_and_writes(
        root: Path, outside: Path, tmp_path: Path) -> None:
    (root / "escape").symlink_to(outside, target_is_directory=True)
    storage = LocalDiskStorage(root)
    source = tmp_path / "new.png"
    source.write_bytes(b"new")
    with pytest.raises(PathNotAllowed):
        storage.list_images("escape")
    with pytest.raises(PathNotAllowed):
        storage.put(source, "escape/new.png", "image/png")
    with pytest.raises(PathNotAllowed):
        storage.delete("escape/secret.png")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.png"]
    assert (outside / "secret.png").read_bytes() == b"secret"


def test_symlinks_inside_the_root_are_followed(root: Path) -> None:
    (root / "alias").symlink_to(root / "shots", target_is_directory=True)
    (root / "shots" / "3.png").symlink_to(root / "shots" / "1.png")
    storage = LocalDiskStorage(root)
    assert storage.list_images("alias") == ["alias/1.png", "alias/3.png"]
    assert storage.read_bytes("shots/3.png") == b"one"


def test_writes_and_deletes_act_on_a_symlink_not_its_target(root: Path) -> None:
    (root / "shots" / "link.png").symlink_to(root / "shots" / "1.png")
    (root / "shots" / "link2.png").symlink_to(root / "shots" / "1.png")
    storage = LocalDiskStorage(root)
    storage.put_bytes(b"replaced", "shots/link.png")
    assert not (root / "shots" / "link.png").is_symlink()
    assert (root / "shots" / "link.png").read_bytes() == b"replaced"
    storage.delete("shots/link2.png")
    assert not (root / "shots" / "link2.png").exists()
    assert (root / "shots" / "1.png").read_bytes() == b"one"


def test_symlink_loop_is_refused(root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(PathNotAllowed):
        LocalDiskStorage(root).read_bytes("loop/a.png")


def test_root_given_through_a_symlink_still_works(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-data"
    link.symlink_to(root, target_is_directory=True)
    storage = LocalDiskStorage(link)
    assert storage.list_images("shots") == ["shots/1.png"]


# --------------------------------------------------------------- atomicity
def test_failure_mid_write_keeps_the_previous_file_and_no_temp(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "big.png"
    source.write_bytes(b"N" * 100_000)

    def half_then_crash(src: Path, target: Path) -> None:
        Path(target).write_bytes(Path(src).read_bytes()[:50_000])
        raise KeyboardInterrupt  # not even an Exception: the finally still cleans up

    monkeypatch.setattr(local_module, "copy_file", half_then_crash)
    storage = LocalDiskStorage(root)
    with pytest.raises(KeyboardInterrupt):
        storage.put(source, "shots/1.png", "image/png")
    with pytest.raises(KeyboardInterrupt):
        storage.put(source, "shots/new.png", "image/png")
    assert (root / "shots" / "1.png").read_bytes() == b"one"
    assert not (root / "shots" / "new.png").exists()
    assert leftovers(root) == []


def test_hard_crash_mid_write_never_leaves_a_partial_final_file(root: Path,
                                                               tmp_path: Path) -> None:
    """A process killed mid-copy (os._exit: no cleanup at all) leaves at most a
    hidden temp file, which is never listed; the final name is untouched."""
    source = tmp_path / "big.mp4"
    source.write_bytes(b"V" * 200_000)
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from videogen_adapters.storage import LocalDiskStorage, local

        def crash(src, target):
            Path(target).write_bytes(Path(src).read_bytes()[:100_000])
            os._exit(17)

        local.copy_file = crash
        LocalDiskStorage({str(root)!r}).put(Path({str(source)!r}), "shots/final.mp4")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 17, done.stderr.decode()
    assert not (root / "shots" / "final.mp4").exists()
    temps = leftovers(root)
    assert len(temps) == 1 and temps[0].startswith(f"{TEMP_MARKER}final.mp4.")
    storage = LocalDiskStorage(root)
    assert storage.list_images("shots") == ["shots/1.png"]
    assert [o.key for o in storage.list("shots")] == ["shots/1.png"]


def test_written_file_has_usual_permissions(root: Path) -> None:
    storage = LocalDiskStorage(root)
    storage.put_bytes(b"x", "shots/p.png")
    mask = os.umask(0o022)
    os.umask(mask)
    assert (root / "shots" / "p.png").stat().st_mode & 0o777 == 0o666 & ~mask


# ------------------------------------------------------------ disk errors
@pytest.mark.parametrize(
    ("error", "reason"),
    [(OSError(errno.ENOSPC, "No space left on device"), "no space left on device"),
     (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
     (OSError(errno.EROFS, "Read-only file system"), "read-only file system")],
)
def test_disk_errors_become_storage_failed_and_leave_nothing(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError,
        reason: str) -> None:
    source = tmp_path / "v.mp4"
    source.write_bytes(b"v" * 10_000)

    def write_some_then_fail(src: Path, target: Path) -> None:
        Path(target).write_bytes(b"v" * 4096)
        raise error

    monkeypatch.setattr(local_module, "copy_file", write_some_then_fail)
    with pytest.raises(StorageFailed) as caught:
        LocalDiskStorage(root).put(source, "shots/videos/final.mp4", "video/mp4")
    assert caught.value.details["reason"] == reason
    assert caught.value.details["operation"] == "put"
    assert caught.value.__cause__ is error
    assert not (root / "shots" / "videos" / "final.mp4").exists()
    assert leftovers(root) == []


def test_unwritable_directory_is_storage_failed(root: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(StorageFailed, match="permission denied"):
        LocalDiskStorage(root).put_bytes(b"x", "shots/a.png")


def test_fetch_failure_keeps_the_previous_destination(root: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    destination = tmp_path / "local.png"
    destination.write_bytes(b"previous")

    def fail(src: Path, target: Path) -> None:
        Path(target).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local_module, "copy_file", fail)
    with pytest.raises(StorageFailed, match="no space left"):
        LocalDiskStorage(root).fetch("shots/1.png", destination)
    assert destination.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


# -------------------------------------------------------------- layout, urls
def test_layout_images_in_folder_results_under_videos(root: Path) -> None:
    storage = LocalDiskStorage(root)
    storage.put_bytes(b"mp4", "shots/videos/final.mp4", "video/mp4")
    assert (root / "shots" / "videos" / "final.mp4").read_bytes() == b"mp4"
    assert storage.list_images("shots") == ["shots/1.png"]  # videos/ is not an image


def test_missing_root_lists_nothing_and_is_created_on_write(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path / "not" / "yet")
    with pytest.raises(NotFound):
        storage.list_images("f")
    assert storage.list() == []
    storage.put_bytes(b"x", "f/a.png")
    assert storage.list_images("f") == ["f/a.png"]


def test_folder_that_is_a_file_is_not_found(root: Path) -> None:
    with pytest.raises(NotFound):
        LocalDiskStorage(root).list_images("shots/1.png")


def test_default_url_is_a_file_uri(root: Path) -> None:
    storage = LocalDiskStorage(root)
    assert storage.url("shots/1.png") == (root / "shots" / "1.png").resolve().as_uri()


def test_public_base_url_gives_media_urls(root: Path) -> None:
    storage = LocalDiskStorage(root, public_base_url="https://videos.example/app/")
    assert storage.url("shots/videos/final 1.mp4") == (
        "https://videos.example/app/media/shots/videos/final%201.mp4")


def test_path_is_inside_root(root: Path) -> None:
    storage = LocalDiskStorage(root)
    assert storage.path("shots/1.png") == (root / "shots" / "1.png").resolve()
    assert storage.root == root.resolve()


def test_check_refuses_a_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(StorageFailed, match="not a directory"):
        LocalDiskStorage(tmp_path / "file" / "root").check()
    LocalDiskStorage(tmp_path / "will" / "be" / "created").check()
