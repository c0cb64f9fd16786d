"""`videogen demo` and `videogen render` print where the MP4 is, whole (issue 13.6).

Their summary table is cut to 80 columns when stdout is not a terminal (a pipe,
CI logs, pytest's capture); the last line is the video's full location anyway.
Tiny settings (160x90, ultrafast, silent narrator, no music) keep it quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videogen_cli.main import main

pytestmark = pytest.mark.slow


@pytest.fixture
def deep_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / ("a-rather-long-directory-name-" * 3) / "videogen-data"
    for key, value in {"DATA_DIR": str(data), "NARRATOR": "silent", "MUSIC": "none",
                       "WIDTH": "160", "HEIGHT": "90", "PRESET": "ultrafast",
                       "CRF": "30"}.items():
        monkeypatch.setenv(f"VIDEOGEN_{key}", value)
    monkeypatch.chdir(tmp_path)
    return data


def test_demo_and_render_print_the_whole_location(deep_data_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "demo", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("video: ")
    video = Path(lines[-1].removeprefix("video: "))
    assert len(str(video)) > 80  # longer than the table may show
    assert video.is_file() and video.suffix == ".mp4"
    assert video.is_relative_to(deep_data_dir / "demo" / "videos")

    sequence = deep_data_dir / "demo.sequence.json"
    assert json.loads(sequence.read_text())["sequence_data"]
    assert main(["-q", "render", "demo", "-s", str(sequence), "--no-progress"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    rendered = Path(last.removeprefix("video: "))
    assert last.startswith("video: ") and rendered.is_file() and rendered != video

    out = tmp_path / "copies" / "film.mp4"
    assert main(["-q", "render", "demo", "-s", str(sequence), "--no-progress",
                 "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"video: {out.resolve()}"
