"""The main job end to end with the real embedded defaults: local disk, Ken Burns,
Piper, synthesised music, the ffmpeg muxer — through the seed's orchestrator and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import pytest
from PIL import Image

from videogen_adapters import process_video_generation
from videogen_adapters.orchestrator import generate
from videogen_cli.main import build_parser, main
from videogen_core import MissingImage, Timeline

pytestmark = pytest.mark.slow

BODY = {
    "sequence_data": [
        {"scene_number": 1, "narration": "The first picture.", "duration": 2.5,
         "clip_action": "zoom in, pan left", "music_mood": "calm"},
        {"scene_number": 2, "narration": "", "duration": 2.0,
         "clip_action": "slow pan right", "music_mood": "calm"},
        {"scene_number": 3, "narration": "And the last one.", "duration": 2.5,
         "clip_action": "static", "music_mood": "happy"},
    ],
    "generation_params": {"transition_type": "crossfade", "seed": 7, "fps": 24},
}


def _photo(path: Path, size: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)], -1)
    noise = rng.normal(0, 25, (h, w, 3))
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(path)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    folder = data / "trip"
    folder.mkdir(parents=True)
    for n, size in ((1, (640, 480)), (2, (500, 700)), (3, (900, 300))):
        _photo(folder / f"scene_{n}.png", size, n)
    for key, value in {"DATA_DIR": str(data), "WIDTH": "320", "HEIGHT": "180",
                       "PRESET": "ultrafast", "WORKERS": "2"}.items():
        monkeypatch.setenv(f"VIDEOGEN_{key}", value)
    monkeypatch.chdir(tmp_path)
    return data


def _local(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def test_seed_orchestrator_makes_a_narrated_scored_video(data_dir: Path) -> None:
    ok, url = process_video_generation("trip", BODY)
    assert ok is True
    video = _local(url)
    assert video.is_file() and video.parent == data_dir / "trip" / "videos"
    expected = Timeline.build([2.5, 2.0, 2.5], "crossfade", 0.5).total
    with av.open(str(video)) as container:
        kinds = sorted(s.type for s in container.streams)
        # "data": the QuickTime chapter track, one chapter per scene
        assert kinds == ["audio", "data", "subtitle", "video"]
        assert len(container.chapters()) == 3
        vs = container.streams.video[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (320, 180)
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == round(expected * 24)
    with av.open(str(video)) as container:
        samples = [f.to_ndarray() for f in container.decode(audio=0)]
        rate = container.streams.audio[0].codec_context.sample_rate
    audio = np.concatenate(samples, axis=-1)
    assert audio.shape[-1] / rate == pytest.approx(expected, abs=0.05)
    assert float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) > 0.01
    captions = video.with_suffix(".srt").read_text(encoding="utf-8")
    assert "The first picture." in captions and "And the last one." in captions


def test_generate_reports_dropped_movements_and_measured_duration(data_dir: Path) -> None:
    result = generate("trip", BODY)
    assert any("scene 1: dropped movement(s) pan left" in w for w in result.warnings)
    assert result.duration == pytest.approx(6.0, abs=1 / 24)
    assert result.scenes == 3
    assert result.timestamp.endswith("Z")
    assert [r.scene_number for r in result.scene_reports] == [1, 2, 3]


def test_missing_image_fails_cleanly_and_stores_nothing(data_dir: Path) -> None:
    (data_dir / "trip" / "scene_3.png").unlink()
    body = json.loads(json.dumps(BODY))
    body["sequence_data"][2]["scene_number"] = 9
    with pytest.raises(MissingImage) as info:
        generate("trip", body)
    assert "scene 9" in str(info.value) and "scene_1.png" in str(info.value)
    assert process_video_generation("trip", body) == (False, "")
    assert not (data_dir / "trip" / "videos").exists() or not any(
        (data_dir / "trip" / "videos").iterdir())


def test_bad_request_is_false_not_an_exception(data_dir: Path) -> None:
    body = json.loads(json.dumps(BODY))
    body["sequence_data"][1]["duration"] = "two"
    assert process_video_generation("trip", body) == (False, "")
    assert process_video_generation("../etc", BODY) == (False, "")


def test_cli_render_folder_path_copies_output(data_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere" / "shots"
    outside.mkdir(parents=True)
    for n in (1, 2, 3):
        (outside / f"{n:03d}.png").write_bytes((data_dir / "trip" / f"scene_{n}.png").read_bytes())
    sequence = tmp_path / "seq.json"
    body = json.loads(json.dumps(BODY))
    body["generation_params"]["transition_type"] = "fade"
    sequence.write_text(json.dumps(body))
    out = tmp_path / "out" / "film.mp4"
    code = main(["-q", "render", str(outside), "-s", str(sequence), "-o", str(out),
                 "--no-progress", "--json"])
    assert code == 0
    response = json.loads(capsys.readouterr().out)
    assert response["success"] is True
    assert response["metadata"]["scenes"] == 3
    assert response["metadata"]["duration"] == pytest.approx(7.0, abs=1 / 24)
    assert out.is_file() and out.stat().st_size > 10_000


def test_cli_errors_name_the_field_without_a_traceback(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.loads(json.dumps(BODY))
    body["generation_params"]["seed"] = -1
    sequence = tmp_path / "bad.json"
    sequence.write_text(json.dumps(body))
    assert main(["-q", "render", "trip", "-s", str(sequence), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "generation_params.seed" in err and "Traceback" not in err
    assert main(["-q", "render", "trip", "-s", str(tmp_path / "missing.json")]) == 2


@pytest.mark.parametrize("command", ["render", "demo", "doctor", "serve", "worker"])
def test_every_command_explains_itself(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert f"videogen {command}" in text and len(text) > 200
