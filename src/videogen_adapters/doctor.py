"""``videogen doctor``: check that every configured backend answers."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .config import Settings

__all__ = ["run_checks"]

Check = tuple[str, bool, str]


def _ffmpeg(settings: Settings) -> str:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                         timeout=20, check=True).stdout
    return f"{exe} ({out.split(chr(10))[0]})"


def _pyav(settings: Settings) -> str:
    import av

    return f"PyAV {av.__version__}"


def _narrator(settings: Settings) -> str:
    from .tts import build_narrator

    narrator = build_narrator(settings)
    with tempfile.TemporaryDirectory() as tmp:
        speech = narrator.synthesize("Check.", Path(tmp) / "check.wav",
                                     voice=settings.voice or None)
    return f"{settings.narrator}: {speech.duration:.2f} s of speech ({speech.provider or ''})"


def _music(settings: Settings) -> str:
    if settings.music == "none":
        return "music disabled"
    from .music import build_music_source

    source = build_music_source(settings)
    check = getattr(source, "check", None)
    if check is not None:
        check()
    return f"{settings.music}: moods {', '.join(source.moods()[:6])}…"


def _storage(settings: Settings) -> str:
    from .storage import build_storage

    storage = build_storage(settings)
    check = getattr(storage, "check", None)
    if check is not None:
        check()
    else:
        storage.exists("videogen-doctor/probe.txt")
    return f"{settings.storage} answers"


def _comfyui(settings: Settings) -> str:
    from .comfyui import build_comfyui_renderer

    renderer = build_comfyui_renderer(settings)
    renderer.check()  # answers, and has every node class of the workflow
    return f"{settings.comfyui_url} has every node of workflow {settings.comfyui_workflow!r}"


def _broker(settings: Settings) -> str:
    import redis

    redis.Redis.from_url(settings.broker_url, socket_timeout=3).ping()
    return f"{settings.broker_url} answers PING"


def run_checks(settings: Settings) -> list[Check]:
    """(name, ok, detail) for every backend the settings select."""
    checks: list[tuple[str, Callable[[Settings], str]]] = [
        ("ffmpeg", _ffmpeg), ("PyAV", _pyav), ("narrator", _narrator), ("music", _music),
        ("storage", _storage),
    ]
    if settings.renderer == "comfyui":
        checks.append(("ComfyUI", _comfyui))
    if settings.executor == "celery":
        checks.append(("broker", _broker))
    results: list[Check] = []
    for name, check in checks:
        try:
            results.append((name, True, check(settings)))
        except Exception as exc:  # noqa: BLE001 - doctor reports every failure
            results.append((name, False, f"{type(exc).__name__}: {exc}"))
    return results
