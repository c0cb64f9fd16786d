"""A folder that does not exist is reported as such, with where it was looked for (13.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videogen_adapters.storage import InMemoryStorage, LocalDiskStorage
from videogen_adapters.storage.local import locate_folder
from videogen_cli.main import main
from videogen_core import NotFound

SEQUENCE = {"sequence_data": [{"scene_number": 1, "narration": "Hi.", "duration": 2,
                               "clip_action": "static", "music_mood": "calm"}],
            "generation_params": {"transition_type": "none", "seed": 1, "fps": 24}}


def test_existing_directories(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "trip").mkdir(parents=True)
    (tmp_path / "elsewhere" / "hols").mkdir(parents=True)
    assert locate_folder(str(data / "trip"), data) == (None, "trip")
    assert locate_folder(str(tmp_path / "elsewhere" / "hols"), data) == (
        (tmp_path / "elsewhere").resolve(), "hols")
    assert locate_folder("trip", data) == (None, "trip")  # a bare id: the storage decides


@pytest.mark.parametrize("argument", ["/nowhere/at/all/trip", "./trip", "../trip",
                                      "photos/trip", "~/no-such-videogen-folder"])
def test_a_missing_path_is_not_found_not_path_not_allowed(tmp_path: Path, argument: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound) as info:
        locate_folder(argument, tmp_path / "data")
    assert "does not exist" in info.value.message
    assert "looked for /" in info.value.message  # the absolute local path (CLI only)


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(NotFound, match="is not a directory"):
        locate_folder(str(tmp_path / "x.png"), tmp_path)


@pytest.mark.parametrize("storage", [LocalDiskStorage, InMemoryStorage])
def test_storage_says_where_it_looked_relative_to_itself(tmp_path: Path, storage: type) -> None:
    store = storage(tmp_path) if storage is LocalDiskStorage else storage()
    with pytest.raises(NotFound) as info:
        store.list_images("trip")
    assert info.value.details["looked_for"] == "trip/"
    assert "'trip/'" in info.value.message and str(tmp_path) not in info.value.message


@pytest.mark.parametrize("argument", ["/nowhere/at/all/trip", "./trip"])
def test_cli_render_of_a_missing_folder_path(tmp_path: Path, argument: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seq.json").write_text(json.dumps(SEQUENCE))
    code = main(["--data-dir", str(tmp_path / "data"), "render", argument,
                 "--sequence", str(tmp_path / "seq.json"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error [not_found]" in err and "does not exist" in err
    assert "path_not_allowed" not in err and "segment" not in err and "absolute" not in err


def test_cli_render_of_a_missing_folder_id_shows_the_local_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seq.json").write_text(json.dumps(SEQUENCE))
    code = main(["--data-dir", str(tmp_path / "data"), "render", "trip",
                 "--sequence", str(tmp_path / "seq.json"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "folder 'trip' does not exist" in err
    assert str((tmp_path / "data").resolve() / "trip") in err
