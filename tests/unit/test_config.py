"""Settings.from_env: VIDEOGEN_* variables, typed, checked, naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pytest

from videogen_adapters.config import ENV_PREFIX, Settings
from videogen_core import AnimationSettings, AudioSettings, InvalidRequest, VideoSettings


def test_defaults_from_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.storage, s.renderer, s.narrator, s.music, s.executor, s.job_store) == (
        "local", "kenburns", "piper", "synth", "threads", "sqlite")
    assert s.data_dir == Path("videogen-data")
    assert (s.width, s.height, s.fps, s.crf) == (1024, 576, 24, 5)


def test_values_are_converted_to_their_field_types() -> None:
    s = Settings.from_env({
        "VIDEOGEN_WORKERS": "4",
        "VIDEOGEN_FPS": " 30 ",
        "VIDEOGEN_MAX_SPEEDUP": "1.5",
        "VIDEOGEN_BURN_SUBTITLES": "yes",
        "VIDEOGEN_SOFT_SUBTITLES": "0",
        "VIDEOGEN_COMFYUI_FALLBACK": "TRUE",
        "VIDEOGEN_DATA_DIR": "/srv/videogen",
        "VIDEOGEN_VOICE": "  amy  ",
        "VIDEOGEN_STORAGE": "s3",
    })
    assert s.workers == 4 and isinstance(s.workers, int)
    assert s.fps == 30
    assert s.max_speedup == 1.5 and isinstance(s.max_speedup, float)
    assert s.burn_subtitles is True
    assert s.soft_subtitles is False
    assert s.comfyui_fallback is True
    assert s.data_dir == Path("/srv/videogen")
    assert s.voice == "amy"
    assert s.storage == "s3"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True),
     ("0", False), ("false", False), ("NO", False), ("off", False)],
)
def test_bool_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env({"VIDEOGEN_BURN_SUBTITLES": raw}).burn_subtitles is expected


def test_path_expands_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    assert Settings.from_env({"VIDEOGEN_DATA_DIR": "~/media"}).data_dir == Path(
        "/home/someone/media")


def test_empty_values_keep_the_default() -> None:
    assert Settings.from_env({"VIDEOGEN_WORKERS": "", "VIDEOGEN_STORAGE": ""}) == Settings()


def test_other_variables_are_ignored() -> None:
    s = Settings.from_env({"WORKERS": "9", "VIDEOGEN_NO_SUCH_THING": "x", "videogen_workers": "7"})
    assert s == Settings()


def test_overrides_win_over_the_environment() -> None:
    s = Settings.from_env({"VIDEOGEN_WORKERS": "4"}, workers=8)
    assert s.workers == 8


@pytest.mark.parametrize(
    ("name", "raw", "kind"),
    [("VIDEOGEN_WORKERS", "four", "an integer"), ("VIDEOGEN_PORT", "80.5", "an integer"),
     ("VIDEOGEN_MAX_SPEEDUP", "fast", "a number"), ("VIDEOGEN_DUCK_DB", "nan", "a number"),
     ("VIDEOGEN_BURN_SUBTITLES", "maybe", "true or false"),
     ("VIDEOGEN_SOFT_SUBTITLES", "2", "true or false"),
     ("VIDEOGEN_FANOUT_HELPERS", "all", "an integer"),
     ("VIDEOGEN_CHUNK_LEASE", "inf", "a number"),
     ("VIDEOGEN_CHUNK_LEASE", "nan", "a number")],
)
def test_bad_values_name_the_variable(name: str, raw: str, kind: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({name: raw})
    err = info.value
    assert err.field == name
    assert kind in err.reason
    assert err.value == raw
    assert name in err.message and repr(raw) in err.message


@pytest.mark.parametrize(
    ("field", "bad"),
    [("storage", "ftp"), ("renderer", "blender"), ("narrator", "say"), ("music", "radio"),
     ("executor", "dask"), ("job_store", "postgres"), ("image_fit", "stretch"),
     ("cache_shared", "yes")],
)
def test_choices_are_checked(field: str, bad: str) -> None:
    name = ENV_PREFIX + field.upper()
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({name: bad})
    assert info.value.field == name
    assert "must be one of" in info.value.reason
    assert info.value.value == bad


@pytest.mark.parametrize(
    ("field", "good"),
    [("storage", "memory"), ("storage", "gcs"), ("renderer", "comfyui"), ("music", "none"),
     ("executor", "celery"), ("job_store", "redis"), ("image_fit", "contain")],
)
def test_every_listed_choice_is_accepted(field: str, good: str) -> None:
    assert getattr(Settings.from_env({ENV_PREFIX + field.upper(): good}), field) == good


@pytest.mark.parametrize(
    ("name", "raw"),
    [("VIDEOGEN_FANOUT_HELPERS", "-2"), ("VIDEOGEN_FANOUT_HELPERS", "100000"),
     ("VIDEOGEN_CHUNK_LEASE", "0"), ("VIDEOGEN_CHUNK_LEASE", "1e9")],
)
def test_fanout_settings_out_of_range_name_the_variable(name: str, raw: str) -> None:
    """A lease of 0 would let every chunk be claimed twice; a huge one would leave a
    killed worker's chunk waiting for days; a helper count beyond any pool floods
    the queue: each is refused at start, naming the variable."""
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({name: raw})
    assert info.value.field == name and "must be between" in info.value.reason


def test_choices_are_checked_on_direct_construction_too() -> None:
    with pytest.raises(InvalidRequest) as info:
        Settings(storage="nfs")
    assert info.value.field == "VIDEOGEN_STORAGE"


def test_names_lists_every_variable_with_its_default() -> None:
    names = dict(Settings.names())
    assert len(names) == len(attrs.fields(Settings))
    assert names["VIDEOGEN_DATA_DIR"] == "videogen-data"
    assert names["VIDEOGEN_FPS"] == "24"
    assert all(k.startswith("VIDEOGEN_") and k == k.upper() for k in names)


def test_core_settings_built_from_configuration() -> None:
    s = Settings.from_env({"VIDEOGEN_WIDTH": "1280", "VIDEOGEN_HEIGHT": "720",
                           "VIDEOGEN_CRF": "18", "VIDEOGEN_TRANSITION_DURATION": "0.75",
                           "VIDEOGEN_MAX_SCENE_DURATION": "60", "VIDEOGEN_MAX_SPEEDUP": "1.4",
                           "VIDEOGEN_LOUDNESS_LUFS": "-16", "VIDEOGEN_MUSIC_CROSSFADE": "3"})
    video = s.video()
    assert isinstance(video, VideoSettings)
    assert (video.width, video.height, video.fps, video.crf) == (1280, 720, 24, 18)
    assert s.video(fps=30).fps == 30  # the request's fps wins
    animation = s.animation()
    assert isinstance(animation, AnimationSettings)
    assert (animation.transition_duration, animation.max_scene_duration,
            animation.max_speedup) == (0.75, 60.0, 1.4)
    assert dict(animation.movement_limits) == {"3": 1, "5": 2, "7": 3}
    audio = s.audio()
    assert isinstance(audio, AudioSettings)
    assert (audio.loudness_lufs, audio.music_crossfade) == (-16.0, 3.0)


def test_environment_is_not_read_when_a_mapping_is_given(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("VIDEOGEN_WORKERS", "6")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("VIDEOGEN_FPS=30\n")
    assert Settings.from_env({}) == Settings()


def test_os_environ_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIDEOGEN_WORKERS", "6")
    # set then delete, so that monkeypatch restores the original state at teardown
    # even though load_dotenv writes VIDEOGEN_RENDERER into os.environ behind its back
    monkeypatch.setenv("VIDEOGEN_RENDERER", "placeholder")
    monkeypatch.delenv("VIDEOGEN_RENDERER")
    (tmp_path / ".env").write_text("VIDEOGEN_WORKERS=3\nVIDEOGEN_RENDERER=comfyui\n")
    s = Settings.from_env()
    assert s.workers == 6  # the real environment wins over .env
    assert s.renderer == "comfyui"
    os.environ.pop("VIDEOGEN_RENDERER")  # put there by load_dotenv
    assert Settings.from_env(dotenv=False).renderer == "kenburns"


def test_choices_are_case_insensitive_and_ranges_checked_at_load() -> None:
    assert Settings.from_env({"VIDEOGEN_STORAGE": "S3"}).storage == "s3"
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({"VIDEOGEN_FPS": "0"})
    assert info.value.field == "VIDEOGEN_FPS"
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({"VIDEOGEN_WIDTH": "641"})
    assert info.value.field == "VIDEOGEN_WIDTH" and "even" in info.value.reason
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({"VIDEOGEN_WORKERS": "0"})
    assert info.value.field == "VIDEOGEN_WORKERS"


def test_encoder_threads_are_automatic_for_every_renderer() -> None:
    """One way to make video: the muxer's encode is the final one for clip files too
    (it shares the cores out between side-by-side chunks itself), so a ComfyUI job's
    single encoder must not get a side-by-side share (it did: cores ÷ workers)."""
    clips = {"VIDEOGEN_STREAM_CLIPS": "false"}
    assert Settings.from_env({"VIDEOGEN_WORKERS": "2", **clips}).video().threads == 0
    assert Settings.from_env({"VIDEOGEN_WORKERS": "2", "VIDEOGEN_RENDERER": "comfyui"}
                             ).video().threads == 0
    assert Settings.from_env({"VIDEOGEN_WORKERS": "2"}).video().threads == 0
    assert Settings.from_env({"VIDEOGEN_WORKERS": "1"}).video().threads == 0
    assert Settings.from_env({"VIDEOGEN_ENCODER_THREADS": "3"}).video().threads == 3
