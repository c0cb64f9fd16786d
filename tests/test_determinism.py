"""Same inputs + same seed → the same video: frames and narration, across processes.

Before, Piper drew its sampling noise from onnxruntime's generator, whose state
runs on from call to call: each narration's length changed (one script's scene
extension came out 13.99, 14.06, 14.09, 14.12, 14.19 s), and so did the frames.
Each check runs once in this process (after other work) and once in a fresh
interpreter with another hash seed, so nothing may depend on process history.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import pytest
from PIL import Image

from videogen_adapters import process_video_generation

ROOT = Path(__file__).resolve().parents[1]


def fresh_python(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    """stdout of ``code`` run by a new interpreter (another PYTHONHASHSEED)."""
    full = {**os.environ, "PYTHONHASHSEED": "12345", **(env or {})}
    full["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                          full.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, check=True, env=full, timeout=300).stdout.strip()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_espeak_speaks_the_same_bytes_every_time(tmp_path: Path) -> None:
    from videogen_adapters.tts import EspeakNarrator

    text = "Rules, not dice: eSpeak says this the same way each time."
    narrator = EspeakNarrator()
    narrator.synthesize("Warm up with other words first.", tmp_path / "w.wav")
    a = narrator.synthesize(text, tmp_path / "a.wav", seed=1)
    b = narrator.synthesize(text, tmp_path / "b.wav", seed=2)
    code = ("import sys, pathlib, hashlib; from videogen_adapters.tts import EspeakNarrator; "
            "r = EspeakNarrator().synthesize(sys.argv[1], pathlib.Path(sys.argv[2])); "
            "print(hashlib.sha256(r.path.read_bytes()).hexdigest())")
    fresh = fresh_python(code, text, str(tmp_path / "fresh.wav"))
    assert digest(a.path) == digest(b.path) == fresh  # type: ignore[arg-type]


@pytest.mark.parametrize("mood", ["calm", "epic"])
def test_synthesised_music_is_a_function_of_mood_length_and_seed(tmp_path: Path,
                                                                  mood: str) -> None:
    from videogen_adapters.config import Settings
    from videogen_adapters.music import build_music_source

    source = build_music_source(Settings())
    source.compose("happy", 3.0, tmp_path / "w.wav", seed=99)
    here = source.compose(mood, 6.0, tmp_path / "a.wav", seed=5)
    code = ("import sys, pathlib, hashlib; from videogen_adapters.music import "
            "build_music_source; from videogen_adapters.config import Settings; "
            "r = build_music_source(Settings()).compose(sys.argv[1], 6.0, "
            "pathlib.Path(sys.argv[2]), seed=5); "
            "print(hashlib.sha256(r.path.read_bytes()).hexdigest())")
    assert digest(here.path) == fresh_python(code, mood, str(tmp_path / "fresh.wav"))


BODY = {
    "sequence_data": [
        {"scene_number": 1, "narration": "A long first sentence, spoken over a short "
         "scene, so the scene has to stretch to fit it.", "duration": 2.0,
         "clip_action": "zoom in", "music_mood": "calm"},
        {"scene_number": 2, "narration": "And then the second picture.", "duration": 2.5,
         "clip_action": "pan left", "music_mood": "calm"},
    ],
    "generation_params": {"transition_type": "crossfade", "seed": 11, "fps": 12},
}

RUN = ("import json, sys; from videogen_adapters import process_video_generation; "
       "print(json.dumps(process_video_generation('trip', json.loads(sys.argv[1]))))")


def decoded(url: str) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Every decoded video frame, the decoded audio, and the container's duration."""
    path = Path(unquote(urlparse(url).path))
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=-1)
        duration = float(container.duration or 0) / 1e6
    return frames, audio, duration


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_runs_with_the_same_seed_give_identical_frames_and_audio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    (data / "trip").mkdir(parents=True)
    rng = np.random.default_rng(3)
    for n in (1, 2):
        pixels = rng.integers(0, 255, (240, 360, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(data / "trip" / f"scene_{n}.png")
    env = {"VIDEOGEN_DATA_DIR": str(data), "VIDEOGEN_WIDTH": "320", "VIDEOGEN_HEIGHT": "180",
           "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_WORKERS": "2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    ok, first_url = process_video_generation("trip", BODY)
    assert ok
    ok2, second_url = json.loads(fresh_python(RUN, json.dumps(BODY), env=env))
    assert ok2 and second_url != first_url  # two stored videos
    frames_a, audio_a, duration_a = decoded(first_url)
    frames_b, audio_b, duration_b = decoded(second_url)
    assert duration_a == duration_b and duration_a > 4.0  # scene 1 was extended, the same
    assert len(frames_a) == len(frames_b)
    assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b, strict=True))
    assert audio_a.shape == audio_b.shape and np.array_equal(audio_a, audio_b)
    assert float(np.abs(audio_a).max()) > 0.05  # narration and music are there
