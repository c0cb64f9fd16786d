"""Per-job output formats end to end: every aspect ratio x resolution through the
seed's ``process_video_generation`` and through HTTP, with the real Ken Burns
renderer and ffmpeg muxer — the delivered file's size, sample aspect ratio
(square pixels) and frame count. Tiny clips, the silent narrator, no music."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import av
import numpy as np
import pytest
from PIL import Image

from videogen_adapters import process_video_generation
from videogen_adapters.config import Settings
from videogen_core import ASPECT_RATIOS, RESOLUTIONS, frame_size

pytestmark = pytest.mark.slow

FORMATS = list(itertools.product(ASPECT_RATIOS, RESOLUTIONS))
EXPECTED = {
    ("16:9", "576p"): (1024, 576), ("16:9", "720p"): (1280, 720), ("16:9", "1080p"): (1920, 1080),
    ("9:16", "576p"): (576, 1024), ("9:16", "720p"): (720, 1280), ("9:16", "1080p"): (1080, 1920),
    ("1:1", "576p"): (576, 576), ("1:1", "720p"): (720, 720), ("1:1", "1080p"): (1080, 1080),
    ("4:5", "576p"): (576, 720), ("4:5", "720p"): (720, 900), ("4:5", "1080p"): (1080, 1350),
}
FRAMES = 6  # 0.25 s at 24 fps
SQUARE = Fraction(1, 1)  # the sample aspect ratio written in the stream


def body(aspect: str | None, resolution: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"transition_type": "none", "seed": 3, "fps": 24}
    if aspect is not None:
        params["aspect_ratio"] = aspect
    if resolution is not None:
        params["resolution"] = resolution
    return {"sequence_data": [{"scene_number": 1, "narration": "", "duration": 0.25,
                               "clip_action": "zoom in", "music_mood": "calm"}],
            "generation_params": params}


def measure(path: Path) -> tuple[int, int, Fraction | None, int]:
    """(width, height, sample aspect ratio, decoded frames) of a delivered file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        sar = stream.codec_context.sample_aspect_ratio  # None when the file leaves it unset
        frames = sum(1 for _ in container.decode(stream))
        return stream.width, stream.height, sar, frames


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    (data / "trip").mkdir(parents=True)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(
        data / "trip" / "scene_1.png")
    for key, value in {"DATA_DIR": str(data), "PRESET": "ultrafast", "NARRATOR": "silent",
                       "MUSIC": "none", "WORKERS": "2"}.items():
        monkeypatch.setenv(f"VIDEOGEN_{key}", value)
    monkeypatch.chdir(tmp_path)
    return data


def local(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def test_the_table_is_the_rule() -> None:
    assert {f: frame_size(*f) for f in FORMATS} == EXPECTED
    assert all(w % 2 == 0 and h % 2 == 0 for w, h in EXPECTED.values())


@pytest.mark.parametrize(("aspect", "resolution"), FORMATS)
def test_process_video_generation_delivers_the_format(data_dir: Path, aspect: str,
                                                      resolution: str) -> None:
    ok, url = process_video_generation("trip", body(aspect, resolution))
    assert ok, url
    assert measure(local(url)) == (*EXPECTED[aspect, resolution], SQUARE, FRAMES)


def test_no_format_keeps_the_configured_size(data_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ok, url = process_video_generation("trip", body(None, None))
    assert ok and measure(local(url))[:3] == (1024, 576, SQUARE)  # the seed's default
    monkeypatch.setenv("VIDEOGEN_WIDTH", "320")
    monkeypatch.setenv("VIDEOGEN_HEIGHT", "240")
    ok, url = process_video_generation("trip", body(None, None))
    assert ok and measure(local(url))[:2] == (320, 240)  # the server-wide default
    ok, url = process_video_generation("trip", body("9:16", None))
    assert ok and measure(local(url))[:2] == (576, 1024)  # a job's format wins


@pytest.fixture
def client(data_dir: Path) -> Any:
    from tests.unit.http.openapi_check import ValidatingClient

    from videogen_http import create_app

    app = create_app(Settings.from_env(storage="local", job_store="sqlite"))
    app.test_client_class = ValidatingClient
    yield app.test_client()
    app.extensions["videogen"].close()


@pytest.mark.parametrize(("aspect", "resolution"), FORMATS)
def test_http_delivers_the_format(client: Any, data_dir: Path, aspect: str,
                                  resolution: str) -> None:
    response = client.post("/generateVideos/trip", json=body(aspect, resolution))
    assert response.status_code == 200, response.get_json()
    key = urlparse(response.get_json()["video_url"]).path.removeprefix("/media/")
    assert measure(data_dir / unquote(key)) == (*EXPECTED[aspect, resolution], SQUARE, FRAMES)


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("aspect_ratio", "3:2", "16:9, 9:16, 1:1, 4:5"),
    ("resolution", "4k", "576p, 720p, 1080p"),
])
def test_http_unknown_format_is_a_400_naming_the_field(client: Any, field: str, value: str,
                                                        allowed: str) -> None:
    bad = body(None, None)
    bad["generation_params"][field] = value
    response = client.post("/generateVideos/trip", json=bad)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["details"]["field"] == f"generation_params.{field}"
    assert allowed in error["message"] and "\n" not in error["message"]


def test_http_bad_focus_is_a_400_naming_the_scene(client: Any) -> None:
    bad = body(None, None)
    bad["sequence_data"][0]["focus"] = [0.5, 1.5]
    response = client.post("/generateVideos/trip", json=bad)
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "sequence_data[0].focus"


def test_cli_aspect_and_resolution(data_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from videogen_cli.main import main

    sequence = tmp_path / "seq.json"
    sequence.write_text(json.dumps(body("16:9", None)))  # the options win over the file
    out = tmp_path / "short.mp4"
    assert main(["-q", "render", "trip", "-s", str(sequence), "-o", str(out), "--no-progress",
                 "--json", "--aspect", "9:16", "--resolution", "720p"]) == 0
    assert json.loads(capsys.readouterr().out)["success"] is True
    assert measure(out) == (720, 1280, SQUARE, FRAMES)


def test_cli_unknown_aspect_is_a_one_line_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from videogen_cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["render", "trip", "-s", str(tmp_path / "x.json"), "--aspect", "3:2"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--aspect" in last and "'16:9', '9:16', '1:1', '4:5'" in last
